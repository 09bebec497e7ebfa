// The embedded TrustStore (src/server/sqlite-store.ts, ADR 0020) on a temporary file: reads,
// atomic appends, VERSION_CONFLICT, the per-repository mutex, expiry listing, deletion,
// migrations, limits, and three processes racing on one file (test/helpers/store-racer.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { expiresOf, metaUpdates, stateOf } from '../../dist/server/store.js';
import { validateUpload } from '../../dist/server/validate.js';
import { tempDir } from '../helpers/tmp.js';
import { addBundle, parse, twoStates } from '../helpers/upload.js';

const RACER = fileURLToPath(new URL('../helpers/store-racer.js', import.meta.url));
const T0 = new Date('2026-01-01T00:00:00Z');
const sha = (b) => createHash('sha256').update(b).digest('hex');
const doc = (role, version, expires = '2030-01-01T00:00:00Z') =>
  Buffer.from(JSON.stringify({ signed: { _type: role, version, expires }, signatures: [] }));
const meta = (role, version, expires) => {
  const bytes = doc(role, version, expires);
  return { role, version, bytes, expiresAt: expiresOf(role, bytes) };
};

async function open(t, options = {}) {
  const dir = options.dir ?? (await tempDir(t, 'cnabsec-store-'));
  const store = await openSqliteStore({ path: path.join(dir, 'server.db'), now: () => T0, ...options });
  t.after(() => store.close());
  return { store, dir, file: path.join(dir, 'server.db') };
}

const append = (store, repo, updates, targets = []) =>
  store.transact(repo, async (tx) => {
    tx.append(updates);
    tx.appendTargetFile(targets);
  });

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

test('reads: current, by version, by checksum, currentState; createdAt and expiresAt', async (t) => {
  const { store } = await open(t);
  const t1 = meta('targets', 1, '2027-05-06T07:08:09Z');
  const { stored } = await append(store, 'acme/app', [meta('root', 1), t1]);
  assert.deepEqual(
    stored.map((m) => [m.role, m.version, m.sha256]),
    [
      ['root', 1, sha(doc('root', 1))],
      ['targets', 1, sha(t1.bytes)],
    ],
  );
  const t2 = meta('targets', 2);
  await append(store, 'acme/app', [t2]);
  const cur = await store.getCurrent('acme/app', 'targets');
  assert.equal(cur.version, 2);
  assert.ok(Buffer.from(cur.bytes).equals(t2.bytes));
  assert.equal(cur.createdAt.getTime(), T0.getTime());
  assert.equal(cur.expiresAt.toISOString(), '2030-01-01T00:00:00.000Z');
  const v1 = await store.getVersion('acme/app', 'targets', 1);
  assert.ok(Buffer.from(v1.bytes).equals(t1.bytes));
  assert.equal(v1.expiresAt.toISOString(), '2027-05-06T07:08:09.000Z');
  const bySha = await store.getChecksum('acme/app', 'targets', sha(t1.bytes).toUpperCase());
  assert.equal(bySha.version, 1);
  assert.equal(await store.getChecksum('acme/app', 'root', sha(t1.bytes)), undefined);
  assert.equal(await store.getVersion('acme/app', 'targets', 3), undefined);
  assert.equal(await store.getCurrent('acme/other', 'targets'), undefined);
  const state = await store.currentState('acme/app');
  assert.deepEqual(Object.keys(state).sort(), ['root', 'targets']);
  assert.ok(Buffer.from(state.targets).equals(t2.bytes));
  assert.deepEqual(await store.currentState('acme/none'), {});
});

test('target files: latest by path, by checksum, re-stored bytes become latest again', async (t) => {
  const { store } = await open(t);
  const a = Buffer.from('layout A');
  const b = Buffer.from('layout B');
  const p = 'acme/app/in-toto-metadata/root.layout';
  await append(store, 'acme/app', [], [{ path: p, bytes: a }]);
  await append(store, 'acme/app', [], [{ path: p, bytes: b }]);
  assert.ok(Buffer.from((await store.getTargetFile('acme/app', p)).bytes).equals(b));
  assert.ok(Buffer.from((await store.getTargetFile('acme/app', p, sha(a))).bytes).equals(a));
  await append(store, 'acme/app', [], [{ path: p, bytes: a }]);
  const latest = await store.getTargetFile('acme/app', p);
  assert.equal(latest.sha256, sha(a));
  assert.equal(await store.getTargetFile('acme/other', p), undefined);
  assert.equal(await store.getTargetFile('acme/app', p, sha(Buffer.from('x'))), undefined);
});

