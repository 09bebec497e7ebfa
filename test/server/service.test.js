// TrustService.publish (src/server/service.ts, service-publish.ts; ADR 0022) on a real SQLite
// store: server-managed timestamp, server-managed snapshot + timestamp, developer-managed
// repositories stored byte for byte, refusals that store nothing, and the threshold a server
// holding one key cannot meet.
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rotateKeys } from '../../dist/tuf/index.js';
import { NAME, Sim, newSigners } from '../helpers/sim.js';
import { LAYOUT, changedRoles, forge, part, stateOf } from '../helpers/upload.js';
import {
  addBundleUpload,
  fullUpload,
  openServer,
  parseJson,
  rejectsCode,
  serverManagedRepo,
  tufjsWalk,
  verifyUnderRoot,
} from '../helpers/service.js';

const roles = (r) => r.stored.map((s) => [s.role, s.version, s.signedByServer]);

test('server-managed timestamp: GET key, a root listing it, upload without timestamp, the server signs it', async (t) => {
  const server = await openServer(t);
  const key = await server.service.publicKey(NAME, 'timestamp');
  assert.equal(key.state, 'pending');
  assert.deepEqual(await server.service.publicKey(NAME, 'timestamp'), key, 'GET twice: the same key');
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  assert.deepEqual(sim.repo.root.signed.roles.timestamp.keyIDs, [key.keyid]);

  const upload = fullUpload(sim);
  assert.deepEqual(upload.map((p) => p.role).sort(), ['root', 'snapshot', 'targets']);
  const r = await server.service.publish(NAME, upload);
  assert.deepEqual(roles(r), [
    ['root', 1, false],
    ['targets', 1, false],
    ['snapshot', 1, false],
    ['timestamp', 1, true],
  ]);
  // the uploaded roles are stored as uploaded; the timestamp lists the uploaded snapshot
  for (const p of upload)
    assert.deepEqual(Buffer.from((await server.store.getCurrent(NAME, p.role)).bytes), p.bytes);
  const ts = await verifyUnderRoot(server.store, NAME, 'timestamp');
  assert.deepEqual(Object.keys(ts.signatures), [key.keyid]);
  const snap = await server.store.getCurrent(NAME, 'snapshot');
  assert.equal(ts.signed.snapshotMeta.hashes.sha256, snap.sha256);
  assert.equal(
    ts.signed.expires,
    new Date(server.now().getTime() + 86_400_000).toISOString().replace('.000Z', 'Z'),
  );
  assert.deepEqual(await server.service.publicKey(NAME, 'timestamp'), { ...key, state: 'active' });
  assert.deepEqual(server.log, [
    ['uploadAccepted', NAME],
    ['signed', NAME, 'timestamp'],
  ]);

  // the next release: targets + snapshot uploaded, timestamp v2 by the server; a client sees it
  const next = await addBundleUpload(sim, 'v1', ['timestamp'], server.now());
  assert.deepEqual(next.map((p) => p.role).sort(), ['snapshot', 'targets']);
  const r2 = await server.service.publish(NAME, next);
  assert.deepEqual(roles(r2), [
    ['targets', 2, false],
    ['snapshot', 2, false],
    ['timestamp', 2, true],
  ]);
  await verifyUnderRoot(server.store, NAME, 'timestamp');
  const info = await tufjsWalk(t, server.store, NAME, `${NAME}:v1`);
  assert.equal(info.length, Buffer.byteLength('bundle v1'));
});

test('server-managed snapshot and timestamp: upload root + targets only', async (t) => {
  const server = await openServer(t, { keys: 'sqlite' });
  const online = ['snapshot', 'timestamp'];
  const sim = await serverManagedRepo(t, server, { online, now: server.now() });
  const upload = fullUpload(sim, online);
  assert.deepEqual(upload.map((p) => p.role).sort(), ['root', 'targets']);
  const r = await server.service.publish(NAME, upload);
  assert.deepEqual(roles(r), [
    ['root', 1, false],
    ['targets', 1, false],
    ['snapshot', 1, true],
    ['timestamp', 1, true],
  ]);
  const snap = await verifyUnderRoot(server.store, NAME, 'snapshot');
  assert.equal(snap.signed.meta['targets.json'].version, 1);
  await verifyUnderRoot(server.store, NAME, 'timestamp');

  const r2 = await server.service.publish(NAME, await addBundleUpload(sim, 'v2', online, server.now()));
  assert.deepEqual(roles(r2), [
    ['targets', 2, false],
    ['snapshot', 2, true],
    ['timestamp', 2, true],
  ]);
  const targets = await server.store.getCurrent(NAME, 'targets');
  const snap2 = await verifyUnderRoot(server.store, NAME, 'snapshot');
  assert.deepEqual(snap2.signed.meta['targets.json'].version, 2);
  assert.equal(snap2.signed.meta['targets.json'].length, targets.bytes.byteLength);
  const info = await tufjsWalk(t, server.store, NAME, `${NAME}:v2`);
  assert.equal(info.length, Buffer.byteLength('bundle v2'));
  assert.deepEqual(
    server.log.filter((e) => e[0] === 'signed').map((e) => e[2]),
    ['snapshot', 'timestamp', 'snapshot', 'timestamp'],
  );
});

