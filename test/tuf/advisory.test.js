// Advisory after a targets / targets/releases key compromise (issue 4, item 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDelegationRole,
  addTarget,
  advisory,
  removeTarget,
  rotateDelegation,
  rotateKeys,
} from '../../dist/tuf/index.js';
import { NAME, Sim, target } from '../helpers/rotation-sim.js';

const REL = 'targets/releases';
const [T1, T2, T3] = ['v1', 'v2', 'v3'].map((tag) => target(tag));

async function releasesHistory() {
  const sim = await Sim.create();
  const d1 = sim.newKey();
  addDelegationRole(sim.repo, { name: REL, keys: [d1.publicKey], threshold: 1, paths: [`${NAME}:*`] });
  addTarget(sim.repo, T1.name, T1.info);
  await sim.publish(); // releases v1 (d1): T1
  addTarget(sim.repo, T2.name, T2.info);
  await sim.publish(); // releases v2 (d1): T1 T2
  const d2 = sim.newKey();
  rotateDelegation(sim.repo, REL, { add: [d2.publicKey], remove: [d1.keyid] });
  await sim.publish(); // releases v3 (d2): T1 T2
  addTarget(sim.repo, T3.name, T3.info);
  await sim.publish(); // releases v4 (d2): T1 T2 T3
  return { sim, d1, d2 };
}

const CASES = [
  {
    name: 'default keys (rotated out), since version 2',
    since: '2',
    keys: [],
    want: { [T1.name]: [2], [T2.name]: [2] },
  },
  { name: 'since version 1', since: '1', keys: [], want: { [T1.name]: [1, 2], [T2.name]: [2] } },
  {
    name: 'since a time long ago',
    since: '2000-01-01',
    keys: [],
    want: { [T1.name]: [1, 2], [T2.name]: [2] },
  },
  { name: 'since a time after every expiry', since: '2999-01-01T00:00:00Z', keys: [], want: {} },
  {
    name: 'the new key, by prefix',
    since: '1',
    keys: ['d2'],
    want: { [T1.name]: [3, 4], [T2.name]: [3, 4], [T3.name]: [4] },
  },
];

for (const c of CASES) {
  test(`advisory: ${c.name}`, async () => {
    const { sim, d1, d2 } = await releasesHistory();
    const keyids = c.keys.map((k) => ({ d1, d2 })[k].keyid.slice(0, 12));
    const a = await advisory(sim.repo, { since: c.since, keyids });
    assert.deepEqual(a.keyids, [c.keys[0] === 'd2' ? d2.keyid : d1.keyid]);
    assert.deepEqual(Object.fromEntries(a.targets.map((t) => [t.target, t.versions])), c.want);
    for (const t of a.targets) {
      assert.equal(t.role, REL);
      assert.match(a.text, new RegExp(t.hashes.sha256));
    }
  });
}

test('advisory: revocation shows as no longer listed; targets key compromise; errors', async () => {
  const { sim, d1 } = await releasesHistory();
  removeTarget(sim.repo, T2.name);
  await sim.publish();
  const a = await advisory(sim.repo, { since: '1', keyids: [d1.keyid] });
  assert.equal(a.targets.find((t) => t.target === T2.name).current, false);
  assert.equal(a.targets.find((t) => t.target === T1.name).current, true);
  assert.match(a.text, /no longer listed/);
  assert.match(a.text, /SECURITY ADVISORY/);

  // a targets key compromise: targets itself listed a bundle
  const s2 = await Sim.create();
  addTarget(s2.repo, T1.name, T1.info);
  await s2.publish();
  const k = s2.newKey();
  rotateKeys(s2.repo, 'targets', { add: [k.publicKey], remove: [s2.keys.targets[0].keyid] });
  await s2.publish();
  const b = await advisory(s2.repo, { since: '1' });
  assert.deepEqual(b.keyids, [s2.keys.targets[0].keyid]);
  // targets v2 is also signed by the old key: the transition signature that keeps clients of
  // the old root updating while the new root is being written (ADR 0003)
  assert.deepEqual(
    b.targets.map((t) => [t.target, t.role, t.versions]),
    [[T1.name, 'targets', [1, 2]]],
  );

  await assert.rejects(advisory(sim.repo, { since: 'yesterday-ish' }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(advisory(sim.repo, { since: '1', keyids: ['ffffffffff'] }), {
    code: 'KEY_NOT_IN_ROLE',
  });
  const fresh = await Sim.create();
  addTarget(fresh.repo, T1.name, T1.info);
  await fresh.publish();
  await assert.rejects(advisory(fresh.repo, { since: '1' }), (e) => {
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.hint, /--key/);
    return true;
  });
});

test('advisory: stray files in metadata/ that name no role (1.%zz.json, a non-canonical encoding) are not versions', async () => {
  const { sim } = await releasesHistory();
  const clean = await advisory(sim.repo, { since: '1', keyids: [] });
  await sim.repo.store.write('metadata/1.%zz.json', Buffer.from('{}')); // was URIError: exit 70
  await sim.repo.store.write('metadata/9.tar%67ets.json', Buffer.from('{')); // "targets", encoded otherwise
  await sim.repo.store.write('metadata/9.a%2F..%2Fb.json', Buffer.from('{}')); // not a role name
  const a = await advisory(sim.repo, { since: '1', keyids: [] });
  assert.deepEqual(a.targets, clean.targets);
  assert.deepEqual(a.roles, clean.roles);
});