test('atomic: work that throws stores nothing; an append whose 3rd row conflicts stores none', async (t) => {
  const { store } = await open(t);
  await append(store, 'r', [meta('root', 1), meta('snapshot', 1)]);
  await assert.rejects(
    store.transact('r', async (tx) => {
      tx.append([meta('targets', 1)]);
      tx.appendTargetFile([{ path: 'f', bytes: Buffer.from('f') }]);
      throw new Error('validation failed');
    }),
    /validation failed/,
  );
  assert.equal(await store.getCurrent('r', 'targets'), undefined);
  assert.equal(await store.getTargetFile('r', 'f'), undefined);
  await rejectsCode(
    append(store, 'r', [meta('targets', 1), meta('timestamp', 1), meta('snapshot', 1)]),
    'VERSION_CONFLICT',
  );
  assert.equal(await store.getCurrent('r', 'targets'), undefined);
  assert.equal(await store.getCurrent('r', 'timestamp'), undefined);
  assert.deepEqual(Object.keys(await store.currentState('r')).sort(), ['root', 'snapshot']);
  // The same version twice in one append is a conflict too, and stores nothing.
  await rejectsCode(append(store, 'r', [meta('targets', 1), meta('targets', 1)]), 'VERSION_CONFLICT');
  assert.equal(await store.getCurrent('r', 'targets'), undefined);
});

test('VERSION_CONFLICT: a taken version, a version below current, a role changed or added since read', async (t) => {
  const { store, dir } = await open(t);
  // A second connection on the same file stands for another server process.
  const { store: other } = await open(t, { dir });
  await append(store, 'r', [meta('root', 1), meta('targets', 1)]);
  await rejectsCode(append(store, 'r', [meta('targets', 1)]), 'VERSION_CONFLICT');
  await append(store, 'r', [meta('targets', 3)]);
  await rejectsCode(append(store, 'r', [meta('targets', 2)]), 'VERSION_CONFLICT');
  const changed = store.transact('r', async (tx) => {
    const cur = await tx.current('targets');
    await append(other, 'r', [meta('targets', cur.version + 1)]);
    tx.append([meta('targets', cur.version + 2), meta('snapshot', 1)]);
  });
  await rejectsCode(changed, 'VERSION_CONFLICT');
  assert.equal((await store.getCurrent('r', 'targets')).version, 4);
  assert.equal(await store.getCurrent('r', 'snapshot'), undefined);
  const appeared = store.transact('r', async (tx) => {
    await tx.currentAll();
    await append(other, 'r', [meta('targets/releases', 1)]);
    tx.append([meta('snapshot', 1)]);
  });
  await rejectsCode(appeared, 'VERSION_CONFLICT');
  assert.equal(await store.getCurrent('r', 'snapshot'), undefined);
  // A read of an untouched state commits.
  const ok = await store.transact('r', async (tx) => {
    const all = await tx.currentAll();
    tx.append([meta('snapshot', 1)]);
    return [...all.keys()].sort();
  });
  assert.deepEqual(ok.value, ['root', 'targets', 'targets/releases']);
  assert.equal(ok.stored[0].role, 'snapshot');
});

