// Key rotation scenarios (issue 4, item 5), table-driven after python-tuf's key rotation
// tests. Each scenario builds a repository with the library (rotateKeys + publish), keeps a
// client of each kind pinned at root v1 that updated once before the change, and checks
// the next update with BOTH our TrustClient and the unmodified tuf-js Updater.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { rotateKeys, addTarget, refresh } from '../../dist/tuf/index.js';
import { CLIENTS, Sim, makeClient, target, forge, matchesFailure } from '../helpers/rotation-sim.js';

const T1 = target('v1');

async function cached(client, file) {
  return JSON.parse(await readFile(path.join(client.dir, file), 'utf8')).signed;
}

function ids(signers) {
  return signers.map((s) => s.keyid);
}

/**
 * Each scenario: `keys`/`thresholds` of the initial repository, `change(sim)` run after the
 * clients' first update, and the expected outcome of their second update: 'ok' (then
 * `check(sim, client)` runs) or a failure kind of FAILURES (per client when an object).
 */
const SCENARIOS = [
  {
    name: 'root 1-of-1 rotation',
    async change(sim) {
      const k = sim.newKey();
      rotateKeys(sim.repo, 'root', { add: [k.publicKey], remove: [sim.keys.root[0].keyid] });
      await sim.publish();
      const v2 = JSON.parse(Buffer.from(sim.rootBytes(2)).toString());
      assert.deepEqual(v2.signatures.map((s) => s.keyid).sort(), [sim.keys.root[0].keyid, k.keyid].sort());
    },
    expect: 'ok',
    check: async (sim, c) => assert.equal((await cached(c, 'root.json')).version, 2),
  },
  {
    name: 'root 2-of-3, one key replaced (one old key offline)',
    keys: { root: 3 },
    thresholds: { root: 2 },
    async change(sim) {
      const [a, , c] = sim.keys.root;
      sim.withheld.add(c.keyid); // only 2 of the 3 old keys are available: enough
      const k = sim.newKey();
      rotateKeys(sim.repo, 'root', { add: [k.publicKey], remove: [a.keyid] });
      await sim.publish();
    },
    expect: 'ok',
    check: async (sim, c) => {
      const root = await cached(c, 'root.json');
      assert.equal(root.version, 2);
      assert.equal(root.roles.root.keyids.length, 3);
      assert.equal(root.roles.root.threshold, 2);
    },
  },
  {
    name: 'root threshold raised 1-of-3 -> 2-of-3',
    keys: { root: 3 },
    async change(sim) {
      rotateKeys(sim.repo, 'root', { threshold: 2 });
      await sim.publish();
    },
    expect: 'ok',
    check: async (sim, c) => assert.equal((await cached(c, 'root.json')).roles.root.threshold, 2),
  },
  {
    name: 'root threshold lowered 2-of-3 -> 1-of-3',
    keys: { root: 3 },
    thresholds: { root: 2 },
    async change(sim) {
      rotateKeys(sim.repo, 'root', { threshold: 1 });
      await sim.publish();
    },
    expect: 'ok',
    check: async (sim, c) => assert.equal((await cached(c, 'root.json')).roles.root.threshold, 1),
  },
  {
    name: 'root chain of 10 versions walked by a client pinned at v1',
    async change(sim) {
      let current = [sim.keys.root[0]];
      for (let v = 2; v <= 10; v++) {
        const k = sim.newKey();
        // alternate: add a key and raise the threshold, then replace the oldest key
        const change =
          v % 2 === 0
            ? { add: [k.publicKey], threshold: Math.min(2, current.length + 1) }
            : { add: [k.publicKey], remove: [current[0].keyid] };
        rotateKeys(sim.repo, 'root', change);
        current = v % 2 === 0 ? [...current, k] : [...current.slice(1), k];
        await sim.publish();
      }
      assert.equal(sim.repo.root.signed.version, 10);
    },
    expect: 'ok',
    check: async (sim, c) => assert.equal((await cached(c, 'root.json')).version, 10),
  },
  {
    name: 'new root signed only by the new keys is rejected',
    async change(sim) {
      const k = sim.newKey();
      sim.serve(
        '2.root.json',
        await forge(
          sim,
          '1.root.json',
          (s) => {
            s.version = 2;
            s.keys = { ...s.keys, [k.keyid]: k.publicKey };
            s.roles.root.keyids = [k.keyid];
          },
          [k],
        ),
      );
    },
    expect: 'unsigned',
  },
  {
    name: 'new root signed only by the old keys is rejected',
    async change(sim) {
      const k = sim.newKey();
      sim.serve(
        '2.root.json',
        await forge(
          sim,
          '1.root.json',
          (s) => {
            s.version = 2;
            s.keys = { ...s.keys, [k.keyid]: k.publicKey };
            s.roles.root.keyids = [k.keyid];
          },
          [sim.keys.root[0]],
        ),
      );
    },
    expect: 'unsigned',
  },
  {
    name: 'timestamp key rotation after a fast-forward attack, then a successful update',
    async before(sim) {
      // attacker with the timestamp key pushes clients to timestamp v99999
      sim.serve(
        'timestamp.json',
        await forge(sim, 'timestamp.json', (s) => void (s.version = 99999), [sim.keys.timestamp[0]]),
      );
    },
    async change(sim) {
      sim.overlay.clear();
      const k = sim.newKey();
      rotateKeys(sim.repo, 'timestamp', { add: [k.publicKey], remove: [sim.keys.timestamp[0].keyid] });
      await sim.publish();
    },
    expect: 'ok',
    check: async (sim, c) => {
      assert.equal((await cached(c, 'timestamp.json')).version, 2);
      assert.equal((await cached(c, 'root.json')).version, 2);
    },
  },
  {
    name: 'snapshot rollback after rotating snapshot and timestamp keys (fast-forward recovery)',
    async before(sim) {
      await serveFastForwardedSnapshot(sim);
    },
    async change(sim) {
      sim.overlay.clear();
      for (const role of ['snapshot', 'timestamp']) {
        const k = sim.newKey();
        rotateKeys(sim.repo, role, { add: [k.publicKey], remove: [sim.keys[role][0].keyid] });
      }
      await sim.publish();
    },
    expect: 'ok',
    check: async (sim, c) => assert.equal((await cached(c, 'snapshot.json')).version, 2),
  },
  {
    // The timestamp key was not compromised, but a server-managed timestamp signed whatever
    // snapshot it was given. Only the snapshot key is rotated: §5.3.11 says delete the
    // trusted timestamp and snapshot; our client does, the tuf-js 5 Updater does not.
    name: 'snapshot rollback after rotating the snapshot key only',
    async before(sim) {
      await serveFastForwardedSnapshot(sim);
    },
    async change(sim) {
      sim.overlay.clear();
      const k = sim.newKey();
      rotateKeys(sim.repo, 'snapshot', { add: [k.publicKey], remove: [sim.keys.snapshot[0].keyid] });
      await sim.publish();
    },
    expect: { ours: 'ok', 'tuf-js': 'rollback' },
    check: async (sim, c) => assert.equal((await cached(c, 'snapshot.json')).version, 2),
  },
  {
    name: 'snapshot rollback without key rotation is refused',
    async before(sim) {
      await serveFastForwardedSnapshot(sim);
    },
    async change(sim) {
      sim.overlay.clear();
      await sim.publish({ now: new Date() }); // snapshot v2 < 99999, same keys
    },
    expect: 'rollback',
  },
  {
    name: 'targets key rotation: targets re-signed by the new key',
    async change(sim) {
      const k = sim.newKey();
      const plan = rotateKeys(sim.repo, 'targets', {
        add: [k.publicKey],
        remove: [sim.keys.targets[0].keyid],
      });
      assert.deepEqual(
        plan.signing.map((s) => s.role),
        ['root', 'targets'],
      );
      await sim.publish();
    },
    expect: 'ok',
    check: async (sim, c) => assert.equal((await cached(c, 'targets.json')).version, 2),
  },
];