test('developer-managed: stored byte for byte, nothing signed; without keys the key endpoints are disabled', async (t) => {
  for (const keys of ['none', 'memory']) {
    const server = await openServer(t, { keys });
    // a key the server holds but the root does not list changes nothing
    if (keys === 'memory') await server.service.publicKey(NAME, 'timestamp');
    const sim = await Sim.create(t);
    const upload = changedRoles({}, stateOf(sim));
    const r = await server.service.publish(NAME, upload);
    assert.deepEqual(
      roles(r).map(([role, v, byServer]) => [role, v, byServer]),
      [
        ['root', 1, false],
        ['targets', 1, false],
        ['snapshot', 1, false],
        ['timestamp', 1, false],
      ],
    );
    const stored = await server.store.currentState(NAME);
    assert.deepEqual(
      Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, Buffer.from(v)])),
      stateOf(sim),
      keys,
    );
    if (keys === 'none') {
      await rejectsCode(server.service.publicKey(NAME, 'timestamp'), 'ONLINE_KEYS_DISABLED');
      await rejectsCode(server.service.rotateKey(NAME, 'snapshot'), 'ONLINE_KEYS_DISABLED');
      assert.deepEqual(await server.service.refresh(NAME, { force: true }), { repo: NAME, signed: [] });
    } else await rejectsCode(server.service.publicKey(NAME, 'targets'), 'ONLINE_ROLE_INVALID');
  }
});

test('refused: nothing stored, the refusal reason emitted; a lost race is VERSION_CONFLICT', async (t) => {
  const server = await openServer(t, { keys: 'sqlite' });
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  await server.service.publish(NAME, fullUpload(sim));
  const before = await server.store.currentState(NAME);
  const next = await addBundleUpload(sim, 'v1', ['timestamp'], server.now());
  // targets changed after signing: its signature no longer verifies
  const json = parseJson(part(next, 'targets').bytes);
  json.signed.targets[`${NAME}:evil`] = { length: 1, hashes: { sha256: 'ab'.repeat(32) } };
  const bad = next.map((p) =>
    p.role === 'targets' ? { role: 'targets', bytes: Buffer.from(JSON.stringify(json)) } : p,
  );
  const e = await rejectsCode(server.service.publish(NAME, bad), 'UPLOAD_REFUSED');
  assert.equal(e.details.code, 'BAD_TARGETS');
  assert.equal(e.details.role, 'targets');
  assert.deepEqual(await server.store.currentState(NAME), before);
  assert.deepEqual(server.log.at(-1), ['uploadRefused', NAME, 'BAD_TARGETS']);

  // two processes upload the same next version: one wins, the other stores nothing
  const other = await openServer(t, {
    dir: server.dir,
    keys: 'sqlite',
    master: server.master,
    now: server.now,
  });
  const results = await Promise.allSettled([
    server.service.publish(NAME, next),
    other.service.publish(NAME, next),
  ]);
  assert.deepEqual(results.map((x) => x.status).sort(), ['fulfilled', 'rejected']);
  const lost = results.find((x) => x.status === 'rejected').reason;
  // lost the commit, or read the winner's state (its version now equal to the stored one):
  // both are VERSION_CONFLICT, the 409 a client answers with pull and retry
  assert.equal(lost.code, 'VERSION_CONFLICT', lost.message);
  assert.equal((await server.store.getCurrent(NAME, 'targets')).version, 2);
  assert.equal((await server.store.getCurrent(NAME, 'timestamp')).version, 2);
  const refusals = [...server.log, ...other.log].filter((x) => x[0] === 'uploadRefused');
  assert.equal(refusals.length, 2);
  assert.equal(refusals[1][2], 'VERSION_CONFLICT');
});

