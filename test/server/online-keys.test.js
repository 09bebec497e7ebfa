// Server-managed online keys (src/server/master-key.ts, seal.ts, online-keys.ts,
// sqlite-online-keys.ts; ADR 0021): master key loading, AES-256-GCM sealing bound to
// repo|role|keyid, the pending → active → retired life, signers, and the SQLite table
// (idempotent across connections, no private key bytes in the file, v1 → v2 migration).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, randomBytes, verify } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { inspect } from 'node:util';
import Database from 'better-sqlite3';
import { loadMasterKey, MasterKey } from '../../dist/server/master-key.js';
import { sealPrivateKey, unsealPrivateKey } from '../../dist/server/seal.js';
import { activationStates, memoryOnlineKeys } from '../../dist/server/online-keys.js';
import { SqliteOnlineKeys } from '../../dist/server/sqlite-online-keys.js';
import { MIGRATIONS, migrateSchema } from '../../dist/server/sqlite-schema.js';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { generateKeyPair, publicKeyObject, verifySignature } from '../../dist/crypto/index.js';
import { tempDir } from '../helpers/tmp.js';

const HEX = 'a1'.repeat(32);
const ENV = 'CNABSEC_SERVER_MASTER_KEY';
const kek = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 8);
const master = (b = randomBytes(32)) => MasterKey.fromBytes(b);

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return true;
  });
}
function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return true;
  });
}

test('master key from the environment: hex, base64, base64url; bad length refused; missing', async () => {
  const bytes = Buffer.from(HEX, 'hex');
  const fromHex = await loadMasterKey({ env: { [ENV]: `${HEX}\n` } });
  assert.equal(fromHex.kekId, kek(bytes));
  assert.equal((await loadMasterKey({ env: { [ENV]: bytes.toString('base64') } })).kekId, kek(bytes));
  const other = randomBytes(32);
  assert.equal((await loadMasterKey({ env: { [ENV]: other.toString('base64url') } })).kekId, kek(other));
  for (const bad of ['a1'.repeat(31), 'a1'.repeat(33), randomBytes(31).toString('base64'), 'zz'.repeat(32)])
    await rejectsCode(loadMasterKey({ env: { [ENV]: bad } }), 'MASTER_KEY_INVALID');
  await rejectsCode(loadMasterKey({ env: {} }), 'MASTER_KEY_MISSING');
  await rejectsCode(loadMasterKey({ env: { [ENV]: '' } }), 'MASTER_KEY_MISSING');
  throwsCode(() => MasterKey.fromBytes(randomBytes(16)), 'MASTER_KEY_INVALID');
});

test('master key file: 0600 text or raw bytes; group/other-readable refused; missing; both sources refused', async (t) => {
  const dir = await tempDir(t, 'cnabsec-mk-');
  const file = path.join(dir, 'master.key');
  await writeFile(file, `${HEX}\n`, { mode: 0o600 });
  assert.equal((await loadMasterKey({ file, env: {} })).kekId, kek(Buffer.from(HEX, 'hex')));
  const raw = randomBytes(32);
  await writeFile(file, raw);
  await chmod(file, 0o600);
  assert.equal((await loadMasterKey({ file, env: {} })).kekId, kek(raw));
  if (process.platform !== 'win32') {
    for (const mode of [0o640, 0o604, 0o660]) {
      await chmod(file, mode);
      await rejectsCode(loadMasterKey({ file, env: {} }), 'MASTER_KEY_UNSAFE');
    }
    await chmod(file, 0o600);
  }
  await writeFile(file, 'a1'.repeat(40));
  await rejectsCode(loadMasterKey({ file, env: {} }), 'MASTER_KEY_INVALID');
  await writeFile(file, Buffer.alloc(5000, 0x61));
  await rejectsCode(loadMasterKey({ file, env: {} }), 'MASTER_KEY_INVALID');
  await rejectsCode(loadMasterKey({ file: path.join(dir, 'none'), env: {} }), 'MASTER_KEY_MISSING');
  await rejectsCode(loadMasterKey({ file: dir, env: {} }), 'MASTER_KEY_INVALID');
  await rejectsCode(loadMasterKey({ file, env: { [ENV]: HEX } }), 'MASTER_KEY_INVALID');
});

