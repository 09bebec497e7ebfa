// `cnabsec server --db postgres://…` end to end (issue 15 items 1 and 2, ADR 0031): three server
// processes on one PostgreSQL database, concurrent first uploads of one repository (one wins,
// every other one 409 VERSION_CONFLICT) and of different repositories (all stored); every
// process serves what another stored; the first GET …/timestamp.key in all at once creates one
// key; the password of the URL appears in no output. Also `migrateStore` (fresh, no-op, newer
// refused) and `server-backup` refusing a URL. A private cluster (test/helpers/postgres.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { backupDatabase } from '../../dist/server/backup.js';
import { migrateStore } from '../../dist/server/open-store.js';
import { openPgStore } from '../../dist/server/pg-store.js';
import { PG_SCHEMA_VERSION } from '../../dist/server/pg-schema.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';
import {
  developerRepo,
  fullUpload,
  masterKeyHex,
  startServerProcess,
  upload,
} from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const SAME = 'example.com/org/same';
const stale = (r) => r.status === 409 && r.json.errors[0].code === 'VERSION_CONFLICT';

/** A login role with a password on the cluster: its URL without the password (PGPASSWORD has it). */
async function withPassword(db) {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query("CREATE ROLE cnabsec LOGIN PASSWORD 'sekrit-pw' SUPERUSER");
  } finally {
    await admin.end();
  }
  const u = new URL(db.url);
  u.username = 'cnabsec';
  return u.toString();
}

test('run: three processes on one PostgreSQL database, concurrent publishes to the same and to different repositories', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const url = await withPassword(db);
  const env = {
    CNABSEC_SERVER_MASTER_KEY: masterKeyHex(),
    CNABSEC_SERVER_LOG_LEVEL: 'info',
    PGPASSWORD: 'sekrit-pw',
  };
  // started together: the three migrate the new database at once
  const servers = await Promise.all([0, 1, 2].map(() => startServerProcess(t, ['--db', url], { env })));
  for (const s of servers) assert.ok(!s.db.includes('sekrit'), s.db);
  const same = await Promise.all(Array.from({ length: 6 }, () => developerRepo(t, SAME)));
  const others = await Promise.all(
    Array.from({ length: 6 }, (_, i) => developerRepo(t, `example.com/org/app-${i}`)),
  );
  const jobs = [
    ...same.map((sim, i) => ({ repo: SAME, files: fullUpload(sim), server: servers[i % 3] })),
    ...others.map((sim, i) => ({
      repo: `example.com/org/app-${i}`,
      files: fullUpload(sim),
      server: servers[(i + 1) % 3],
    })),
  ];
  const results = await Promise.all(jobs.map((j) => upload(j.server.url, j.repo, j.files)));
  const sameResults = results.slice(0, 6);
  const won = sameResults.filter((r) => r.status === 200);
  assert.equal(won.length, 1, JSON.stringify(sameResults.map((r) => r.status)));
  for (const r of sameResults) if (r.status !== 200) assert.ok(stale(r), JSON.stringify(r.json));
  for (const r of results.slice(6)) assert.equal(r.status, 200, JSON.stringify(r.json));
  const winner = jobs[sameResults.findIndex((r) => r.status === 200)];
  for (const s of servers) {
    const root = await fetch(`${s.url}/v2/${SAME}/_trust/tuf/root.json`);
    assert.equal(root.status, 200);
    assert.ok(
      Buffer.from(await root.arrayBuffer()).equals(winner.files.find((f) => f.role === 'root').bytes),
    );
  }
  const keyids = await Promise.all(
    [...servers, ...servers].map(async (s) => {
      const r = await fetch(`${s.url}/v2/example.com/org/keyed/_trust/tuf/timestamp.key`);
      assert.equal(r.status, 200);
      return r.headers.get('x-cnabsec-keyid');
    }),
  );
  assert.match(keyids[0], /^[0-9a-f]{64}$/);
  assert.deepEqual(new Set(keyids), new Set([keyids[0]]), keyids.join(' '));
  for (const s of servers) s.child.kill('SIGTERM');
  for (const s of servers) {
    assert.deepEqual(await s.exited, { code: 0, signal: null }, s.stderr());
    assert.ok(!`${s.stderr()}${s.stdout()}`.includes('sekrit'), 'the password is never printed');
  }
  const store = await openPgStore({ url: db.url });
  t.after(() => store.close());
  for (const j of [winner, ...jobs.slice(6)])
    for (const f of j.files) {
      const stored = await store.getCurrent(j.repo, f.role);
      assert.ok(stored !== undefined && Buffer.from(stored.bytes).equals(f.bytes), `${j.repo} ${f.role}`);
      assert.equal(stored.version, 1, `${j.repo} ${f.role}: stored once`);
    }
});

test('migrateStore on PostgreSQL: fresh, a re-run is a no-op, a newer schema refused (STORE_SCHEMA)', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  assert.deepEqual(await migrateStore(db.url), { from: 0, to: PG_SCHEMA_VERSION });
  assert.deepEqual(await migrateStore(db.url), { from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION });
  // several processes migrating at once: each step applied once
  const again = await startPostgres(t);
  const all = await Promise.all([0, 1, 2, 3].map(() => migrateStore(again.url)));
  assert.equal(all.filter((r) => r.from === 0).length, 1, JSON.stringify(all));
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  t.after(() => c.end());
  assert.equal(
    (await c.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n,
    PG_SCHEMA_VERSION,
  );
  await c.query('INSERT INTO schema_migrations VALUES ($1, now())', [PG_SCHEMA_VERSION + 1]);
  await assert.rejects(migrateStore(db.url), (e) => {
    assert.equal(e.code, 'STORE_SCHEMA', e.message);
    assert.deepEqual(e.details, { found: PG_SCHEMA_VERSION + 1, known: PG_SCHEMA_VERSION });
    return true;
  });
  await assert.rejects(openPgStore({ url: db.url }), (e) => e.code === 'STORE_SCHEMA');
  // A database that does not answer is STORE_IO, the password not in the message.
  await assert.rejects(migrateStore('postgres://u:pw-x@127.0.0.1:1/none'), (e) => {
    assert.equal(e.code, 'STORE_IO', e.message);
    assert.ok(!e.message.includes('pw-x'), e.message);
    return true;
  });
});

test('server-backup on a PostgreSQL URL: refused with a pg_dump hint, the password not shown', async (t) => {
  const dir = await tempDir(t);
  const url = 'postgres://u:pw-secret@127.0.0.1:5432/cnabsec';
  await assert.rejects(backupDatabase(url, `${dir}/b.db`), (e) => {
    assert.equal(e.code, 'SERVER_CONFIG');
    assert.match(e.hint, /pg_dump/);
    assert.ok(!e.message.includes('pw-secret'), e.message);
    return true;
  });
  const r = await runCli(['server-backup', `${dir}/b.db`, '--db', url]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^cnabsec: error \[SERVER_CONFIG\]: .*not PostgreSQL/m);
  assert.ok(!r.stderr.includes('pw-secret'), r.stderr);
  assert.ok(cliOk);
});
