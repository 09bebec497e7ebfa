// What only the embedded SQLite TrustStore (src/server/sqlite-store.ts, ADR 0020) has: its
// schema migrations, its file (unopenable, reopened after close), and three processes racing
// on one file (test/helpers/store-racer.js). The port's rules, shared by every adapter, are
// the contract suite (test/helpers/store-contract.js, run by store-contract.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import { T0, append, meta, rejectsCode } from '../helpers/store-contract-kit.js';

const RACER = fileURLToPath(new URL('../helpers/store-racer.js', import.meta.url));

async function open(t, options = {}) {
  const dir = options.dir ?? (await tempDir(t, 'cnabsec-store-'));
  const store = await openSqliteStore({ path: path.join(dir, 'server.db'), now: () => T0, ...options });
  t.after(() => store.close());
  return { store, dir, file: path.join(dir, 'server.db') };
}

test('migrate is idempotent; a newer schema_version is refused', async (t) => {
  const { store, file } = await open(t);
  await append(store, 'r', [meta('root', 1)]);
  await store.migrate();
  await store.migrate();
  await store.ping();
  assert.equal((await store.getCurrent('r', 'root')).version, 1);
  const db = new Database(file);
  assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [
    { version: 1 },
    { version: 2 },
    { version: 3 },
  ]);
  db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
  db.close();
  await rejectsCode(openSqliteStore({ path: file }), 'STORE_SCHEMA');
  await rejectsCode(store.migrate(), 'STORE_SCHEMA');
});

test('an unopenable file is STORE_IO; what was committed before close() is there when reopened', async (t) => {
  const { store, dir } = await open(t);
  await rejectsCode(openSqliteStore({ path: path.join(dir, 'missing', 'x.db') }), 'STORE_IO');
  await append(
    store,
    'r',
    [meta('targets', 1), meta('targets', 2)],
    [{ path: 'f', bytes: Buffer.from('f') }],
  );
  await store.close();
  const reopened = await openSqliteStore({ path: path.join(dir, 'server.db') });
  t.after(() => reopened.close());
  assert.equal((await reopened.getCurrent('r', 'targets')).version, 2);
  assert.equal(Buffer.from((await reopened.getTargetFile('r', 'f')).bytes).toString(), 'f');
});

test('the database file and its WAL are created 0600 whatever the umask; an existing file keeps its mode', async (t) => {
  const { stat, writeFile } = await import('node:fs/promises');
  const old = process.umask(0o022);
  t.after(() => process.umask(old));
  const { store, dir, file } = await open(t);
  await append(store, 'r', [meta('targets', 1)]);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(`${file}-wal`)).mode & 0o777, 0o600);
  const mine = path.join(dir, 'operator.db');
  await writeFile(mine, '', { mode: 0o640 });
  const other = await openSqliteStore({ path: mine });
  t.after(() => other.close());
  assert.equal((await stat(mine)).mode & 0o777, 0o640);
});

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RACER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`racer ${code}: ${err}`)),
    );
  });
}

test(
  'three processes on one file: every version 1..N once, no gaps, no duplicates',
  { timeout: 120_000 },
  async (t) => {
    const { store, file } = await open(t);
    const N = 200;
    const results = await Promise.all(
      ['p1', 'p2', 'p3'].map((id) => run([file, id, 'shared', `own-${id}`, String(N)])),
    );
    assert.deepEqual(
      results.map((r) => r.committed),
      [N, N, N],
    );
    const db = new Database(file, { readonly: true });
    t.after(() => db.close());
    const rows = db
      .prepare("SELECT version, data FROM tuf_files WHERE repo = 'shared' ORDER BY version")
      .all();
    assert.deepEqual(
      rows.map((r) => r.version),
      Array.from({ length: 3 * N }, (_, i) => i + 1),
    );
    const writes = rows.map((r) => JSON.parse(r.data.toString()));
    for (const w of writes) assert.equal(w.version, rows[writes.indexOf(w)].version);
    const keys = new Set(writes.map((w) => `${w.id}:${w.i}`));
    assert.equal(keys.size, 3 * N, 'every committed write present once');
    for (const id of ['p1', 'p2', 'p3']) {
      const own = db
        .prepare('SELECT version FROM tuf_files WHERE repo = ? ORDER BY version')
        .all(`own-${id}`);
      assert.deepEqual(
        own.map((r) => r.version),
        Array.from({ length: N }, (_, i) => i + 1),
      );
    }
    assert.equal((await store.getCurrent('shared', 'timestamp')).version, 3 * N);
  },
);
