// The TokenStore contract (src/server/token-store.ts) on both adapters, memory and SQLite, and
// the operations of `cnabsec server-token` (tokens-admin.ts) on them: only the hash is stored,
// list never shows a token or a hash, revoke is once and by id, a SQLite store opened by a
// second connection (the CLI beside a running server) sees the same rows at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { MemoryTokenStore } from '../../dist/server/token-store.js';
import { SqliteTokenStore } from '../../dist/server/sqlite-token-store.js';
import { createToken, listTokens, revokeToken } from '../../dist/server/tokens-admin.js';
import { hashToken } from '../../dist/server/tokens.js';
import { migrateStore } from '../../dist/server/open-store.js';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { MIGRATIONS, migrateSchema } from '../../dist/server/sqlite-schema.js';
import { tempDir } from '../helpers/tmp.js';

const adapters = {
  memory: async () => new MemoryTokenStore(),
  sqlite: async (t) => {
    const file = path.join(await tempDir(t, 'cnabsec-tokens-'), 'server.db');
    const s = SqliteTokenStore.open({ path: file });
    t.after(() => s.close());
    s.file = file;
    return s;
  },
};

for (const [name, open] of Object.entries(adapters)) {
  test(`${name} TokenStore: create, find by hash, list, revoke`, async (t) => {
    const store = await open(t);
    const now = new Date('2026-01-01T00:00:00Z');
    const a = await createToken(store, { scope: 'write', patterns: ['example.com/acme/*'], now });
    const b = await createToken(store, {
      scope: 'admin',
      patterns: ['*'],
      expiresInSeconds: 90 * 86_400,
      description: 'ops',
      now: new Date(now.getTime() + 1000),
    });
    assert.match(a.token, /^cnabsec_/);
    assert.equal(a.expiresAt, undefined);
    assert.equal(b.expiresAt.toISOString(), '2026-04-01T00:00:01.000Z');
    const found = await store.findByHash(hashToken(a.token));
    assert.equal(found.id, a.id);
    assert.equal(found.scope, 'write');
    assert.deepEqual(found.patterns, ['example.com/acme/*']);
    assert.equal(found.hash, hashToken(a.token));
    assert.equal(await store.findByHash(hashToken(`${a.token}x`)), undefined);
    const list = await listTokens(store);
    assert.deepEqual(
      list.map((r) => r.id),
      [a.id, b.id],
    );
    for (const r of list) {
      assert.equal(r.hash, undefined);
      assert.equal(r.token, undefined);
    }
    assert.equal(list[1].description, 'ops');
    const at = new Date(now.getTime() + 5000);
    const revoked = await revokeToken(store, a.id, at);
    assert.equal(revoked.revokedAt.toISOString(), at.toISOString());
    // again: the first time stays
    const again = await revokeToken(store, a.id, new Date(at.getTime() + 1));
    assert.equal(again.revokedAt.toISOString(), at.toISOString());
    assert.ok((await store.findByHash(hashToken(a.token))).revokedAt);
    await assert.rejects(revokeToken(store, '000000000000'), { code: 'TOKEN_UNKNOWN' });
    await assert.rejects(revokeToken(store, "x' OR 1=1 --"), { code: 'TOKEN_UNKNOWN' });
  });

  test(`${name} TokenStore: bad scope, pattern or description creates nothing`, async (t) => {
    const store = await open(t);
    await assert.rejects(createToken(store, { scope: 'root', patterns: ['*'] }), { code: 'TOKEN_PATTERN' });
    await assert.rejects(createToken(store, { scope: 'read', patterns: [] }), { code: 'TOKEN_PATTERN' });
    await assert.rejects(createToken(store, { scope: 'read', patterns: ['example.com/acme-*'] }), {
      code: 'TOKEN_PATTERN',
    });
    await assert.rejects(createToken(store, { scope: 'read', patterns: ['*'], description: 'a\nb' }), {
      code: 'TOKEN_PATTERN',
    });
    assert.deepEqual(await listTokens(store), []);
  });
}

test('SqliteTokenStore: only the hash is in the file, and a second connection sees changes at once', async (t) => {
  const store = await adapters.sqlite(t);
  const other = SqliteTokenStore.open({ path: store.file });
  t.after(() => other.close());
  const c = await createToken(store, { scope: 'read', patterns: ['*'] });
  assert.equal((await other.findByHash(hashToken(c.token))).id, c.id);
  await revokeToken(other, c.id);
  assert.ok((await store.findByHash(hashToken(c.token))).revokedAt);
  const db = new Database(store.file, { readonly: true });
  t.after(() => db.close());
  const dump = JSON.stringify(db.prepare('SELECT * FROM tokens').all());
  assert.ok(!dump.includes(c.token.slice(8)), 'the token is not stored');
  assert.ok(dump.includes(hashToken(c.token)));
});

test('migrateStore: a new file 0 → 3, again 3 → 3, a store file of issue 13 upgrades in place', async (t) => {
  const dir = await tempDir(t, 'cnabsec-migrate-');
  const file = path.join(dir, 'sub', 'server.db');
  assert.deepEqual(await migrateStore(file), { from: 0, to: 3 });
  assert.deepEqual(await migrateStore(file), { from: 3, to: 3 });
  const db = new Database(file);
  db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
  db.close();
  await assert.rejects(migrateStore(file), { code: 'STORE_SCHEMA' });
  const v2 = new Database(path.join(dir, 'v2.db'));
  migrateSchema(
    v2,
    MIGRATIONS.filter((m) => m.version <= 2),
  );
  v2.close();
  assert.deepEqual(await migrateStore(path.join(dir, 'v2.db')), { from: 2, to: 3 });
  const store = await openSqliteStore({ path: path.join(dir, 'v2.db') });
  await store.migrate();
  await store.close();
});

test('openTokenStore: a missing file is refused (never created), a PostgreSQL URL is SERVER_CONFIG without its password', async (t) => {
  const { openTokenStore } = await import('../../dist/server/tokens-admin.js');
  const dir = await tempDir(t, 'cnabsec-tokens-open-');
  await assert.rejects(openTokenStore(path.join(dir, 'none.db')), { code: 'STORE_IO' });
  await assert.rejects(openTokenStore('postgres://u:s3cret@127.0.0.1:1/x'), (e) => {
    assert.equal(e.code, 'SERVER_CONFIG');
    assert.ok(!e.message.includes('s3cret'), e.message);
    return true;
  });
  const { readdir } = await import('node:fs/promises');
  assert.deepEqual(await readdir(dir), []);
});