async function serveFastForwardedSnapshot(sim) {
  // attacker pushes snapshot v99999 and a timestamp listing it (signed with the timestamp key)
  const snap = await forge(sim, '1.snapshot.json', (s) => void (s.version = 99999), [sim.keys.snapshot[0]]);
  sim.serve('99999.snapshot.json', snap);
  const { createHash } = await import('node:crypto');
  sim.serve(
    'timestamp.json',
    await forge(
      sim,
      'timestamp.json',
      (s) => {
        s.version = 5;
        s.meta['snapshot.json'] = {
          version: 99999,
          length: snap.length,
          hashes: { sha256: createHash('sha256').update(snap).digest('hex') },
        };
      },
      [sim.keys.timestamp[0]],
    ),
  );
}

for (const sc of SCENARIOS) {
  test(`rotation: ${sc.name}`, async (t) => {
    const sim = await Sim.create({ keys: sc.keys, thresholds: sc.thresholds });
    addTarget(sim.repo, T1.name, T1.info);
    await sim.publish();
    if (sc.before) await sc.before(sim);
    const clients = [];
    for (const kind of CLIENTS) {
      const c = await makeClient(t, kind, sim, 1);
      await c.update(T1.name);
      clients.push(c);
    }
    await sc.change(sim);
    for (const c of clients) {
      const expect = typeof sc.expect === 'string' ? sc.expect : sc.expect[c.kind];
      await t.test(c.kind, async () => {
        if (expect === 'ok') {
          const info = await c.update(T1.name);
          assert.equal(info.hashes.sha256, T1.info.hashes.sha256);
          await sc.check?.(sim, c);
        } else {
          await assert.rejects(c.update(T1.name), (e) => matchesFailure(c.kind, expect, e));
        }
      });
    }
    // a client installed now, from the newest root, agrees
    if (sc.expect === 'ok') {
      const fresh = await makeClient(t, 'tuf-js', sim, sim.repo.root.signed.version);
      assert.ok(await fresh.update(T1.name));
    }
  });
}