test('refused: a server-held role with threshold 2 when the server holds one key', async (t) => {
  const server = await openServer(t);
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  await server.service.publish(NAME, fullUpload(sim));
  const [extra] = newSigners(1);
  sim.addSigners([extra]);
  const v1 = stateOf(sim);
  rotateKeys(sim.repo, 'timestamp', { add: [extra.publicKey], threshold: 2 });
  await sim.publish({ now: server.now() });
  const upload = changedRoles(v1, stateOf(sim)).filter((p) => p.role !== 'timestamp');
  assert.deepEqual(upload.map((p) => p.role).sort(), ['root', 'snapshot']);
  const before = await server.store.currentState(NAME);
  const e = await rejectsCode(server.service.publish(NAME, upload), 'UPLOAD_REFUSED');
  assert.equal(e.details.code, 'BAD_HIERARCHY');
  assert.equal(e.details.rule, 'timestamp-not-server-held');
  assert.match(e.message, /holds 1 of the 2 timestamp keys root v2 requires \(threshold 2/);
  assert.deepEqual(await server.store.currentState(NAME), before);
});

test('an uploaded timestamp forged with the right key but wrong content is refused', async (t) => {
  const server = await openServer(t);
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  const upload = fullUpload(sim);
  const signer = await server.keys.signer(NAME, 'timestamp', sim.repo.root.signed.roles.timestamp.keyIDs[0]);
  const ts = await forge(stateOf(sim).timestamp, (s) => (s.meta['snapshot.json'].version = 9), [signer]);
  const e = await rejectsCode(
    server.service.publish(NAME, [...upload, { role: 'timestamp', bytes: ts }]),
    'UPLOAD_REFUSED',
  );
  assert.equal(e.details.code, 'BAD_TIMESTAMP');
  assert.deepEqual(await server.store.currentState(NAME), {});
});

test('deleteRepo removes files and keys; ping answers', async (t) => {
  const server = await openServer(t);
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  await server.service.publish(NAME, fullUpload(sim));
  await server.service.ping();
  assert.equal(await server.service.deleteRepo(NAME), true);
  assert.deepEqual(await server.store.currentState(NAME), {});
  assert.deepEqual(await server.keys.list(NAME, 'timestamp'), []);
  assert.equal(await server.service.deleteRepo(NAME), false);
});

test('target files are stored with the upload; reads by current, version, checksum and path', async (t) => {
  const server = await openServer(t);
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  await server.service.publish(NAME, fullUpload(sim));
  const before = stateOf(sim);
  const layout = Buffer.from('{"_type":"layout"}');
  sim.addFile(LAYOUT, layout);
  await sim.publish({ now: server.now() });
  const upload = changedRoles(before, stateOf(sim)).filter((p) => p.role !== 'timestamp');
  const r = await server.service.publish(NAME, [...upload, { path: LAYOUT, bytes: layout }]);
  const sha256 = createHash('sha256').update(layout).digest('hex');
  assert.deepEqual(r.targetFiles, [{ path: LAYOUT, sha256, length: layout.length }]);
  assert.deepEqual(Buffer.from((await server.service.targetFile(NAME, LAYOUT)).bytes), layout);
  assert.deepEqual(Buffer.from((await server.service.targetFile(NAME, LAYOUT, sha256)).bytes), layout);
  assert.equal(await server.service.targetFile(NAME, LAYOUT, '0'.repeat(64)), undefined);
  const ts = await server.service.current(NAME, 'timestamp');
  assert.equal(ts.version, 2);
  assert.deepEqual(await server.service.byVersion(NAME, 'timestamp', 2), ts);
  assert.deepEqual(await server.service.byChecksum(NAME, 'timestamp', ts.sha256), ts);
  assert.equal((await server.service.byVersion(NAME, 'timestamp', 1)).version, 1);
  assert.equal(await server.service.current('example.com/org/none', 'root'), undefined);
});

test('an observer that throws does not fail a committed publish', async (t) => {
  const boom = () => {
    throw new Error('metrics broken');
  };
  const server = await openServer(t, { events: { uploadAccepted: boom, signed: boom } });
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  const r = await server.service.publish(NAME, fullUpload(sim));
  assert.equal(r.stored.length, 4);
  assert.equal((await server.store.getCurrent(NAME, 'timestamp')).version, 1);
});
