// `openStore` / `openOnlineKeys` / `migrateStore` / `describeDb` (src/server/open-store.ts, ADR
// 0031): the `db` setting picks SQLite for a path and PostgreSQL for a postgres:// URL; the
// password of a URL is never shown; migrateStore reports {from, to} on both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { MasterKey } from '../../dist/server/master-key.js';
import { describeDb, migrateStore, openOnlineKeys, openStore } from '../../dist/server/open-store.js';
import { PgOnlineKeys } from '../../dist/server/pg-online-keys.js';
import { PgTrustStore } from '../../dist/server/pg-store.js';
import { SqliteOnlineKeys } from '../../dist/server/sqlite-online-keys.js';
import { SqliteTrustStore } from '../../dist/server/sqlite-store.js';
import { SCHEMA_VERSION } from '../../dist/server/sqlite-schema.js';
import { startPostgres } from '../helpers/postgres.js';
import { append, meta } from '../helpers/store-contract-kit.js';
import { tempDir } from '../helpers/tmp.js';

test('describeDb: a URL without its password, a path as it is', () => {
  assert.equal(describeDb('postgres://u:s3cret@h:5432/d'), 'postgres://u:***@h:5432/d');
  assert.equal(describeDb('postgresql://u@h/d'), 'postgresql://u@h/d');
  assert.equal(describeDb('/var/lib/cnabsec/server.db'), '/var/lib/cnabsec/server.db');
});

test('openStore: a path is SQLite (directory created), its keys beside it; migrateStore from/to', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'deep', 'server.db');
  assert.deepEqual(await migrateStore(file), { from: 0, to: SCHEMA_VERSION });
  assert.deepEqual(await migrateStore(file), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
  const store = await openStore(file, { maxMetaBytes: 1000 });
  t.after(() => store.close());
  assert.ok(store instanceof SqliteTrustStore);
  const keys = openOnlineKeys(file, store, { master: { current: MasterKey.fromBytes(Buffer.alloc(32, 1)) } });
  t.after(() => keys.close());
  assert.ok(keys instanceof SqliteOnlineKeys);
  await append(store, 'r', [meta('root', 1)]);
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  db.prepare('SELECT 1').get();
  // a file that is not a database
  const junk = path.join(dir, 'junk.db');
  await import('node:fs/promises').then((fs) =>
    fs.writeFile(junk, 'not sqlite at all, really not'.repeat(10)),
  );
  await assert.rejects(migrateStore(junk), (e) => e.code === 'STORE_IO');
});

test('openStore: a postgres:// URL is PostgreSQL, its keys on the same pool', async (t) => {
  const pg = await startPostgres(t);
  if (pg === undefined) return;
  const store = await openStore(pg.url, { poolMax: 2 });
  t.after(() => store.close());
  assert.ok(store instanceof PgTrustStore);
  const keys = openOnlineKeys(pg.url, store, {
    master: { current: MasterKey.fromBytes(Buffer.alloc(32, 2)) },
  });
  assert.ok(keys instanceof PgOnlineKeys);
  const k = await keys.getOrCreatePending('r', 'timestamp');
  assert.equal((await keys.list('r', 'timestamp'))[0].keyid, k.keyid);
  await append(store, 'r', [meta('root', 1)]);
  assert.equal((await store.getCurrent('r', 'root')).version, 1);
});
