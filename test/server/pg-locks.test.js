// The PostgreSQL store's locking (src/server/pg-store.ts, ADR 0031), proved with locks held, not
// with timing: the advisory lock is per repository (a commit to `b` goes through while `a`'s lock
// is held by another session; one to `a` waits in PostgreSQL's lock queue, or is STORE_BUSY with
// wait:false, or after lock_timeout); two stores (two server processes) racing on one repository
// get exactly one winner per version, the loser VERSION_CONFLICT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { LOCK_SPACE } from '../../dist/server/pg-schema.js';
import { openPgStore } from '../../dist/server/pg-store.js';
import { startPostgres } from '../helpers/postgres.js';
import { append, meta, rejectsCode } from '../helpers/store-contract-kit.js';

async function opened(t, url, options = {}) {
  const store = await openPgStore({ url, ...options });
  t.after(() => store.close());
  return store;
}

async function client(t, url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.after(() => c.end());
  return c;
}

/** Resolves once a session of this database waits for an advisory lock. */
async function someoneWaits(c) {
  for (;;) {
    const r = await c.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    if (r.rows[0].n > 0) return;
    await new Promise((r) => setImmediate(r));
  }
}

test('postgres: the repository lock is per repository: another repository commits, the held one waits', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const store = await opened(t, db.url);
  const holder = await client(t, db.url);
  const watcher = await client(t, db.url);
  await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_SPACE, 'acme/a']);
  let aDone = false;
  const a = append(store, 'acme/a', [meta('root', 1)]).then((r) => ((aDone = true), r));
  await someoneWaits(watcher);
  // a waits inside PostgreSQL; b, another repository, commits meanwhile
  await append(store, 'acme/b', [meta('root', 1)]);
  assert.equal((await store.getCurrent('acme/b', 'root')).version, 1);
  assert.equal(aDone, false, 'a must wait for the lock');
  assert.equal(await store.getCurrent('acme/a', 'root'), undefined);
  // another process with wait:false: STORE_BUSY at once
  const other = await opened(t, db.url);
  await rejectsCode(
    other.transact('acme/a', async (tx) => tx.append([meta('targets', 1)]), { wait: false }),
    'STORE_BUSY',
  );
  await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_SPACE, 'acme/a']);
  assert.equal((await a).stored[0].version, 1);
  assert.equal((await other.getCurrent('acme/a', 'root')).version, 1);
});

test('postgres: a commit waiting longer than lockTimeoutMs for another process is STORE_BUSY, nothing stored', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const store = await opened(t, db.url, { lockTimeoutMs: 50 });
  const holder = await client(t, db.url);
  await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_SPACE, 'acme/a']);
  await rejectsCode(append(store, 'acme/a', [meta('root', 1)]), 'STORE_BUSY');
  await rejectsCode(store.deleteRepo('acme/a'), 'STORE_BUSY');
  await holder.query('SELECT pg_advisory_unlock_all()');
  assert.equal(await store.getCurrent('acme/a', 'root'), undefined);
  await append(store, 'acme/a', [meta('root', 1)]);
});

test('postgres: two stores race read-then-append on one repository: one winner per version', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const stores = [await opened(t, db.url), await opened(t, db.url)];
  const rounds = 20;
  const outcomes = [];
  for (let round = 0; round < rounds; round++) {
    const tries = stores.flatMap((s) =>
      [0, 1].map(() =>
        s
          .transact('r', async (tx) => {
            const cur = await tx.current('timestamp');
            tx.append([meta('timestamp', (cur?.version ?? 0) + 1)]);
          })
          .then(
            (r) => r.stored[0].version,
            (e) => e.code,
          ),
      ),
    );
    outcomes.push(await Promise.all(tries));
  }
  let version = 0;
  for (const o of outcomes) {
    for (const x of o) assert.ok(typeof x === 'number' || x === 'VERSION_CONFLICT', String(x));
    const won = o.filter((x) => typeof x === 'number').sort((a, b) => a - b);
    // the writes in one process queue behind each other; across processes, a version is won once
    assert.equal(new Set(won).size, won.length, `a version won twice: ${o}`);
    assert.ok(won.length >= 1, `no write won: ${o}`);
    version += won.length;
  }
  const cur = await stores[1].getCurrent('r', 'timestamp');
  assert.equal(cur.version, version);
  for (let v = 1; v <= version; v++) assert.ok(await stores[0].getVersion('r', 'timestamp', v), `v${v}`);
});

test('postgres: a database that does not answer in statementTimeoutMs is STORE_BUSY, not a hang', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const store = await opened(t, db.url, { statementTimeoutMs: 100 });
  const holder = await client(t, db.url);
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE tuf_files IN ACCESS EXCLUSIVE MODE');
  await rejectsCode(store.getVersion('r', 'root', 1), 'STORE_BUSY');
  await holder.query('ROLLBACK');
  assert.equal(await store.getVersion('r', 'root', 1), undefined);
});
