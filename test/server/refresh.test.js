// Periodic re-signing (src/server/service-refresh.ts, TrustService.refresh/refreshDue; doc 302;
// ADR 0022) with an injected clock: nothing before half the lifetime is left, new versions
// that verify after, the snapshot only when the server holds its key, and two processes on one
// SQLite file refreshing each repository exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME } from '../helpers/sim.js';
import {
  clock,
  fullUpload,
  openServer,
  serverManagedRepo,
  tufjsWalk,
  verifyUnderRoot,
} from '../helpers/service.js';

const HOUR = 3600;
const version = async (server, repo, role) => (await server.store.getCurrent(repo, role)).version;
const rfc = (d) => d.toISOString().replace('.000Z', 'Z');

async function published(t, server, online = ['timestamp'], name = NAME) {
  const sim = await serverManagedRepo(t, server, { name, online, now: server.now() });
  await server.service.publish(name, fullUpload(sim, online));
  return sim;
}

test('refresh: not due before half the lifetime is left, then a new timestamp that verifies', async (t) => {
  const server = await openServer(t);
  await published(t, server);
  server.log.length = 0;
  assert.deepEqual(await server.service.refresh(NAME), { repo: NAME, signed: [] });
  server.now.advance(12 * HOUR - 1); // 12 h + 1 s of a 24 h lifetime left
  assert.deepEqual(await server.service.refresh(NAME), { repo: NAME, signed: [] });
  assert.deepEqual(await server.service.refreshDue(), []);
  assert.equal(await version(server, NAME, 'timestamp'), 1);
  assert.deepEqual(server.log, []);

  server.now.advance(2);
  const expires = rfc(new Date(server.now().getTime() + 24 * HOUR * 1000));
  assert.deepEqual(await server.service.refreshDue(), [
    { repo: NAME, signed: [{ role: 'timestamp', version: 2, expires }] },
  ]);
  const ts = await verifyUnderRoot(server.store, NAME, 'timestamp');
  assert.equal(ts.signed.version, 2);
  assert.equal(ts.signed.expires, expires);
  // the developer's snapshot is listed unchanged and is not re-signed (the server holds no key)
  assert.equal(await version(server, NAME, 'snapshot'), 1);
  assert.equal(ts.signed.snapshotMeta.version, 1);
  assert.deepEqual(server.log, [
    ['signed', NAME, 'timestamp'],
    ['refreshed', NAME, 'timestamp'],
  ]);
  // refreshed: not due again until half of the new lifetime has passed
  assert.deepEqual(await server.service.refreshDue(), []);
  assert.deepEqual(
    (await server.service.refresh(NAME, { force: true })).signed.map((s) => s.version),
    [3],
  );
});

test('refresh: server-held snapshot re-signed when due, with a timestamp listing it; timestamp alone otherwise', async (t) => {
  const server = await openServer(t, {
    keys: 'sqlite',
    service: { expiry: { timestamp: HOUR, snapshot: 24 * HOUR } },
  });
  const online = ['snapshot', 'timestamp'];
  await published(t, server, online);
  server.now.advance(HOUR / 2 + 1);
  const r1 = await server.service.refresh(NAME);
  assert.deepEqual(
    r1.signed.map((s) => [s.role, s.version]),
    [['timestamp', 2]],
  );
  server.now.advance(12 * HOUR);
  const r2 = await server.service.refresh(NAME);
  assert.deepEqual(
    r2.signed.map((s) => [s.role, s.version]),
    [
      ['snapshot', 2],
      ['timestamp', 3],
    ],
  );
  const snap = await verifyUnderRoot(server.store, NAME, 'snapshot');
  assert.deepEqual(snap.signed.meta['targets.json'].version, 1);
  const ts = await verifyUnderRoot(server.store, NAME, 'timestamp');
  assert.equal(ts.signed.snapshotMeta.version, 2);
  assert.equal(
    ts.signed.snapshotMeta.hashes.sha256,
    (await server.store.getCurrent(NAME, 'snapshot')).sha256,
  );
  await tufjsWalk(t, server.store, NAME, `${NAME}:none`);
});

test('refreshDue: two processes on one SQLite file refresh each repository exactly once', async (t) => {
  const now = clock();
  const a = await openServer(t, { keys: 'sqlite', now });
  const b = await openServer(t, { keys: 'sqlite', now, dir: a.dir, master: a.master });
  const repos = [
    'example.com/org/one',
    'example.com/org/two',
    'example.com/org/three',
    'example.com/org/four',
  ];
  for (const repo of repos) await published(t, a, ['timestamp'], repo);
  now.advance(13 * HOUR);
  const [ra, rb] = await Promise.all([a.service.refreshDue(), b.service.refreshDue()]);
  const refreshed = [...ra, ...rb].map((r) => r.repo).sort();
  assert.deepEqual(refreshed, [...repos].sort(), 'each repository once');
  for (const repo of repos) {
    assert.equal(await version(a, repo, 'timestamp'), 2, repo);
    await verifyUnderRoot(a.store, repo, 'timestamp');
  }
  assert.deepEqual(
    [...a.log, ...b.log].filter((e) => e[0] === 'refreshFailed'),
    [],
  );
  assert.deepEqual(await b.service.refreshDue(), []);
});

test('refreshDue: developer-managed repositories expiring first do not starve server-managed ones; limit', async (t) => {
  const server = await openServer(t);
  for (const n of [1, 2, 3, 4, 5]) await published(t, server, [], `example.com/dev/r${n}`);
  server.now.advance(60);
  const repos = ['example.com/org/x', 'example.com/org/y'];
  for (const repo of repos) await published(t, server, ['timestamp'], repo);
  server.now.advance(13 * HOUR);
  const first = await server.service.refreshDue(1);
  assert.equal(first.length, 1);
  assert.ok(repos.includes(first[0].repo));
  const rest = await server.service.refreshDue(10);
  assert.deepEqual([...first, ...rest].map((r) => r.repo).sort(), repos);
  for (const n of [1, 2, 3, 4, 5])
    assert.equal(await version(server, `example.com/dev/r${n}`, 'timestamp'), 1);
});

test('refreshDue: a repository that fails is reported and the others are refreshed', async (t) => {
  const server = await openServer(t, { keys: 'sqlite' });
  const bad = 'example.com/org/bad';
  await published(t, server, ['timestamp'], bad);
  server.now.advance(60);
  await published(t, server, ['timestamp'], NAME);
  // a process with another master key: it cannot open the keys (sealed under the first one)
  const other = await openServer(t, { keys: 'sqlite', dir: server.dir, now: server.now });
  server.now.advance(13 * HOUR);
  const r = await other.service.refreshDue();
  assert.deepEqual(r, []);
  assert.deepEqual(
    other.log.filter((e) => e[0] === 'refreshFailed').map((e) => [e[1], e[2]]),
    [
      [bad, 'KEK_UNKNOWN'],
      [NAME, 'KEK_UNKNOWN'],
    ],
  );
  assert.equal((await server.service.refreshDue()).length, 2);
});