test('a loaded master key never shows its bytes (JSON, inspect, String, errors)', async () => {
  const key = await loadMasterKey({ env: { [ENV]: HEX } });
  const b64 = Buffer.from(HEX, 'hex').toString('base64');
  for (const text of [
    JSON.stringify(key),
    JSON.stringify({ key }),
    inspect(key, { showHidden: true, depth: 9 }),
    String(key),
  ]) {
    assert.ok(text.includes(key.kekId), text);
    assert.ok(!text.toLowerCase().includes(HEX) && !text.includes(b64) && !text.includes('a1a1a1'), text);
  }
  const err = await loadMasterKey({ env: { [ENV]: HEX.slice(2) } }).catch((e) => e);
  assert.ok(!JSON.stringify(err.toJSON()).includes(HEX.slice(2)) && !err.message.includes(HEX.slice(2)));
});

test('seal/unseal round trip; wrong master key, wrong AAD, tampered parts refused with a code', () => {
  const m = master();
  const der = generateKeyPair('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
  const ctx = { repo: 'example.com/app', role: 'timestamp', keyid: 'ab'.repeat(32) };
  const sealed = sealPrivateKey(m, der, ctx);
  assert.equal(sealed.kekId, m.kekId);
  assert.equal(sealed.nonce.length, 12);
  assert.equal(sealed.tag.length, 16);
  assert.ok(!sealed.ciphertext.includes(der.subarray(-32)));
  assert.deepEqual(unsealPrivateKey(m, sealed, ctx), der);
  assert.notDeepEqual(sealPrivateKey(m, der, ctx).nonce, sealed.nonce);
  throwsCode(() => unsealPrivateKey(master(), sealed, ctx), 'KEK_UNKNOWN');
  // a different key claiming the blob's kek id: the tag check refuses it
  const impostor = master();
  throwsCode(() => unsealPrivateKey(impostor, { ...sealed, kekId: impostor.kekId }, ctx), 'UNSEAL_FAILED');
  for (const moved of [
    { ...ctx, repo: 'example.com/other' },
    { ...ctx, role: 'snapshot' },
    { ...ctx, keyid: 'cd'.repeat(32) },
  ])
    throwsCode(() => unsealPrivateKey(m, sealed, moved), 'UNSEAL_FAILED');
  const flip = (b) => {
    const c = Buffer.from(b);
    c[0] ^= 1;
    return c;
  };
  for (const part of ['nonce', 'ciphertext', 'tag'])
    throwsCode(() => unsealPrivateKey(m, { ...sealed, [part]: flip(sealed[part]) }, ctx), 'UNSEAL_FAILED');
  throwsCode(() => unsealPrivateKey(m, { ...sealed, tag: sealed.tag.subarray(0, 8) }, ctx), 'UNSEAL_FAILED');
  // rotation: a ring with the old key as previous opens it
  const next = master();
  assert.deepEqual(unsealPrivateKey({ current: next, previous: [m] }, sealed, ctx), der);
});

test('activationStates: listed keys active, formerly active unlisted retired, pending unlisted kept', () => {
  const row = (keyid, state) => ({ keyid, state });
  const changes = activationStates(
    [row('a', 'active'), row('b', 'pending'), row('c', 'active'), row('d', 'retired')],
    ['b', 'c', 'x'],
  );
  assert.deepEqual([...changes].sort(), [
    ['a', 'retired'],
    ['b', 'active'],
  ]);
  assert.deepEqual([...activationStates([row('p', 'pending')], [])], []);
});

/** The life of a role's keys, run against each backend. */
async function lifecycle(keys) {
  assert.deepEqual(await keys.list('r', 'timestamp'), []);
  const [p1, p2] = await Promise.all([
    keys.getOrCreatePending('r', 'timestamp'),
    keys.getOrCreatePending('r', 'timestamp'),
  ]);
  assert.equal(p1.keyid, p2.keyid);
  assert.equal(p1.state, 'pending');
  assert.equal(p1.public.keytype, 'ed25519');
  assert.equal((await keys.getOrCreatePending('r', 'timestamp')).keyid, p1.keyid);
  assert.equal((await keys.list('r', 'timestamp')).length, 1);
  const snap = await keys.getOrCreatePending('r', 'snapshot', 'ecdsa');
  assert.notEqual(snap.keyid, p1.keyid);
  assert.equal(snap.public.keytype, 'ecdsa');

  const signer = await keys.signer('r', 'timestamp', p1.keyid);
  assert.equal(signer.keyid, p1.keyid);
  const data = Buffer.from('canonical bytes');
  const sig = await signer.sign(data);
  assert.ok(verify(null, data, publicKeyObject(p1.public), sig), 'node:crypto verify');
  assert.ok(verifySignature(p1.public, data, sig));
  assert.ok(!verify(null, Buffer.from('other bytes'), publicKeyObject(p1.public), sig));
  const esig = await (await keys.signer('r', 'snapshot', snap.keyid)).sign(data);
  assert.ok(verify('sha256', data, { key: publicKeyObject(snap.public), dsaEncoding: 'der' }, esig));

  let listed = await keys.activate('r', 'timestamp', [p1.keyid]);
  assert.deepEqual(
    listed.map((k) => [k.keyid, k.state]),
    [[p1.keyid, 'active']],
  );
  const p3 = await keys.getOrCreatePending('r', 'timestamp');
  assert.notEqual(p3.keyid, p1.keyid, 'rotation: a new pending key next to the active one');
  // a root not yet listing the new key changes nothing
  listed = await keys.activate('r', 'timestamp', [p1.keyid]);
  assert.deepEqual(
    new Map(listed.map((k) => [k.keyid, k.state])),
    new Map([
      [p1.keyid, 'active'],
      [p3.keyid, 'pending'],
    ]),
  );
  listed = await keys.activate('r', 'timestamp', [p3.keyid]);
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
  assert.ok((await (await keys.signer('r', 'timestamp', p3.keyid)).sign(data)).length === 64);
  assert.deepEqual(await keys.list('other', 'timestamp'), []);
  await keys.getOrCreatePending('r2', 'timestamp');
  assert.equal(await keys.deleteRepo('r2'), 1);
  assert.deepEqual(await keys.list('r2', 'timestamp'), []);
  assert.equal((await keys.list('r', 'timestamp')).length, 2, 'other repositories keep their keys');
  return { p1, p3, snap };
}

test('memory OnlineKeys: pending once, signer verifies, activate/retire, cache bounded', async () => {
  await lifecycle(memoryOnlineKeys({ master: { current: master() } }));
  const small = memoryOnlineKeys({ master: { current: master() }, cacheSize: 2 });
  for (const role of ['a', 'b', 'c', 'd']) {
    const k = await small.getOrCreatePending('r', role);
    await small.signer('r', role, k.keyid);
  }
  assert.equal(small.cachedKeys, 2);
});

async function sqliteKeys(t, file, m) {
  const keys = SqliteOnlineKeys.open({ path: file, master: { current: m } });
  t.after(() => keys.close());
  return keys;
}

test('SQLite OnlineKeys: the same life; keys survive reopening; pending once across two connections', async (t) => {
  const dir = await tempDir(t, 'cnabsec-okeys-');
  const file = path.join(dir, 'server.db');
  const m = master();
  const a = await sqliteKeys(t, file, m);
  const { p3 } = await lifecycle(a);
  const b = await sqliteKeys(t, file, m);
  const [x, y] = await Promise.all([
    a.getOrCreatePending('s', 'timestamp'),
    b.getOrCreatePending('s', 'timestamp'),
  ]);
  assert.equal(x.keyid, y.keyid);
  assert.equal((await a.list('s', 'timestamp')).length, 1);
  const sig = await (await b.signer('r', 'timestamp', p3.keyid)).sign(Buffer.from('x'));
  assert.ok(verifySignature(p3.public, Buffer.from('x'), sig));
  a.close();
  // another master key does not open the stored keys
  const wrong = await sqliteKeys(t, file, master());
  await rejectsCode(wrong.signer('r', 'timestamp', p3.keyid), 'KEK_UNKNOWN');
  // a row moved to another repository does not open (AAD)
  const db = new Database(file);
  db.prepare("UPDATE online_keys SET repo = 'moved' WHERE repo = 's'").run();
  db.close();
  await rejectsCode(b.signer('moved', 'timestamp', x.keyid), 'UNSEAL_FAILED');
  // a row whose public key was swapped is refused (the key id comes from the private key)
  const tamper = new Database(file);
  const other = tamper
    .prepare("SELECT public FROM online_keys WHERE repo = 'r' AND role = 'snapshot'")
    .get().public;
  tamper.prepare('UPDATE online_keys SET public = ? WHERE keyid = ?').run(other, p3.keyid);
  tamper.close();
  const fresh = await sqliteKeys(t, file, m);
  await rejectsCode(fresh.signer('r', 'timestamp', p3.keyid), 'UNSEAL_FAILED');
  // the schema allows one pending key per role
  const raw = new Database(file);
  const row = raw.prepare("SELECT * FROM online_keys WHERE repo = 'moved'").get();
  assert.throws(
    () =>
      raw
        .prepare('INSERT INTO online_keys VALUES (?,?,?,?,?,?,?,?,?,?)')
        .run(
          'moved',
          'timestamp',
          'ff'.repeat(32),
          row.public,
          'pending',
          row.kek_id,
          row.nonce,
          row.ciphertext,
          row.tag,
          0,
        ),
    /UNIQUE/,
  );
  raw.close();
});

test('the database file never contains the private key bytes (DER, PEM, raw seed)', async (t) => {
  const dir = await tempDir(t, 'cnabsec-okeys-');
  const file = path.join(dir, 'server.db');
  const m = master();
  const keys = await sqliteKeys(t, file, m);
  const found = [];
  for (const [role, type] of [
    ['timestamp', 'ed25519'],
    ['snapshot', 'ecdsa'],
  ]) {
    const k = await keys.getOrCreatePending('r', role, type);
    await keys.activate('r', role, [k.keyid]);
    await (await keys.signer('r', role, k.keyid)).sign(Buffer.from('x'));
    found.push({ ...k, role });
  }
  const db = new Database(file);
  const secrets = [];
  for (const k of found) {
    const row = db.prepare('SELECT * FROM online_keys WHERE keyid = ?').get(k.keyid);
    const der = unsealPrivateKey(
      m,
      { kekId: row.kek_id, nonce: row.nonce, ciphertext: row.ciphertext, tag: row.tag },
      { repo: 'r', role: k.role, keyid: k.keyid },
    );
    const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
      format: 'pem',
      type: 'pkcs8',
    });
    const pemBody = pem
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('-----'))
      .join('');
    secrets.push(
      der,
      der.subarray(-32),
      Buffer.from(pemBody),
      Buffer.from(pemBody.slice(0, 40)),
      Buffer.from(der.toString('hex')),
    );
  }
  const ciphertexts = db
    .prepare('SELECT ciphertext FROM online_keys')
    .all()
    .map((r) => r.ciphertext);
  db.close();
  const files = [file, `${file}-wal`];
  const all = Buffer.concat(await Promise.all(files.map((f) => readFile(f).catch(() => Buffer.alloc(0)))));
  for (const c of ciphertexts)
    assert.notEqual(all.indexOf(c), -1, 'positive control: the sealed bytes are in the file');
  for (const f of files) {
    const bytes = await readFile(f).catch(() => Buffer.alloc(0));
    for (const s of secrets)
      assert.equal(bytes.indexOf(s), -1, `${path.basename(f)} contains private key bytes`);
  }
  assert.ok((await readFile(file)).length > 0);
});