test(
  'the mutex serialises transacts on one repository, not on different ones',
  { timeout: 20_000 },
  async (t) => {
    const { store } = await open(t);
    const gate = deferred();
    const aIn = deferred();
    const order = [];
    const a = store.transact('r', async (tx) => {
      order.push('a-start');
      aIn.resolve();
      await gate.promise;
      tx.append([meta('targets', 1)]);
      order.push('a-end');
    });
    await aIn.promise;
    const b = store.transact('r', async (tx) => {
      order.push('b-start');
      const cur = await tx.current('targets');
      tx.append([meta('targets', cur.version + 1)]);
    });
    // Another repository is not held up by a's lock: it commits while a still waits on its gate.
    await store.transact('s', async (tx) => tx.append([meta('targets', 1)]));
    await turns();
    assert.deepEqual(order, ['a-start'], 'b must wait for a');
    assert.equal((await store.getCurrent('s', 'targets')).version, 1);
    await rejectsCode(
      store.transact('r', async () => assert.fail('must not run'), { wait: false }),
      'STORE_BUSY',
    );
    gate.resolve();
    await Promise.all([a, b]);
    assert.deepEqual(order, ['a-start', 'a-end', 'b-start']);
    assert.equal((await store.getCurrent('r', 'targets')).version, 2);
    // Free again: wait:false goes through.
    await store.transact('r', async (tx) => tx.append([meta('targets', 3)]), { wait: false });
  },
);

test(
  'a wait longer than lockTimeoutMs is STORE_BUSY; the holder still commits',
  { timeout: 20_000 },
  async (t) => {
    const { store } = await open(t, { lockTimeoutMs: 20 });
    const gate = deferred();
    const held = deferred();
    const a = store.transact('r', async (tx) => {
      held.resolve();
      await gate.promise;
      tx.append([meta('targets', 1)]);
    });
    await held.promise;
    await rejectsCode(
      store.transact('r', async () => assert.fail('must not run')),
      'STORE_BUSY',
    );
    gate.resolve();
    await a;
    assert.equal((await store.getCurrent('r', 'targets')).version, 1);
  },
);

test('listExpiring: current roles only, before the bound, soonest first, limited', async (t) => {
  const { store } = await open(t);
  await append(store, 'a', [meta('timestamp', 1, '2026-01-01T00:00:00Z')]);
  await append(store, 'a', [
    meta('timestamp', 2, '2026-03-01T00:00:00Z'),
    meta('root', 1, '2027-01-01T00:00:00Z'),
  ]);
  await append(store, 'b', [
    meta('timestamp', 1, '2026-02-01T00:00:00Z'),
    meta('snapshot', 1, '2026-02-15T00:00:00Z'),
  ]);
  const all = await store.listExpiring(new Date('2026-06-01T00:00:00Z'), 10);
  assert.deepEqual(
    all.map((e) => [e.repo, e.role, e.version, e.expiresAt.toISOString().slice(0, 10)]),
    [
      ['b', 'timestamp', 1, '2026-02-01'],
      ['b', 'snapshot', 1, '2026-02-15'],
      ['a', 'timestamp', 2, '2026-03-01'],
    ],
  );
  assert.equal((await store.listExpiring(new Date('2026-06-01T00:00:00Z'), 1)).length, 1);
  assert.deepEqual(await store.listExpiring(new Date('2026-01-15T00:00:00Z'), 10), []);
});

test('deleteRepo removes one repository (metadata and target files), others stay', async (t) => {
  const { store } = await open(t);
  await append(store, 'a', [meta('root', 1), meta('targets', 1)], [{ path: 'x', bytes: Buffer.from('x') }]);
  await append(store, 'b', [meta('root', 1)], [{ path: 'x', bytes: Buffer.from('x') }]);
  assert.equal(await store.deleteRepo('a'), true);
  assert.deepEqual(await store.currentState('a'), {});
  assert.equal(await store.getTargetFile('a', 'x'), undefined);
  assert.equal(await store.getVersion('a', 'root', 1), undefined);
  assert.deepEqual(Object.keys(await store.currentState('b')), ['root']);
  assert.ok(await store.getTargetFile('b', 'x'));
  assert.equal(await store.deleteRepo('a'), false);
  await append(store, 'a', [meta('root', 1)]);
  assert.equal((await store.getCurrent('a', 'root')).version, 1);
});

test('migrate is idempotent; a newer schema_version is refused', async (t) => {
  const { store, file } = await open(t);
  await append(store, 'r', [meta('root', 1)]);
  await store.migrate();
  await store.migrate();
  await store.ping();
  assert.equal((await store.getCurrent('r', 'root')).version, 1);
  const db = new Database(file);
  assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [{ version: 1 }, { version: 2 }]);
  db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
  db.close();
  await rejectsCode(openSqliteStore({ path: file }), 'STORE_SCHEMA');
  await rejectsCode(store.migrate(), 'STORE_SCHEMA');
});