test('rotation: refused changes leave the repository untouched', async () => {
  const sim = await Sim.create({ keys: { root: 2 }, thresholds: { root: 2 } });
  await sim.publish();
  const before = new Map(sim.store.files);
  const [a, b] = sim.keys.root;
  assert.throws(() => rotateKeys(sim.repo, 'root', { remove: [a.keyid] }), {
    code: 'THRESHOLD_NOT_MET',
  });
  assert.throws(() => rotateKeys(sim.repo, 'root', { threshold: 3 }), { code: 'THRESHOLD_NOT_MET' });
  assert.throws(() => rotateKeys(sim.repo, 'root', { threshold: 0 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(
    () => rotateKeys(sim.repo, 'root', { remove: ['deadbeefdeadbeef'] }),
    (e) => {
      assert.equal(e.code, 'KEY_NOT_IN_ROLE');
      assert.match(e.hint, new RegExp(a.keyid));
      return true;
    },
  );
  assert.throws(() => rotateKeys(sim.repo, 'root', { add: [b.publicKey] }), { code: 'KEY_ALREADY_IN_ROLE' });
  assert.throws(() => rotateKeys(sim.repo, 'root', { threshold: 2 }), { code: 'NOTHING_TO_CHANGE' });
  assert.throws(() => rotateKeys(sim.repo, 'targets/releases', { threshold: 2 }), {
    code: 'INVALID_ARGUMENT',
  });
  assert.equal(sim.repo.staged.size, 0);
  assert.deepEqual(new Map(sim.store.files), before);
});

test('rotation: dry run returns the diff and the signing needs, and stages nothing', async () => {
  const sim = await Sim.create({ keys: { root: 3 }, thresholds: { root: 2 } });
  await sim.publish();
  const k = sim.newKey();
  const plan = rotateKeys(
    sim.repo,
    'root',
    { add: [k.publicKey], remove: [sim.keys.root[0].keyid.slice(0, 10)], threshold: 3 },
    { dryRun: true },
  );
  assert.equal(sim.repo.staged.size, 0);
  assert.deepEqual(plan.added, [k.keyid]);
  assert.deepEqual(plan.removed, [sim.keys.root[0].keyid]);
  assert.deepEqual(plan.before.threshold, 2);
  assert.deepEqual(plan.after, {
    keyids: [...ids(sim.keys.root.slice(1)), k.keyid],
    threshold: 3,
  });
  const [root] = plan.signing;
  assert.equal(root.version, 2);
  assert.deepEqual(
    root.authorities.map((a) => [a.source, a.threshold]),
    [
      ['root v2 (new)', 3],
      ['root v1 (trusted)', 2],
    ],
  );
  assert.match(plan.clients.join('\n'), /walk to root v2 automatically/);
});

test('rotation: publish refuses with THRESHOLD_NOT_MET when old root keys are missing, writes nothing', async () => {
  const sim = await Sim.create({ keys: { root: 3 }, thresholds: { root: 2 } });
  await sim.publish();
  const before = [...sim.store.files.keys()].filter((f) => f.startsWith('metadata/')).sort();
  const k = sim.newKey();
  rotateKeys(sim.repo, 'root', { add: [k.publicKey], remove: ids(sim.keys.root), threshold: 1 });
  await sim.repo.saveStaged(); // as `cnabsec key rotate` does
  // new root 1-of-1 by k: signable; trusted root needs 2 of 3 old keys, only one is online
  sim.withheld.add(sim.keys.root[1].keyid);
  sim.withheld.add(sim.keys.root[2].keyid);
  await assert.rejects(sim.publish(), (e) => {
    assert.equal(e.code, 'THRESHOLD_NOT_MET');
    assert.match(e.message, /root v1 \(trusted\)/);
    return true;
  });
  const after = [...sim.store.files.keys()].filter((f) => f.startsWith('metadata/')).sort();
  assert.deepEqual(after, before);
  // a refused publish writes nothing (not even partial signatures); the staged rotation is
  // kept, and the next publish, with the keys back, signs and publishes it
  sim.withheld.clear();
  await sim.reopen();
  await sim.publish();
  assert.equal(sim.repo.published.get('root').signed.version, 2);
});

test('rotation: publish refuses a root that strands an unchanged role (ROLE_WOULD_BE_UNTRUSTED)', async () => {
  const sim = await Sim.create();
  await sim.publish();
  const k = sim.newKey();
  // change the targets key by hand, without re-signing targets
  sim.repo.edit('root', (s) => {
    s.keys[k.keyid] = k.publicKey;
    s.roles.targets.keyids = [k.keyid];
  });
  await assert.rejects(sim.publish(), (e) => {
    assert.equal(e.code, 'ROLE_WOULD_BE_UNTRUSTED');
    assert.match(e.message, /targets v1/);
    assert.match(e.hint, /resign <repo> targets/);
    return true;
  });
  assert.equal(sim.store.files.has('metadata/2.root.json'), false);
});

test('rotation: refresh while a timestamp rotation is staged signs with the published key', async (t) => {
  const sim = await Sim.create();
  addTarget(sim.repo, T1.name, T1.info);
  await sim.publish();
  const k = sim.newKey();
  rotateKeys(sim.repo, 'timestamp', { add: [k.publicKey], remove: [sim.keys.timestamp[0].keyid] });
  await sim.repo.saveStaged();
  const result = await refresh(sim.repo, { signers: sim.provider, force: true });
  // --force renews the timestamp (the snapshot only when it is due)
  assert.deepEqual(
    result.published.map((p) => p.role),
    ['timestamp'],
  );
  assert.ok(sim.repo.staged.has('root'), 'the staged rotation is kept');
  for (const kind of CLIENTS) {
    const c = await makeClient(t, kind, sim, 1);
    assert.ok(await c.update(T1.name), kind);
  }
  await sim.publish();
  for (const kind of CLIENTS) {
    const c = await makeClient(t, kind, sim, 1);
    assert.ok(await c.update(T1.name), kind);
  }
});
