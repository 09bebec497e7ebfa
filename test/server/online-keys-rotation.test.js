// Online keys (ADR 0021) beyond one process's life: master-key rotation (reseal under the
// current key, previous keys still open until then) and several processes asking for the
// pending key of the same repositories on one SQLite file at once (one key each).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { MasterKey } from '../../dist/server/master-key.js';
import { memoryOnlineKeyRows, memoryOnlineKeys } from '../../dist/server/online-keys.js';
import { SqliteOnlineKeys } from '../../dist/server/sqlite-online-keys.js';
import { verifySignature } from '../../dist/crypto/index.js';
import { tempDir } from '../helpers/tmp.js';

const DIST = new URL('../../dist/server/sqlite-online-keys.js', import.meta.url).href;
const master = () => MasterKey.fromBytes(randomBytes(32));

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return true;
  });
}

async function rotation(open) {
  const oldKey = master();
  const newKey = master();
  const before = open({ current: oldKey });
  const ts = await before.getOrCreatePending('r', 'timestamp');
  const sn = await before.getOrCreatePending('r', 'snapshot', 'ecdsa');
  const after = open({ current: newKey, previous: [oldKey] });
  const data = Buffer.from('after rotation');
  assert.ok(
    verifySignature(ts.public, data, await (await after.signer('r', 'timestamp', ts.keyid)).sign(data)),
  );
  assert.equal(await after.reseal(1), 2);
  assert.equal(await after.reseal(), 0, 'a second reseal has nothing to do');
  const only = open({ current: newKey });
  for (const k of [ts, sn]) {
    const s = await only.signer('r', k.public.keytype === 'ed25519' ? 'timestamp' : 'snapshot', k.keyid);
    assert.ok(verifySignature(k.public, data, await s.sign(data)));
  }
  await rejectsCode(open({ current: oldKey }).signer('r', 'timestamp', ts.keyid), 'KEK_UNKNOWN');
  // a key sealed under a master key that is not loaded stops reseal with KEK_UNKNOWN
  const stranger = open({ current: master() });
  await stranger.getOrCreatePending('s', 'timestamp');
  await rejectsCode(open({ current: newKey }).reseal(), 'KEK_UNKNOWN');
}

test('master-key rotation, memory: previous keys open, reseal moves every key to the current one', async () => {
  const rows = memoryOnlineKeyRows();
  await rotation((ring) => memoryOnlineKeys({ master: ring }, rows));
});

test('master-key rotation, SQLite: reseal rewrites kek_id, nonce, ciphertext and tag', async (t) => {
  const dir = await tempDir(t, 'cnabsec-okeys-rot-');
  const file = path.join(dir, 'server.db');
  const opened = [];
  t.after(() => opened.forEach((k) => k.close()));
  await rotation((ring) => {
    const k = SqliteOnlineKeys.open({ path: file, master: ring });
    opened.push(k);
    return k;
  });
  const db = new Database(file);
  const kekIds = db.prepare("SELECT DISTINCT kek_id FROM online_keys WHERE repo = 'r'").all();
  db.close();
  assert.equal(kekIds.length, 1);
});

const RACER = `
const [file, hex, n] = process.argv.slice(1);
const { SqliteOnlineKeys } = await import(process.env.DIST);
const { MasterKey } = await import(process.env.DIST.replace('sqlite-online-keys', 'master-key'));
const keys = SqliteOnlineKeys.open({ path: file, master: { current: MasterKey.fromBytes(Buffer.from(hex, 'hex')) } });
const out = [];
for (let i = 0; i < Number(n); i++) out.push((await keys.getOrCreatePending('r' + i, 'timestamp')).keyid);
keys.close();
process.stdout.write(JSON.stringify(out));
`;

function race(file, hex, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', RACER, file, hex, String(n)], {
      env: { ...process.env, DIST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`racer exit ${code}: ${err}`)),
    );
  });
}

test('three processes ask for the pending keys of the same repositories on one file: one key each', async (t) => {
  const dir = await tempDir(t, 'cnabsec-okeys-race-');
  const file = path.join(dir, 'server.db');
  const hex = randomBytes(32).toString('hex');
  const N = 40;
  SqliteOnlineKeys.open({
    path: file,
    master: { current: MasterKey.fromBytes(Buffer.from(hex, 'hex')) },
  }).close();
  const results = await Promise.all([race(file, hex, N), race(file, hex, N), race(file, hex, N)]);
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
  assert.equal(new Set(results[0]).size, N);
  const db = new Database(file);
  assert.equal(db.prepare('SELECT count(*) AS n FROM online_keys').get().n, N);
  db.close();
});
