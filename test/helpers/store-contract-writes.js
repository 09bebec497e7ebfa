// The write half of the TrustStore contract (./store-contract.js): atomic appends, version
// rules, the commit-time re-check against another store on the same data, the per-repository
// mutex, STORE_BUSY, size limits and close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { append, file, holdWrite, meta, rejectsCode, sha, snapshotOf, turns } from './store-contract-kit.js';

export function storeWriteContract(name, open, peer) {
  atomicContract(name, open);
  if (peer) peerContract(name, open, peer);
  lockContract(name, open);
  limitContract(name, open);
}

function atomicContract(name, open) {
  test(`${name}: atomic: work that throws stores nothing, metadata or target files`, async (t) => {
    const store = await open(t);
    await append(store, 'r', [meta('root', 1), meta('snapshot', 1)]);
    const before = await snapshotOf(store, 'r');
    await assert.rejects(
      store.transact('r', async (tx) => {
        tx.append([meta('targets', 1)]);
        tx.appendTargetFile([file('f', 'f')]);
        await turns(2);
        throw new Error('validation failed');
      }),
      /validation failed/,
    );
    assert.deepEqual(await snapshotOf(store, 'r'), before);
    assert.equal(await store.getTargetFile('r', 'f'), undefined);
    // The repository is free again after a failed write.
    await store.transact('r', async (tx) => tx.append([meta('targets', 1)]), { wait: false });
  });

  test(`${name}: atomic: a conflict in the last row stores none of the rows nor the files`, async (t) => {
    const store = await open(t);
    await append(store, 'r', [meta('root', 1), meta('snapshot', 1)]);
    const before = await snapshotOf(store, 'r');
    await rejectsCode(
      append(store, 'r', [meta('targets', 1), meta('timestamp', 1), meta('snapshot', 1)], [file('f', 'f')]),
      'VERSION_CONFLICT',
    );
    assert.deepEqual(await snapshotOf(store, 'r'), before);
    assert.equal(await store.getCurrent('r', 'timestamp'), undefined);
    assert.equal(await store.getTargetFile('r', 'f'), undefined);
    assert.deepEqual(await store.listExpiring(new Date('2031-01-01T00:00:00Z'), 10).then((l) => l.length), 2);
    // The same version twice in one append conflicts; two rising versions of one role commit.
    await rejectsCode(append(store, 'r', [meta('targets', 1), meta('targets', 1)]), 'VERSION_CONFLICT');
    await rejectsCode(append(store, 'r', [meta('targets', 3), meta('targets', 2)]), 'VERSION_CONFLICT');
    assert.equal(await store.getCurrent('r', 'targets'), undefined);
    const { stored } = await append(store, 'r', [meta('targets', 2), meta('targets', 3)]);
    assert.deepEqual(
      stored.map((m) => m.version),
      [2, 3],
    );
    assert.equal((await store.getCurrent('r', 'targets')).version, 3);
    assert.equal((await store.getVersion('r', 'targets', 2)).version, 2);
  });

  test(`${name}: VERSION_CONFLICT: a version taken or below the current one`, async (t) => {
    const store = await open(t);
    await append(store, 'r', [meta('root', 1), meta('targets', 1)]);
    await rejectsCode(append(store, 'r', [meta('targets', 1)]), 'VERSION_CONFLICT');
    await append(store, 'r', [meta('targets', 3)]);
    await rejectsCode(append(store, 'r', [meta('targets', 2)]), 'VERSION_CONFLICT');
    const e = await append(store, 'r', [meta('targets', 3)]).catch((x) => x);
    assert.equal(e.code, 'VERSION_CONFLICT');
    assert.match(e.message, /^r: targets version 3/);
    assert.equal((await store.getCurrent('r', 'targets')).version, 3);
  });

  test(`${name}: append refuses a version that is not a positive integer; a tx ends with work`, async (t) => {
    const store = await open(t);
    for (const version of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1])
      await assert.rejects(
        append(store, 'r', [meta('root', 1), { ...meta('targets', 1), version }]),
        /not a positive integer/,
      );
    assert.deepEqual(await store.currentState('r'), {});
    let kept;
    const empty = await store.transact('r', async (tx) => {
      kept = tx;
      assert.equal(tx.repo, 'r');
      assert.equal(await tx.current('root'), undefined);
      assert.equal((await tx.currentAll()).size, 0);
      return 'value';
    });
    assert.deepEqual(empty, { value: 'value', stored: [] });
    assert.throws(() => kept.append([meta('root', 1)]), /over/);
    assert.throws(() => kept.appendTargetFile([file('f', 'f')]), /over/);
    await assert.rejects(async () => kept.current('root'), /over/);
    assert.deepEqual(await store.currentState('r'), {});
  });

  test(`${name}: tx reads see committed state, not the tx's own appends`, async (t) => {
    const store = await open(t);
    await append(store, 'r', [meta('root', 1)]);
    await store.transact('r', async (tx) => {
      tx.append([meta('root', 2), meta('targets', 1)]);
      assert.equal((await tx.current('root')).version, 1);
      assert.equal(await tx.current('targets'), undefined);
      assert.deepEqual([...(await tx.currentAll()).keys()], ['root']);
    });
    assert.equal((await store.getCurrent('r', 'root')).version, 2);
  });
}

