// The server's upload validation (ADR 0019), continued from ./validate.test.js: root rotation
// (old and new keys, no skipped version, a new repository's self-signed v1) and the delegation
// tree (a delegated role under its current parent, a removed delegation kept in the snapshot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateUpload } from '../../dist/server/validate.js';
import { buildSnapshot, stateAfter } from '../../dist/server/build.js';
import { removeDelegation, rotateKeys } from '../../dist/tuf/index.js';
import { NAME, Sim, newSigners } from '../helpers/sim.js';
import {
  NOW,
  assertRefused,
  changedRoles,
  forge,
  parse,
  part,
  roleSigners,
  stateOf,
  twoStates,
} from '../helpers/upload.js';

test('accepted: a root rotation signed by the old and the new root keys', async (t) => {
  const [k] = newSigners(1);
  const { before, upload } = await twoStates(t, (sim) => {
    sim.addSigners([k]);
    rotateKeys(sim.repo, 'root', { add: [k.publicKey], remove: [sim.repo.root.signed.roles.root.keyIDs[0]] });
  });
  assert.ok(part(upload, 'root'));
  const r = validateUpload(before, upload, { now: NOW() });
  assert.equal(r.ok, true, r.refusal?.message);
  assert.equal(r.accepted[0].role, 'root');
  assert.equal(r.accepted[0].version, 2);
  // the same root without the old key's signature: a client of root v1 refuses it (TUF §5.3.4)
  const oldId = parse(before.root).signatures[0].keyid;
  const json = parse(part(upload, 'root').bytes);
  json.signatures = json.signatures.filter((s) => s.keyid !== oldId);
  const files = upload.map((p) =>
    p.role === 'root' ? { role: 'root', bytes: Buffer.from(JSON.stringify(json)) } : p,
  );
  assertRefused(before, files, {}, 'BAD_ROOT', 'root', 'old-root-threshold');
});

test('refused: a root skipping a version', async (t) => {
  const sim = await Sim.create(t);
  const before = stateOf(sim);
  for (let i = 0; i < 2; i++) {
    const [k] = newSigners(1);
    sim.addSigners([k]);
    rotateKeys(sim.repo, 'root', { add: [k.publicKey] });
    await sim.publish();
  }
  const upload = changedRoles(before, stateOf(sim));
  assert.equal(parse(part(upload, 'root').bytes).signed.version, 3);
  const refusal = assertRefused(before, upload, {}, 'BAD_ROOT', 'root', 'root-version-skip');
  assert.equal(refusal.version, 3);
});

test('new repository: root must be version 1 and self-signed', async (t) => {
  const sim = await Sim.create(t);
  const upload = changedRoles({}, stateOf(sim));
  const root = parse(part(upload, 'root').bytes);
  const v2 = await forge(part(upload, 'root').bytes, (s) => (s.version = 2), roleSigners(sim, 'root'));
  const swap = (bytes) => upload.map((p) => (p.role === 'root' ? { role: 'root', bytes } : p));
  assertRefused({}, swap(v2), {}, 'BAD_ROOT', 'root', 'root-version-skip');
  root.signatures = [];
  assertRefused({}, swap(Buffer.from(JSON.stringify(root))), {}, 'BAD_ROOT', 'root', 'threshold');
});

test('refused: a root that re-keys targets without the re-signed targets', async (t) => {
  const [k] = newSigners(1);
  const { before, upload } = await twoStates(t, (sim) => {
    sim.addSigners([k]);
    rotateKeys(sim.repo, 'targets', {
      add: [k.publicKey],
      remove: [sim.repo.root.signed.roles.targets.keyIDs[0]],
    });
  });
  assert.deepEqual(upload.map((p) => p.role).sort(), ['root', 'snapshot', 'targets', 'timestamp']);
  const r = validateUpload(before, upload, { now: NOW() });
  assert.equal(r.ok, true, r.refusal?.message);
  const refusal = assertRefused(before, [part(upload, 'root')], {}, 'BAD_TARGETS', 'targets', 'threshold');
  assert.match(refusal.message, /not uploaded/);
});

test('accepted: a delegated role alone (its parent current), and a removed delegation kept in snapshot', async (t) => {
  const sim = await Sim.create(t);
  sim.delegateReleases(1, [`${NAME}:*`]);
  await sim.publish();
  const s1 = stateOf(sim);
  sim.addBundle('v2');
  await sim.publish();
  const s2 = stateOf(sim);
  const upload = changedRoles(s1, s2);
  assert.deepEqual(upload.map((p) => p.role).sort(), ['snapshot', 'targets/releases', 'timestamp']);
  const r = validateUpload(s1, upload, { now: NOW() });
  assert.equal(r.ok, true, r.refusal?.message);
  // the parent drops the delegation: the snapshot still lists releases (TUF §5.5.5)
  removeDelegation(sim.repo, 'targets/releases');
  await sim.publish();
  const s3 = stateOf(sim);
  const r3 = validateUpload(s2, changedRoles(s2, s3), { now: NOW() });
  assert.equal(r3.ok, true, r3.refusal?.message);
  const snap = parse(s3.snapshot).signed;
  assert.ok(snap.meta['targets/releases.json']);
  const built = buildSnapshot(stateAfter(s2, r3.accepted), { version: snap.version, expires: snap.expires });
  assert.deepEqual(built, snap);
});