test('the v2 migration upgrades a database created at schema version 1, keeping its rows', async (t) => {
  const dir = await tempDir(t, 'cnabsec-okeys-');
  const file = path.join(dir, 'server.db');
  const v1 = new Database(file);
  assert.equal(
    migrateSchema(
      v1,
      MIGRATIONS.filter((m) => m.version === 1),
    ),
    1,
  );
  v1.prepare('INSERT INTO tuf_files VALUES (?,?,?,?,?,?,?)').run(
    'r',
    'root',
    1,
    'a'.repeat(64),
    Buffer.from('{}'),
    null,
    0,
  );
  assert.equal(v1.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'online_keys'").get().n, 0);
  v1.close();
  const store = await openSqliteStore({ path: file });
  t.after(() => store.close());
  await store.migrate();
  assert.equal((await store.getCurrent('r', 'root')).version, 1);
  const keys = await sqliteKeys(t, file, master());
  const k = await keys.getOrCreatePending('r', 'timestamp');
  assert.equal((await keys.list('r', 'timestamp'))[0].keyid, k.keyid);
  const db = new Database(file);
  assert.deepEqual(db.prepare('SELECT version FROM schema_version ORDER BY version').all(), [
    { version: 1 },
    { version: 2 },
    { version: 3 },
  ]);
  db.close();
});