function peerContract(name, open, peer) {
  test(`${name}: VERSION_CONFLICT at commit: what work read changed in another process`, async (t) => {
    const store = await open(t);
    const other = await peer(t, store);
    await append(store, 'r', [meta('root', 1), meta('targets', 1)]);
    const changed = store.transact('r', async (tx) => {
      const cur = await tx.current('targets');
      await append(other, 'r', [meta('targets', cur.version + 1)]);
      tx.append([meta('targets', cur.version + 2), meta('snapshot', 1)]);
    });
    await rejectsCode(changed, 'VERSION_CONFLICT');
    assert.equal((await store.getCurrent('r', 'targets')).version, 2);
    assert.equal(await store.getCurrent('r', 'snapshot'), undefined);
    // A role read as absent, then created elsewhere.
    const created = store.transact('r', async (tx) => {
      assert.equal(await tx.current('timestamp'), undefined);
      await append(other, 'r', [meta('timestamp', 1)]);
      tx.append([meta('snapshot', 1)]);
    });
    await rejectsCode(created, 'VERSION_CONFLICT');
    // A role that appeared after currentAll, one the work never named.
    const appeared = store.transact('r', async (tx) => {
      await tx.currentAll();
      await append(other, 'r', [meta('targets/releases', 1)]);
      tx.append([meta('snapshot', 1)]);
    });
    await rejectsCode(appeared, 'VERSION_CONFLICT');
    // The repository deleted elsewhere after the read.
    const deleted = store.transact('r', async (tx) => {
      await tx.current('root');
      assert.equal(await other.deleteRepo('r'), true);
      tx.append([meta('root', 2)]);
    });
    await rejectsCode(deleted, 'VERSION_CONFLICT');
    assert.deepEqual(await store.currentState('r'), {});
    // An untouched read commits, and the peer sees it.
    await append(store, 'r', [meta('root', 1)]);
    const ok = await store.transact('r', async (tx) => {
      const all = await tx.currentAll();
      tx.append([meta('snapshot', 1)]);
      return [...all.keys()];
    });
    assert.deepEqual(ok.value, ['root']);
    assert.equal((await other.getCurrent('r', 'snapshot')).version, 1);
  });
}

