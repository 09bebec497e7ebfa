// The key endpoints of TrustService (src/server/service-keys.ts; ADR 0021, 0022): a rotation's
// pending key signs nothing until a root listing it is accepted; then the old key is retired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rotateKeys } from '../../dist/tuf/index.js';
import { NAME } from '../helpers/sim.js';
import { changedRoles, stateOf } from '../helpers/upload.js';
import {
  addBundleUpload,
  fullUpload,
  openServer,
  rejectsCode,
  serverManagedRepo,
  tufjsWalk,
  verifyUnderRoot,
} from '../helpers/service.js';

const signedBy = async (server, role) =>
  Object.keys((await verifyUnderRoot(server.store, NAME, role)).signatures);

test('rotation: POST gives a new pending key, used only once a root listing it is uploaded; the old one retires', async (t) => {
  const server = await openServer(t, { keys: 'sqlite' });
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  await server.service.publish(NAME, fullUpload(sim));
  const k1 = await server.service.publicKey(NAME, 'timestamp');
  assert.equal(k1.state, 'active');

  const k2 = await server.service.rotateKey(NAME, 'timestamp');
  assert.equal(k2.state, 'pending');
  assert.notEqual(k2.keyid, k1.keyid);
  assert.deepEqual(
    await server.service.rotateKey(NAME, 'timestamp'),
    k2,
    'a rotation under way: the same pending key',
  );
  assert.deepEqual(await server.service.publicKey(NAME, 'timestamp'), k1, 'GET still gives the active key');

  // not in a root yet: the next timestamp is signed by k1 alone
  await server.service.publish(NAME, await addBundleUpload(sim, 'v1', ['timestamp'], server.now()));
  assert.deepEqual(await signedBy(server, 'timestamp'), [k1.keyid]);
  assert.deepEqual(
    (await server.service.refresh(NAME, { force: true })).signed.map((s) => s.role),
    ['timestamp'],
  );
  assert.deepEqual(await signedBy(server, 'timestamp'), [k1.keyid]);

  // root v2 lists k2 instead of k1
  sim.addSigners([await server.keys.signer(NAME, 'timestamp', k2.keyid)]);
  const before = stateOf(sim);
  rotateKeys(sim.repo, 'timestamp', { add: [k2.public], remove: [k1.keyid] });
  await sim.publish({ now: server.now() });
  const upload = changedRoles(before, stateOf(sim)).filter((p) => p.role !== 'timestamp');
  assert.ok(upload.some((p) => p.role === 'root'));
  const r = await server.service.publish(NAME, upload);
  assert.deepEqual(
    r.stored.filter((s) => s.signedByServer).map((s) => [s.role, s.version]),
    [['timestamp', 4]],
  );
  assert.deepEqual(await signedBy(server, 'timestamp'), [k2.keyid]);
  const states = Object.fromEntries(
    (await server.keys.list(NAME, 'timestamp')).map((k) => [k.keyid, k.state]),
  );
  assert.deepEqual(states, { [k1.keyid]: 'retired', [k2.keyid]: 'active' });
  await rejectsCode(server.keys.signer(NAME, 'timestamp', k1.keyid), 'ONLINE_KEY_RETIRED');
  assert.deepEqual(await server.service.publicKey(NAME, 'timestamp'), { ...k2, state: 'active' });

  // refresh signs with k2 only; a client walks root v1 → v2 and trusts the result
  await server.service.refresh(NAME, { force: true });
  assert.deepEqual(await signedBy(server, 'timestamp'), [k2.keyid]);
  const info = await tufjsWalk(t, server.store, NAME, `${NAME}:v1`);
  assert.equal(info.length, Buffer.byteLength('bundle v1'));
});

test('snapshot is server-managed only when asked: without GET snapshot.key the server holds no snapshot key', async (t) => {
  const server = await openServer(t);
  await server.service.publicKey(NAME, 'timestamp');
  assert.deepEqual(await server.keys.list(NAME, 'snapshot'), []);
  const snap = await server.service.publicKey(NAME, 'snapshot');
  assert.equal(snap.state, 'pending');
  assert.deepEqual(
    (await server.keys.list(NAME, 'snapshot')).map((k) => k.keyid),
    [snap.keyid],
  );
});

test('a missed activation (crash between commit and activate) is repaired by the next key request', async (t) => {
  const server = await openServer(t);
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  const k1 = await server.service.publicKey(NAME, 'timestamp');
  // store the upload and the server's timestamp without running publish's activation
  const bare = await openServer(t, { dir: server.dir, keys: 'none', now: server.now });
  const upload = fullUpload(sim, []);
  await bare.service.publish(NAME, upload);
  assert.equal((await server.keys.list(NAME, 'timestamp'))[0].state, 'pending');
  assert.deepEqual(await server.service.publicKey(NAME, 'timestamp'), { ...k1, state: 'active' });
  const k2 = await server.service.rotateKey(NAME, 'timestamp');
  assert.notEqual(k2.keyid, k1.keyid, 'the listed key is not handed out as the rotation key');
});