test('limits, closed store, unopenable file: STORE_TOO_LARGE, STORE_IO', async (t) => {
  const { store, dir } = await open(t, { maxMetaBytes: 100, maxTargetFileBytes: 10 });
  await rejectsCode(
    append(store, 'r', [{ role: 'targets', version: 1, bytes: Buffer.alloc(101) }]),
    'STORE_TOO_LARGE',
  );
  await rejectsCode(append(store, 'r', [], [{ path: 'f', bytes: Buffer.alloc(11) }]), 'STORE_TOO_LARGE');
  assert.deepEqual(await store.currentState('r'), {});
  await append(
    store,
    'r',
    [{ role: 'targets', version: 1, bytes: Buffer.alloc(100) }],
    [{ path: 'f', bytes: Buffer.alloc(10) }],
  );
  await rejectsCode(openSqliteStore({ path: path.join(dir, 'missing', 'x.db') }), 'STORE_IO');
  // close() waits for a write in flight, then refuses new work.
  const gate = deferred();
  const held = deferred();
  const inFlight = store.transact('r', async (tx) => {
    held.resolve();
    await gate.promise;
    tx.append([meta('targets', 2)]);
  });
  await held.promise;
  const closed = Promise.all([store.close(), store.close()]);
  await rejectsCode(append(store, 's', [meta('root', 1)]), 'STORE_IO');
  gate.resolve();
  await inFlight;
  await closed;
  await rejectsCode(store.getCurrent('r', 'targets'), 'STORE_IO');
  await rejectsCode(store.ping(), 'STORE_IO');
  const reopened = await openSqliteStore({ path: path.join(dir, 'server.db') });
  assert.equal((await reopened.getCurrent('r', 'targets')).version, 2);
  await reopened.close();
});

test('validateUpload on currentState; metaUpdates of what it accepted commit', async (t) => {
  const { before, after, upload } = await twoStates(t, addBundle);
  const { store } = await open(t);
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
  for (const [role, bytes] of Object.entries(after)) assert.ok(Buffer.from(state[role]).equals(bytes), role);
  const ts = await store.getCurrent('acme/app', 'timestamp');
  assert.equal(ts.expiresAt.toISOString().replace('.000Z', 'Z'), parse(after.timestamp).signed.expires);
});

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RACER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`racer ${code}: ${err}`)),
    );
  });
}

test(
  'three processes on one file: every version 1..N once, no gaps, no duplicates',
  { timeout: 120_000 },
  async (t) => {
    const { store, file } = await open(t);
    const N = 200;
    const results = await Promise.all(
      ['p1', 'p2', 'p3'].map((id) => run([file, id, 'shared', `own-${id}`, String(N)])),
    );
    assert.deepEqual(
      results.map((r) => r.committed),
      [N, N, N],
    );
    const db = new Database(file, { readonly: true });
    t.after(() => db.close());
    const rows = db
      .prepare("SELECT version, data FROM tuf_files WHERE repo = 'shared' ORDER BY version")
      .all();
    assert.deepEqual(
      rows.map((r) => r.version),
      Array.from({ length: 3 * N }, (_, i) => i + 1),
    );
    const writes = rows.map((r) => JSON.parse(r.data.toString()));
    for (const w of writes) assert.equal(w.version, rows[writes.indexOf(w)].version);
    const keys = new Set(writes.map((w) => `${w.id}:${w.i}`));
    assert.equal(keys.size, 3 * N, 'every committed write present once');
    for (const id of ['p1', 'p2', 'p3']) {
      const own = db
        .prepare('SELECT version FROM tuf_files WHERE repo = ? ORDER BY version')
        .all(`own-${id}`);
      assert.deepEqual(
        own.map((r) => r.version),
        Array.from({ length: N }, (_, i) => i + 1),
      );
    }
    assert.equal((await store.getCurrent('shared', 'timestamp')).version, 3 * N);
  },
);
