// The PostgreSQL store's per-process cache of current metadata (src/server/pg-cache.ts, ADR
// 0031): a repeated GET is served without the database; a commit in another process (another
// store on the same database) reaches this one's cache by NOTIFY, and the next read is the new
// state (we wait for the notification, not for time); a process's own write is visible at once;
// a lost LISTEN connection turns the cache off (reads go to the database) until it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPgStore } from '../../dist/server/pg-store.js';
import { startPostgres } from '../helpers/postgres.js';
import { append, meta } from '../helpers/store-contract-kit.js';

async function opened(t, url, options = {}) {
  const store = await openPgStore({ url, ...options });
  t.after(() => store.close());
  return store;
}

async function until(what, check) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('postgres cache: hits without the database; another process commits, NOTIFY invalidates, the next read is new', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const a = await opened(t, db.url);
  const b = await opened(t, db.url);
  const first = a.nextInvalidation();
  await append(b, 'acme/app', [meta('root', 1), meta('timestamp', 1)]);
  await first; // b's NOTIFY reached a (else it could arrive after a cached, and drop the entry)
  assert.equal((await a.getCurrent('acme/app', 'timestamp')).version, 1);
  const before = a.cacheStats();
  assert.equal(before.listening, true);
  for (let i = 0; i < 5; i++) assert.equal((await a.getCurrent('acme/app', 'timestamp')).version, 1);
  assert.deepEqual(Object.keys(await a.currentState('acme/app')).sort(), ['root', 'timestamp']);
  const after = a.cacheStats();
  assert.equal(after.hits - before.hits, 6, 'served from the cache');
  assert.equal(after.misses, before.misses, 'no database read');
  // A commit in the other process: a's cache hears of it by NOTIFY.
  const heard = a.nextInvalidation();
  await append(b, 'acme/app', [meta('timestamp', 2)]);
  assert.equal(await heard, 'acme/app');
  assert.equal((await a.getCurrent('acme/app', 'timestamp')).version, 2);
  // A delete elsewhere too.
  const gone = a.nextInvalidation();
  assert.equal(await b.deleteRepo('acme/app'), true);
  assert.equal(await gone, 'acme/app');
  assert.deepEqual(await a.currentState('acme/app'), {});
  // Its own write is visible at once, without waiting for the notification.
  await append(a, 'acme/app', [meta('root', 1)]);
  assert.equal((await a.getCurrent('acme/app', 'root')).version, 1);
  // A failed write (conflict) changes nothing cached.
  await assert.rejects(append(a, 'acme/app', [meta('root', 1)]), (e) => e.code === 'VERSION_CONFLICT');
  assert.equal((await a.getCurrent('acme/app', 'root')).version, 1);
});

test('postgres cache: a write transaction reads the database, not the cache (no stale 409)', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const a = await opened(t, db.url);
  const b = await opened(t, db.url);
  await append(a, 'r', [meta('timestamp', 1)]);
  assert.equal((await a.getCurrent('r', 'timestamp')).version, 1); // cached in a
  // b commits; a writes before it processes the NOTIFY: its tx must see version 2
  const heard = a.nextInvalidation();
  await append(b, 'r', [meta('timestamp', 2)]);
  const { stored } = await a.transact('r', async (tx) => {
    const cur = await tx.current('timestamp');
    tx.append([meta('timestamp', cur.version + 1)]);
  });
  assert.equal(stored[0].version, 3);
  await heard;
});

test('postgres cache: the LISTEN connection lost turns the cache off, reads stay fresh, it comes back', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const a = await opened(t, db.url);
  const b = await opened(t, db.url);
  await append(b, 'r', [meta('root', 1)]);
  await a.getCurrent('r', 'root');
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  t.after(() => admin.end());
  await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cnabsec-listen' AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())",
  );
  await until(
    'the cache to notice',
    () => a.cacheStats().listening === false || a.cacheStats().entries === 0,
  );
  await append(b, 'r', [meta('root', 2)]);
  // whether or not it has reconnected yet, a never answers the old version
  assert.equal((await a.getCurrent('r', 'root')).version, 2);
  await until('LISTEN again', () => a.cacheStats().listening === true);
  const heard = a.nextInvalidation();
  await append(b, 'r', [meta('root', 3)]);
  await heard;
  assert.equal((await a.getCurrent('r', 'root')).version, 3);
});

test('postgres cache: off with cache:false; bounded entries', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const off = await opened(t, db.url, { cache: false });
  await append(off, 'r', [meta('root', 1)]);
  assert.equal((await off.getCurrent('r', 'root')).version, 1);
  assert.equal(off.cacheStats(), undefined);
  const small = await opened(t, db.url, { cache: { maxEntries: 2 } });
  for (const repo of ['a', 'b', 'c', 'r']) await small.currentState(repo);
  assert.equal(small.cacheStats().entries, 2);
  // a byte budget: entries above it are dropped oldest first, one larger than it never kept
  // (written before `tight` listens: no late NOTIFY can drop its entries)
  for (const repo of ['x', 'y', 'z']) await append(off, repo, [meta('root', 1)]);
  const tight = await opened(t, db.url, { cache: { maxTotalBytes: 200 } });
  const one = (await off.getCurrent('x', 'root')).bytes.length;
  for (const repo of ['x', 'y', 'z']) await tight.currentState(repo);
  const stats = tight.cacheStats();
  assert.equal(stats.entries, Math.floor(200 / one), JSON.stringify(stats));
  assert.ok(stats.bytes <= 200);
});
