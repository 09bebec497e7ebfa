// Delegations (issue 4, item 2) and delegation key rotation (item 5), checked with both
// our TrustClient and the unmodified tuf-js Updater.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDelegationRole,
  addTarget,
  listDelegations,
  removeDelegation,
  rotateDelegation,
  rotateKeys,
} from '../../dist/tuf/index.js';
import { CLIENTS, NAME, Sim, forge, makeClient, matchesFailure, target } from '../helpers/rotation-sim.js';

const REL = 'targets/releases';
const T1 = target('v1');

async function withReleases(keys = 1, threshold = 1) {
  const sim = await Sim.create();
  const signers = Array.from({ length: keys }, () => sim.newKey());
  addDelegationRole(sim.repo, {
    name: REL,
    keys: signers.map((s) => s.publicKey),
    threshold,
    paths: [`${NAME}:*`],
  });
  assert.equal(addTarget(sim.repo, T1.name, T1.info), REL);
  await sim.publish();
  return { sim, signers };
}

async function clientsAfterFirstUpdate(t, sim) {
  const out = [];
  for (const kind of CLIENTS) {
    const c = await makeClient(t, kind, sim, 1);
    assert.equal((await c.update(T1.name)).hashes.sha256, T1.info.hashes.sha256);
    out.push(c);
  }
  return out;
}

const ROTATIONS = [
  {
    name: '1-of-1 key replaced',
    keys: 1,
    threshold: 1,
    change: (s, k) => ({ add: [k], remove: [s[0].keyid] }),
  },
  {
    name: '2-of-3, one key replaced with one old key offline',
    keys: 3,
    threshold: 2,
    offline: 2,
    change: (s, k) => ({ add: [k], remove: [s[0].keyid] }),
  },
  { name: 'threshold raised 1-of-2 -> 2-of-2', keys: 2, threshold: 1, change: () => ({ threshold: 2 }) },
  { name: 'threshold lowered 2-of-2 -> 1-of-2', keys: 2, threshold: 2, change: () => ({ threshold: 1 }) },
];

for (const r of ROTATIONS) {
  test(`delegation rotation: ${r.name}`, async (t) => {
    const { sim, signers } = await withReleases(r.keys, r.threshold);
    const clients = await clientsAfterFirstUpdate(t, sim);
    if (r.offline !== undefined) sim.withheld.add(signers[r.offline].keyid);
    const k = sim.newKey();
    const plan = rotateDelegation(sim.repo, REL, r.change(signers, k.publicKey));
    assert.deepEqual(
      plan.signing.map((s) => [s.role, s.version]),
      [
        ['targets', 2],
        [REL, 2],
      ],
    );
    await sim.publish();
    for (const c of clients) {
      const info = await c.update(T1.name);
      assert.equal(info.hashes.sha256, T1.info.hashes.sha256, c.kind);
    }
    // the old key alone can no longer sign releases: an attacker's version is refused
    if (r.change(signers, k.publicKey).remove) {
      const file = '2.targets%2Freleases.json';
      const forged = Buffer.from(
        await forge(sim, file, (s) => void (s.targets[T1.name].length = 1), [signers[0]]),
      );
      // padded to the genuine length (the snapshot lists it), so that only the signature
      // check can refuse it
      const genuine = Buffer.from(sim.read(file)).length;
      assert.ok(forged.length <= genuine);
      sim.serve(file, Buffer.concat([forged, Buffer.alloc(genuine - forged.length, 0x20)]));
      for (const kind of CLIENTS) {
        const fresh = await makeClient(t, kind, sim, 1);
        await assert.rejects(fresh.update(T1.name), (e) => matchesFailure(kind, 'unsigned', e), kind);
      }
    }
  });
}

test('delegation: list, and refused changes write nothing', async () => {
  const { sim, signers } = await withReleases(2, 2);
  assert.deepEqual(
    listDelegations(sim.repo).map((d) => [d.role, d.parent, d.threshold, d.keyids.length, d.paths]),
    [[REL, 'targets', 2, 2, [`${NAME}:*`]]],
  );
  const files = new Map(sim.store.files);
  assert.throws(() => rotateDelegation(sim.repo, REL, { remove: [signers[0].keyid] }), {
    code: 'THRESHOLD_NOT_MET',
  });
  assert.throws(() => rotateDelegation(sim.repo, 'targets', { threshold: 1 }), {
    code: 'DELEGATION_NOT_FOUND',
  });
  assert.throws(() => rotateDelegation(sim.repo, 'targets/nope', { threshold: 1 }), {
    code: 'DELEGATION_NOT_FOUND',
  });
  assert.throws(
    () =>
      addDelegationRole(sim.repo, { name: REL, keys: [signers[0].publicKey], threshold: 1, paths: ['x'] }),
    { code: 'DELEGATION_EXISTS' },
  );
  assert.throws(
    () =>
      addDelegationRole(sim.repo, {
        name: 'targets/ci',
        keys: [signers[0].publicKey],
        threshold: 2,
        paths: ['x'],
      }),
    { code: 'THRESHOLD_NOT_MET' },
  );
  assert.throws(
    () =>
      addDelegationRole(sim.repo, {
        name: 'targets/ci',
        keys: [signers[0].publicKey],
        threshold: 1,
        paths: [],
      }),
    { code: 'INVALID_ARGUMENT' },
  );
  assert.throws(() => removeDelegation(sim.repo, 'targets/nope'), { code: 'DELEGATION_NOT_FOUND' });
  assert.throws(() => rotateKeys(sim.repo, REL, { threshold: 1 }), { code: 'INVALID_ARGUMENT' });
  assert.equal(sim.repo.staged.size, 0);
  assert.deepEqual(new Map(sim.store.files), files);
});

test('delegation: remove, clients still update; re-add continues the version (no rollback)', async (t) => {
  const { sim, signers } = await withReleases();
  const clients = await clientsAfterFirstUpdate(t, sim);
  assert.deepEqual(removeDelegation(sim.repo, REL), [REL]);
  await sim.repo.discardStaged(REL);
  await sim.publish();
  const snapshot = sim.repo.published.get('snapshot').signed;
  assert.ok(snapshot.meta[`${REL}.json`], 'a removed role stays listed in snapshot');
  for (const c of clients) {
    if (c.kind === 'ours') await assert.rejects(c.update(T1.name), { code: 'TARGET_NOT_FOUND' });
    else assert.equal(await c.update(T1.name), undefined);
  }
  addDelegationRole(sim.repo, {
    name: REL,
    keys: [signers[0].publicKey],
    threshold: 1,
    paths: [`${NAME}:*`],
  });
  assert.equal(sim.repo.staged.get(REL).signed.version, 2);
  addTarget(sim.repo, T1.name, T1.info);
  await sim.publish();
  await sim.reopen();
  for (const c of clients) assert.ok(await c.update(T1.name), c.kind);
});
