// The TrustStore contract (src/server/store.ts, ADR 0020 and 0026): every method and rule of the
// port as node:test tests, run against each adapter (test/server/store-contract.test.js: the
// memory and SQLite stores; issue 15's PostgreSQL store the same way). Each rule has a test a
// broken adapter fails: half-committed appends, no mutex, no commit-time re-check, shared
// buffers, a wrong expiry order, a close that does not wait.
//
// storeContract(name, open, { peer })
//   open(t, options) → a migrated TrustStore; options: { now, lockTimeoutMs, maxMetaBytes,
//     maxTargetFileBytes }; the contract closes it (close is idempotent).
//   peer(t, store) → optional: another store on the same data with its own mutex (another
//     server process on the same database), for the commit-time re-check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metaUpdates, stateOf } from '../../dist/server/store.js';
import { validateUpload } from '../../dist/server/validate.js';
import { addBundle, parse, twoStates } from './upload.js';
import { T0, append, doc, file, meta, sha } from './store-contract-kit.js';
import { storeWriteContract } from './store-contract-writes.js';

export function storeContract(name, open, options = {}) {
  const opened = async (t, o = {}) => {
    const store = await open(t, { now: () => T0, ...o });
    t.after(() => store.close());
    return store;
  };
  readContract(name, opened);
  storeWriteContract(name, opened, options.peer);
}

