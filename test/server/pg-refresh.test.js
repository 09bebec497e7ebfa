// The scheduled timestamp refresh on PostgreSQL (issue 15 item 2; doc 302, ADR 0022, ADR 0031):
// three server processes (three stores, pools and key sets on one database) run refreshDue at
// once; each repository is refreshed exactly once, its new timestamp verifies under its root,
// and every process then serves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MasterKey } from '../../dist/server/master-key.js';
import { openPgOnlineKeys } from '../../dist/server/pg-online-keys.js';
import { openPgStore } from '../../dist/server/pg-store.js';
import { TrustService } from '../../dist/server/service.js';
import { startPostgres } from '../helpers/postgres.js';
import { clock, fullUpload, serverManagedRepo, verifyUnderRoot } from '../helpers/service.js';

const HOUR = 3600;

async function pgServer(t, url, master, now) {
  const store = await openPgStore({ url, now });
  t.after(() => store.close());
  const keys = await openPgOnlineKeys({ url, master: { current: master }, now });
  t.after(() => keys.close());
  const log = [];
  const events = { refreshFailed: (repo, e) => log.push([repo, e.code ?? e.message]) };
  return { store, keys, now, log, service: new TrustService({ store, keys, now, events }) };
}

test('refreshDue: three processes on one PostgreSQL database refresh each repository exactly once', async (t) => {
  const db = await startPostgres(t);
  if (db === undefined) return;
  const now = clock();
  const master = MasterKey.fromBytes(randomBytes(32));
  const servers = [];
  for (let i = 0; i < 3; i++) servers.push(await pgServer(t, db.url, master, now));
  const repos = Array.from({ length: 6 }, (_, i) => `example.com/org/app-${i}`);
  for (const repo of repos) {
    const sim = await serverManagedRepo(t, servers[0], { name: repo, online: ['timestamp'], now: now() });
    await servers[0].service.publish(repo, fullUpload(sim, ['timestamp']));
  }
  now.advance(13 * HOUR);
  const results = await Promise.all(servers.map((s) => s.service.refreshDue()));
  const refreshed = results.flat().map((r) => r.repo);
  assert.deepEqual([...refreshed].sort(), [...repos].sort(), 'each repository once');
  assert.deepEqual(
    servers.flatMap((s) => s.log),
    [],
  );
  for (const repo of repos) {
    await verifyUnderRoot(servers[0].store, repo, 'timestamp');
    for (const s of servers) assert.equal((await s.store.getCurrent(repo, 'timestamp')).version, 2, repo);
  }
  for (const s of servers) assert.deepEqual(await s.service.refreshDue(), []);
});
