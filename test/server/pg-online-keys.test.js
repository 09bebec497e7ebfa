// Server-managed online keys (ADR 0021) on PostgreSQL (src/server/pg-online-keys.ts, ADR 0031):
// the pending → active → retired life, signers, sealed rows only (no private key bytes in the
// table), one pending key when two processes (two pools) ask at once, master-key rotation with
// reseal. A private cluster for this file (test/helpers/postgres.js); skipped where PostgreSQL
// cannot run, with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, verify } from 'node:crypto';
import pg from 'pg';
import { MasterKey } from '../../dist/server/master-key.js';
import { openPgOnlineKeys, PgOnlineKeys } from '../../dist/server/pg-online-keys.js';
import { openPgStore } from '../../dist/server/pg-store.js';
import { publicKeyObject, verifySignature } from '../../dist/crypto/index.js';
import { startPostgres } from '../helpers/postgres.js';

const master = () => MasterKey.fromBytes(randomBytes(32));

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return true;
  });
}

async function keysOn(t, url, ring) {
  const keys = await openPgOnlineKeys({ url, master: ring });
  t.after(() => keys.close());
  return keys;
}

test('postgres OnlineKeys: pending once, signer verifies, activate and retire, delete per repository', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const m = master();
  const keys = await keysOn(t, db.url, { current: m });
  const [p1, p2] = await Promise.all([
    keys.getOrCreatePending('r', 'timestamp'),
    keys.getOrCreatePending('r', 'timestamp'),
  ]);
  assert.equal(p1.keyid, p2.keyid);
  assert.equal(p1.state, 'pending');
  const snap = await keys.getOrCreatePending('r', 'snapshot', 'ecdsa');
  const data = Buffer.from('canonical bytes');
  const sig = await (await keys.signer('r', 'timestamp', p1.keyid)).sign(data);
  assert.ok(verify(null, data, publicKeyObject(p1.public), sig));
  const esig = await (await keys.signer('r', 'snapshot', snap.keyid)).sign(data);
  assert.ok(verify('sha256', data, { key: publicKeyObject(snap.public), dsaEncoding: 'der' }, esig));
  await keys.activate('r', 'timestamp', [p1.keyid]);
  const p3 = await keys.getOrCreatePending('r', 'timestamp');
  assert.notEqual(p3.keyid, p1.keyid);
  const listed = await keys.activate('r', 'timestamp', [p3.keyid]);
  assert.deepEqual(
    new Map(listed.map((k) => [k.keyid, k.state])),
    new Map([
      [p1.keyid, 'retired'],
      [p3.keyid, 'active'],
    ]),
  );
  await rejectsCode(keys.signer('r', 'timestamp', p1.keyid), 'ONLINE_KEY_RETIRED');
  await rejectsCode(keys.signer('r', 'timestamp', 'ee'.repeat(32)), 'ONLINE_KEY_UNKNOWN');
  await rejectsCode(keys.signer('other', 'timestamp', p3.keyid), 'ONLINE_KEY_UNKNOWN');
  await keys.getOrCreatePending('r2', 'timestamp');
  assert.equal(await keys.deleteRepo('r2'), 1);
  assert.equal((await keys.list('r', 'timestamp')).length, 2, 'other repositories keep their keys');
  // Another master key opens nothing; a row moved to another repository does not open (AAD).
  const wrong = await keysOn(t, db.url, { current: master() });
  await rejectsCode(wrong.signer('r', 'timestamp', p3.keyid), 'KEK_UNKNOWN');
  const raw = new pg.Client({ connectionString: db.url });
  await raw.connect();
  t.after(() => raw.end());
  await raw.query("UPDATE online_keys SET repo = 'moved' WHERE repo = 'r' AND role = 'snapshot'");
  await rejectsCode(keys.signer('moved', 'snapshot', snap.keyid), 'UNSEAL_FAILED');
  // The table holds sealed keys only: no row contains a private key's DER.
  const rows = (await raw.query('SELECT public, ciphertext, nonce, tag FROM online_keys')).rows;
  const signer = await keys.signer('r', 'timestamp', p3.keyid);
  assert.ok(verifySignature(p3.public, data, await signer.sign(data)));
  for (const r of rows) {
    assert.doesNotMatch(r.public, /PRIVATE/);
    assert.equal(r.nonce.length, 12);
    assert.equal(r.tag.length, 16);
  }
  // One pending key per role, by the schema too.
  await keys.getOrCreatePending('r', 'timestamp');
  await assert.rejects(
    raw.query(
      "INSERT INTO online_keys SELECT repo, role, $1, public, 'pending', kek_id, nonce, ciphertext, tag, created_at FROM online_keys WHERE repo = 'r' AND keyid = $2",
      ['ff'.repeat(32), p3.keyid],
    ),
    /duplicate key/,
  );
});

test('postgres OnlineKeys: two processes (two pools, a store pool shared) ask at once: one pending key each', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const m = master();
  const store = await openPgStore({ url: db.url });
  t.after(() => store.close());
  const a = PgOnlineKeys.open({ pool: store.pgPool, master: { current: m } });
  const b = await keysOn(t, db.url, { current: m });
  const repos = Array.from({ length: 10 }, (_, i) => `acme/app${i}`);
  const got = await Promise.all(
    repos.flatMap((repo) => [a, b, a, b].map((k) => k.getOrCreatePending(repo, 'timestamp'))),
  );
  for (let i = 0; i < repos.length; i++) {
    const ids = new Set(got.slice(i * 4, i * 4 + 4).map((k) => k.keyid));
    assert.equal(ids.size, 1, repos[i]);
    assert.equal((await b.list(repos[i], 'timestamp')).length, 1);
  }
  await a.close(); // a shared pool is not ended by the keys
  await store.ping();
});

test('postgres OnlineKeys: master-key rotation: previous keys open, reseal moves every key', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const oldKey = master();
  const newKey = master();
  const before = await keysOn(t, db.url, { current: oldKey });
  const ts = await before.getOrCreatePending('r', 'timestamp');
  const sn = await before.getOrCreatePending('r', 'snapshot', 'ecdsa');
  const after = await keysOn(t, db.url, { current: newKey, previous: [oldKey] });
  const data = Buffer.from('after rotation');
  assert.ok(
    verifySignature(ts.public, data, await (await after.signer('r', 'timestamp', ts.keyid)).sign(data)),
  );
  assert.equal(await after.reseal(1), 2);
  assert.equal(await after.reseal(), 0, 'a second reseal has nothing to do');
  const only = await keysOn(t, db.url, { current: newKey });
  for (const [role, k] of [
    ['timestamp', ts],
    ['snapshot', sn],
  ])
    assert.ok(verifySignature(k.public, data, await (await only.signer('r', role, k.keyid)).sign(data)));
  await rejectsCode(
    (await keysOn(t, db.url, { current: oldKey })).signer('r', 'timestamp', ts.keyid),
    'KEK_UNKNOWN',
  );
  const stranger = await keysOn(t, db.url, { current: master() });
  await stranger.getOrCreatePending('s', 'timestamp');
  await rejectsCode(only.reseal(), 'KEK_UNKNOWN');
});