function readContract(name, open) {
  test(`${name}: reads by current, version and checksum; currentState; createdAt, expiresAt`, async (t) => {
    const store = await open(t);
    await store.migrate();
    await store.ping();
    const t1 = meta('targets', 1, '2027-05-06T07:08:09Z');
    const { stored } = await append(store, 'acme/app', [meta('root', 1), t1]);
    assert.deepEqual(
      stored.map((m) => [m.role, m.version, m.sha256, m.createdAt.getTime()]),
      [
        ['root', 1, sha(doc('root', 1)), T0.getTime()],
        ['targets', 1, sha(t1.bytes), T0.getTime()],
      ],
    );
    const t2 = meta('targets', 2);
    await append(store, 'acme/app', [t2]);
    const cur = await store.getCurrent('acme/app', 'targets');
    assert.equal(cur.role, 'targets');
    assert.equal(cur.version, 2);
    assert.equal(cur.sha256, sha(t2.bytes));
    assert.ok(Buffer.from(cur.bytes).equals(t2.bytes));
    assert.equal(cur.createdAt.getTime(), T0.getTime());
    assert.equal(cur.expiresAt.toISOString(), '2030-01-01T00:00:00.000Z');
    const v1 = await store.getVersion('acme/app', 'targets', 1);
    assert.ok(Buffer.from(v1.bytes).equals(t1.bytes));
    assert.equal(v1.expiresAt.toISOString(), '2027-05-06T07:08:09.000Z');
    // By checksum: case-insensitive, per role, any stored version.
    assert.equal((await store.getChecksum('acme/app', 'targets', sha(t1.bytes).toUpperCase())).version, 1);
    assert.equal((await store.getChecksum('acme/app', 'targets', sha(t2.bytes))).version, 2);
    assert.equal(await store.getChecksum('acme/app', 'root', sha(t1.bytes)), undefined);
    assert.equal(await store.getChecksum('acme/other', 'targets', sha(t1.bytes)), undefined);
    assert.equal(await store.getVersion('acme/app', 'targets', 3), undefined);
    assert.equal(await store.getCurrent('acme/app', 'snapshot'), undefined);
    assert.equal(await store.getCurrent('acme/other', 'targets'), undefined);
    const state = await store.currentState('acme/app');
    assert.deepEqual(Object.keys(state).sort(), ['root', 'targets']);
    assert.ok(Buffer.from(state.targets).equals(t2.bytes));
    assert.deepEqual(await store.currentState('acme/none'), {});
  });

  test(`${name}: repositories are separate, a name that prefixes another included`, async (t) => {
    const store = await open(t);
    await append(store, 'a/b', [meta('root', 1)], [file('p', 'ab')]);
    await append(store, 'a/bc', [meta('root', 1), meta('root', 2)], [file('p', 'abc')]);
    assert.equal((await store.getCurrent('a/b', 'root')).version, 1);
    assert.equal(await store.getVersion('a/b', 'root', 2), undefined);
    assert.deepEqual(await store.currentState('a'), {});
    assert.equal(Buffer.from((await store.getTargetFile('a/b', 'p')).bytes).toString(), 'ab');
    assert.equal(await store.deleteRepo('a/b'), true);
    assert.equal((await store.getCurrent('a/bc', 'root')).version, 2);
    assert.ok(await store.getTargetFile('a/bc', 'p'));
  });

  test(`${name}: bytes are copied in and out; a role without expiry has none`, async (t) => {
    const store = await open(t);
    const bytes = Buffer.from('{"signed":{}}');
    const original = Buffer.from(bytes);
    const target = Buffer.from('layout');
    await store.transact('r', async (tx) => {
      tx.append([{ role: 'targets', version: 1, bytes }]);
      tx.appendTargetFile([{ path: 'l', bytes: target }]);
    });
    bytes.fill(0x20);
    target.fill(0x20);
    const read = await store.getCurrent('r', 'targets');
    assert.ok(Buffer.from(read.bytes).equals(original), 'a caller changing its buffer changes nothing');
    assert.equal(read.sha256, sha(original));
    assert.equal(read.expiresAt, undefined);
    read.bytes.fill(0x21);
    (await store.getTargetFile('r', 'l')).bytes.fill(0x21);
    (await store.currentState('r')).targets.fill(0x21);
    assert.ok(Buffer.from((await store.getVersion('r', 'targets', 1)).bytes).equals(original));
    assert.equal(Buffer.from((await store.getTargetFile('r', 'l')).bytes).toString(), 'layout');
  });

  test(`${name}: target files by path and by checksum; stored again, bytes are the latest again`, async (t) => {
    const store = await open(t);
    const p = 'acme/app/in-toto-metadata/root.layout';
    const a = Buffer.from('layout A');
    const b = Buffer.from('layout B');
    await append(store, 'acme/app', [], [{ path: p, bytes: a }]);
    await append(store, 'acme/app', [], [{ path: p, bytes: b }]);
    const latest = await store.getTargetFile('acme/app', p);
    assert.deepEqual([latest.path, latest.sha256, latest.createdAt.getTime()], [p, sha(b), T0.getTime()]);
    assert.ok(Buffer.from(latest.bytes).equals(b));
    assert.ok(Buffer.from((await store.getTargetFile('acme/app', p, sha(a).toUpperCase())).bytes).equals(a));
    await append(store, 'acme/app', [], [{ path: p, bytes: a }]);
    assert.equal((await store.getTargetFile('acme/app', p)).sha256, sha(a));
    assert.equal((await store.getTargetFile('acme/app', p, sha(b))).sha256, sha(b));
    assert.equal(await store.getTargetFile('acme/other', p), undefined);
    assert.equal(await store.getTargetFile('acme/app', `${p}x`), undefined);
    assert.equal(await store.getTargetFile('acme/app', p, sha(Buffer.from('x'))), undefined);
    // Several files in one transaction, the last of a path is its latest.
    await append(store, 'acme/app', [], [file('q', '1'), file('q', '2'), file('s', '3')]);
    assert.equal(Buffer.from((await store.getTargetFile('acme/app', 'q')).bytes).toString(), '2');
    assert.equal(Buffer.from((await store.getTargetFile('acme/app', 'q', sha('1'))).bytes).toString(), '1');
    assert.ok(await store.getTargetFile('acme/app', 's'));
  });

  test(`${name}: listExpiring: current roles only, strictly before, soonest first, limited`, async (t) => {
    const store = await open(t);
    await append(store, 'a', [meta('timestamp', 1, '2026-01-01T00:00:00Z')]);
    await append(store, 'a', [
      meta('timestamp', 2, '2026-03-01T00:00:00Z'),
      meta('root', 1, '2027-01-01T00:00:00Z'),
    ]);
    await append(store, 'b', [
      meta('timestamp', 1, '2026-02-01T00:00:00Z'),
      meta('snapshot', 1, '2026-02-15T00:00:00Z'),
    ]);
    // Same expiry: by repository, then role.
    await append(store, 'c', [
      meta('timestamp', 1, '2026-02-15T00:00:00Z'),
      meta('snapshot', 1, '2026-02-15T00:00:00Z'),
    ]);
    await append(store, 'd', [{ role: 'timestamp', version: 1, bytes: Buffer.from('{}') }]);
    const row = (e) => [e.repo, e.role, e.version, e.expiresAt.toISOString().slice(0, 10)];
    const all = await store.listExpiring(new Date('2026-06-01T00:00:00Z'), 10);
    assert.deepEqual(all.map(row), [
      ['b', 'timestamp', 1, '2026-02-01'],
      ['b', 'snapshot', 1, '2026-02-15'],
      ['c', 'snapshot', 1, '2026-02-15'],
      ['c', 'timestamp', 1, '2026-02-15'],
      ['a', 'timestamp', 2, '2026-03-01'],
    ]);
    assert.deepEqual(
      (await store.listExpiring(new Date('2026-06-01T00:00:00Z'), 2)).map(row),
      all.slice(0, 2).map(row),
    );
    assert.deepEqual(await store.listExpiring(new Date('2026-06-01T00:00:00Z'), 0), []);
    // An expiry equal to the bound is not before it.
    assert.deepEqual((await store.listExpiring(new Date('2026-02-15T00:00:00Z'), 10)).map(row), [
      all.map(row)[0],
    ]);
    assert.deepEqual(await store.listExpiring(new Date('2026-01-15T00:00:00Z'), 10), []);
  });

  test(`${name}: deleteRepo removes metadata and target files of one repository`, async (t) => {
    const store = await open(t);
    await append(store, 'a', [meta('root', 1), meta('targets', 1)], [file('x', 'x')]);
    await append(store, 'b', [meta('root', 1)], [file('x', 'x')]);
    await append(store, 'files-only', [], [file('y', 'y')]);
    assert.equal(await store.deleteRepo('a'), true);
    assert.deepEqual(await store.currentState('a'), {});
    assert.equal(await store.getTargetFile('a', 'x'), undefined);
    assert.equal(await store.getVersion('a', 'root', 1), undefined);
    assert.equal(await store.getChecksum('a', 'root', sha(doc('root', 1))), undefined);
    assert.deepEqual(
      await store.listExpiring(new Date('2031-01-01T00:00:00Z'), 10).then((l) => l.map((e) => e.repo)),
      ['b'],
    );
    assert.deepEqual(Object.keys(await store.currentState('b')), ['root']);
    assert.ok(await store.getTargetFile('b', 'x'));
    assert.equal(await store.deleteRepo('a'), false);
    assert.equal(await store.deleteRepo('never'), false);
    assert.equal(await store.deleteRepo('files-only'), true);
    assert.equal(await store.getTargetFile('files-only', 'y'), undefined);
    // A deleted repository starts again at version 1.
    await append(store, 'a', [meta('root', 1)]);
    assert.equal((await store.getCurrent('a', 'root')).version, 1);
  });

  test(`${name}: validateUpload on currentState; what it accepted commits as metaUpdates`, async (t) => {
    const { before, after, upload } = await twoStates(t, addBundle);
    const store = await open(t);
    const initial = Object.entries(before).map(([role, bytes]) => ({
      role,
      version: parse(bytes).signed.version,
      bytes,
    }));
    await store.transact('acme/app', async (tx) => tx.append(metaUpdates(initial)));
    const result = await store.transact('acme/app', async (tx) => {
      const r = validateUpload(stateOf(await tx.currentAll()), upload, { now: new Date() });
      assert.equal(r.ok, true, r.ok ? '' : r.refusal.message);
      tx.append(metaUpdates(r.accepted));
      return r.accepted.map((a) => a.role);
    });
    assert.deepEqual(
      result.stored.map((m) => m.role),
      result.value,
    );
    const state = await store.currentState('acme/app');
    for (const [role, bytes] of Object.entries(after))
      assert.ok(Buffer.from(state[role]).equals(bytes), role);
    const ts = await store.getCurrent('acme/app', 'timestamp');
    assert.equal(ts.expiresAt.toISOString().replace('.000Z', 'Z'), parse(after.timestamp).signed.expires);
  });
}