function lockContract(name, open) {
  test(
    `${name}: the mutex serialises writes to one repository, not to others`,
    { timeout: 20_000 },
    async (t) => {
      const store = await open(t);
      const order = [];
      const a = holdWrite(store, 'r', [meta('targets', 1)]);
      await a.held;
      // deleteRepo waits for the write in flight (queued first), b waits behind it.
      const deleted = store.deleteRepo('r');
      const b = store.transact('r', async (tx) => {
        const cur = await tx.current('targets');
        order.push(`b-saw-${cur?.version ?? 0}`);
        tx.append([meta('targets', (cur?.version ?? 0) + 1, '2029-01-01T00:00:00Z')]);
      });
      // Another repository is not held up by a's lock: it commits while a still waits.
      await store.transact('s', async (tx) => tx.append([meta('targets', 1)]));
      assert.equal(await store.deleteRepo('s'), true);
      await turns();
      assert.deepEqual(order, [], 'b must wait for a');
      assert.equal(await store.getCurrent('r', 'targets'), undefined, 'nothing of a before it resolves');
      await rejectsCode(
        store.transact('r', async () => assert.fail('must not run'), { wait: false }),
        'STORE_BUSY',
      );
      a.release();
      await Promise.all([a.done, b]);
      assert.equal(await deleted, true, 'the delete ran after a committed');
      assert.deepEqual(order, ['b-saw-0'], 'b ran after the delete');
      const cur = await store.getCurrent('r', 'targets');
      assert.deepEqual([cur.version, cur.expiresAt.toISOString()], [1, '2029-01-01T00:00:00.000Z']);
      await store.transact('r', async (tx) => tx.append([meta('targets', 3)]), { wait: false });
    },
  );

  test(`${name}: 25 concurrent read-then-append writes on one repository all commit, in order`, async (t) => {
    const store = await open(t);
    const writes = Array.from({ length: 25 }, (_, i) =>
      store.transact('r', async (tx) => {
        const cur = await tx.current('timestamp');
        await turns(2);
        tx.append([meta('timestamp', (cur?.version ?? 0) + 1)]);
        return i;
      }),
    );
    const results = await Promise.all(writes);
    assert.deepEqual(
      results.map((r) => [r.value, r.stored[0].version]),
      Array.from({ length: 25 }, (_, i) => [i, i + 1]),
      'first come, first served',
    );
    for (let v = 1; v <= 25; v++) assert.ok(await store.getVersion('r', 'timestamp', v), `version ${v}`);
  });

  test(
    `${name}: a wait longer than lockTimeoutMs is STORE_BUSY; the holder still commits`,
    { timeout: 20_000 },
    async (t) => {
      const store = await open(t, { lockTimeoutMs: 20 });
      const a = holdWrite(store, 'r', [meta('targets', 1)]);
      await a.held;
      await rejectsCode(
        store.transact('r', async () => assert.fail('must not run')),
        'STORE_BUSY',
      );
      a.release();
      await a.done;
      assert.equal((await store.getCurrent('r', 'targets')).version, 1);
    },
  );

  test(
    `${name}: close() waits for the writes in flight and queued, then refuses everything`,
    { timeout: 20_000 },
    async (t) => {
      const store = await open(t);
      await append(store, 'r', [meta('root', 1)]);
      const a = holdWrite(store, 'r', [meta('targets', 1)]);
      await a.held;
      const queued = store.transact('r', async (tx) => tx.append([meta('targets', 2)]));
      let closed = false;
      const closing = Promise.all([store.close(), store.close()]).then(() => (closed = true));
      await rejectsCode(append(store, 's', [meta('root', 1)]), 'STORE_IO');
      await turns();
      assert.equal(closed, false, 'close must wait for the write in flight');
      a.release();
      await Promise.all([a.done, queued, closing]);
      for (const op of [
        () => store.getCurrent('r', 'targets'),
        () => store.getVersion('r', 'root', 1),
        () => store.getChecksum('r', 'root', '00'),
        () => store.currentState('r'),
        () => store.getTargetFile('r', 'f'),
        () => store.listExpiring(new Date(), 1),
        () => store.deleteRepo('r'),
        () => append(store, 'r', [meta('targets', 3)]),
        () => store.ping(),
        () => store.migrate(),
      ])
        await rejectsCode(op(), 'STORE_IO');
      await store.close();
    },
  );

  test(`${name}: close() with nothing in flight resolves`, async (t) => {
    const store = await open(t);
    await store.close();
    await rejectsCode(store.ping(), 'STORE_IO');
  });
}

function limitContract(name, open) {
  test(`${name}: size limits: STORE_TOO_LARGE above, stored at the limit`, async (t) => {
    const store = await open(t, { maxMetaBytes: 100, maxTargetFileBytes: 10 });
    const big = { role: 'targets', version: 1, bytes: Buffer.alloc(101) };
    await rejectsCode(append(store, 'r', [meta('root', 1), big]), 'STORE_TOO_LARGE');
    await rejectsCode(
      append(store, 'r', [meta('root', 1)], [{ path: 'f', bytes: Buffer.alloc(11) }]),
      'STORE_TOO_LARGE',
    );
    assert.deepEqual(await store.currentState('r'), {});
    assert.equal(await store.getTargetFile('r', 'f'), undefined);
    const e = await append(store, 'r', [big]).catch((x) => x);
    assert.deepEqual([e.code, e.details?.max, e.details?.bytes], ['STORE_TOO_LARGE', 100, 101]);
    await append(
      store,
      'r',
      [{ role: 'targets', version: 1, bytes: Buffer.alloc(100) }],
      [{ path: 'f', bytes: Buffer.alloc(10) }],
    );
    assert.equal((await store.getCurrent('r', 'targets')).bytes.length, 100);
    assert.equal((await store.getTargetFile('r', 'f')).bytes.length, 10);
  });

  test(`${name}: the clock gives createdAt; a target file stored again gets a new one`, async (t) => {
    let now = new Date('2026-04-01T00:00:00Z');
    const day = (m) => m.createdAt.toISOString().slice(0, 10);
    const store = await open(t, { now: () => now });
    await append(store, 'r', [meta('root', 1)], [file('f', 'a')]);
    now = new Date('2026-04-02T00:00:00Z');
    await append(store, 'r', [meta('root', 2)], [file('f', 'b')]);
    assert.equal(day(await store.getVersion('r', 'root', 1)), '2026-04-01');
    assert.equal(day(await store.getCurrent('r', 'root')), '2026-04-02');
    const a = await store.getTargetFile('r', 'f', sha('a'));
    assert.equal(day(a), '2026-04-01');
    assert.equal(day(await store.getTargetFile('r', 'f')), '2026-04-02');
    now = new Date('2026-04-03T00:00:00Z');
    await append(store, 'r', [], [file('f', 'a')]);
    const latest = await store.getTargetFile('r', 'f');
    assert.deepEqual([latest.sha256, day(latest)], [sha('a'), '2026-04-03']);
  });
}
