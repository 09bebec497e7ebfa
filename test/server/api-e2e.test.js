// The metadata repository end to end over real HTTP (issue 13 item 6): the real stack
// (SQLite store, sealed online keys, TrustService, buildApp) on 127.0.0.1, uploads as a
// client sends them, and the UNMODIFIED tuf-js Updater with its DEFAULT fetcher plus our own
// TrustClient (HttpFetcher) walking the served repository (TUF §5.3–§5.7, consistent
// snapshots): server-managed timestamp, server-managed snapshot + timestamp with a delegated
// role, a developer-managed repository served byte for byte, and a refresh tick on an injected
// clock seen by tuf-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Updater } from 'tuf-js';
import { HttpFetcher, TrustClient } from '../../dist/tuf/index.js';
import { NAME, Sim } from '../helpers/sim.js';
import { LAYOUT, changedRoles, stateOf } from '../helpers/upload.js';
import { fullUpload, parseJson, serverManagedRepo } from '../helpers/service.js';
import { httpUpload, startServerApp, trustBase } from '../helpers/server-app.js';
import { tempDir } from '../helpers/tmp.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const LAYOUT_BYTES = Buffer.from('{"_type":"layout","steps":[]}');

/** The server as ./service.js's repository builders want it. */
const asServer = (srv) => ({ service: srv.service, keys: srv.keys, now: srv.now });

/** Every URL the server was asked for (the raw request line, before any decoding). */
function recordUrls(srv) {
  const urls = [];
  srv.app.server.on('request', (req) => urls.push(req.url));
  return urls;
}

/** A cache dir pinned at `rootBytes`. */
async function pinned(t, rootBytes) {
  const dir = await tempDir(t, 'cnabsec-api-client-');
  await writeFile(path.join(dir, 'root.json'), rootBytes);
  return dir;
}

/** The unmodified tuf-js Updater, default fetcher, over the server's real HTTP. */
function tufjs(base, dir) {
  return new Updater({
    metadataDir: dir,
    metadataBaseUrl: base,
    targetBaseUrl: `${base}/targets`,
    targetDir: dir,
  });
}

/** tuf-js and our TrustClient refresh, find `bundle` and, when given, download `file` (its bytes). */
async function bothClientsSee(t, base, rootBytes, bundle, file) {
  const dir = await pinned(t, rootBytes);
  const updater = tufjs(base, dir);
  await updater.refresh();
  const info = await updater.getTargetInfo(bundle.name);
  assert.ok(info !== undefined, `tuf-js finds ${bundle.name}`);
  assert.equal(info.length, bundle.length);
  if (file !== undefined) {
    const fi = await updater.getTargetInfo(file.path);
    assert.ok(fi !== undefined, `tuf-js finds ${file.path}`);
    const got = await updater.downloadTarget(fi, path.join(dir, 'dl-layout'));
    assert.deepEqual(await readFile(got), file.bytes);
  }
  const cdir = await pinned(t, rootBytes);
  const ours = new TrustClient({ name: NAME, metadataUrl: base, cacheDir: cdir, fetcher: new HttpFetcher() });
  await ours.refresh();
  assert.equal((await ours.getTarget(bundle.name)).length, bundle.length);
  if (file !== undefined) {
    const fi = await ours.getTarget(file.path);
    const got = await ours.downloadTarget(fi, path.join(cdir, 'dl-layout'));
    assert.deepEqual(await readFile(got), file.bytes);
  }
  return { dir, updater };
}

test('server-managed timestamp over HTTP: GET key, upload root+targets+snapshot+layout, tuf-js and TrustClient walk it; a refresh tick is seen', async (t) => {
  const srv = await startServerApp(t);
  const base = trustBase(srv.url, NAME);
  const urls = recordUrls(srv);
  const keyRes = await fetch(`${base}/timestamp.key`);
  assert.equal(keyRes.status, 200);
  const keyid = keyRes.headers.get('x-cnabsec-keyid');
  const key = await keyRes.json();
  assert.deepEqual(Object.keys(key).sort(), ['keytype', 'keyval', 'scheme']);

  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  assert.deepEqual(sim.repo.root.signed.roles.timestamp.keyIDs, [keyid]);
  assert.deepEqual(sim.repo.root.signed.keys[keyid].toJSON(), key, 'the root lists the key as served');
  sim.addFile(LAYOUT, LAYOUT_BYTES);
  sim.addBundle('v1');
  await sim.publish({ now: srv.now() });
  const upload = fullUpload(sim);
  assert.deepEqual(upload.map((p) => p.role).sort(), ['root', 'snapshot', 'targets']);

  const up = await httpUpload(srv.url, NAME, [...upload, { path: LAYOUT, bytes: LAYOUT_BYTES }]);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  const ts = up.json.stored.find((s) => s.role === 'timestamp');
  assert.deepEqual([ts.version, ts.signedByServer], [1, true]);
  assert.deepEqual(up.json.targetFiles, [
    { path: LAYOUT, sha256: sha(LAYOUT_BYTES), length: LAYOUT_BYTES.length },
  ]);
  const served = parseJson((await srv.store.getCurrent(NAME, 'timestamp')).bytes);
  assert.deepEqual(Object.keys(served.signed.meta), ['snapshot.json']);
  assert.deepEqual(
    served.signatures.map((s) => s.keyid),
    [keyid],
  );

  const root = stateOf(sim).root;
  const bundle = { name: `${NAME}:v1`, length: Buffer.byteLength('bundle v1') };
  const { dir } = await bothClientsSee(t, base, root, bundle, { path: LAYOUT, bytes: LAYOUT_BYTES });
  const dirOf = LAYOUT.slice(0, LAYOUT.lastIndexOf('/'));
  assert.ok(
    urls.includes(`/v2/${NAME}/_trust/tuf/targets/${dirOf}/${sha(LAYOUT_BYTES)}.root.layout`),
    'the layout was fetched by its consistent-snapshot name',
  );
  assert.ok(urls.includes(`/v2/${NAME}/_trust/tuf/2.targets.json`), urls.join(' '));

  // a refresh tick after half the timestamp's lifetime: timestamp v2, seen by tuf-js
  srv.now.advance(13 * 3600);
  const ticked = await srv.service.refreshDue();
  assert.deepEqual(
    ticked.map((r) => [r.repo, r.signed.map((s) => [s.role, s.version])]),
    [[NAME, [['timestamp', 2]]]],
  );
  assert.deepEqual(await srv.service.refreshDue(), [], 'nothing is due right after the tick');
  await tufjs(base, dir).refresh();
  const cached = JSON.parse(await readFile(path.join(dir, 'timestamp.json'), 'utf8'));
  assert.equal(cached.signed.version, 2);
  assert.equal(
    cached.signed.expires,
    new Date(srv.now().getTime() + 86_400_000).toISOString().replace('.000Z', 'Z'),
  );
});

test('server-managed snapshot+timestamp over HTTP: upload root+targets+targets/releases; tuf-js asks for N.targets%2Freleases.json', async (t) => {
  const srv = await startServerApp(t);
  const base = trustBase(srv.url, NAME);
  const urls = recordUrls(srv);
  for (const role of ['snapshot', 'timestamp'])
    assert.equal((await fetch(`${base}/${role}.key`)).status, 200);
  const online = ['snapshot', 'timestamp'];
  const sim = await serverManagedRepo(t, asServer(srv), { online, now: srv.now() });
  sim.delegateReleases(1);
  sim.addBundle('v2', 'bundle v2', 'targets/releases');
  await sim.publish({ now: srv.now() });
  const upload = fullUpload(sim, online);
  assert.deepEqual(upload.map((p) => p.role).sort(), ['root', 'targets', 'targets/releases']);
  const up = await httpUpload(srv.url, NAME, upload);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.deepEqual(
    up.json.stored.filter((s) => s.signedByServer).map((s) => [s.role, s.version]),
    [
      ['snapshot', 1],
      ['timestamp', 1],
    ],
  );
  const rel = await srv.store.getCurrent(NAME, 'targets/releases');
  const snap = parseJson((await srv.store.getCurrent(NAME, 'snapshot')).bytes);
  assert.equal(snap.signed.meta['targets/releases.json'].version, rel.version);

  const bundle = { name: `${NAME}:v2`, length: Buffer.byteLength('bundle v2') };
  await bothClientsSee(t, base, stateOf(sim).root, bundle);
  assert.ok(urls.includes(`/v2/${NAME}/_trust/tuf/${rel.version}.targets%2Freleases.json`), urls.join(' '));

  // the next release through the delegated role only: the server signs snapshot and timestamp
  const before = stateOf(sim);
  sim.addBundle('v3', 'bundle v3', 'targets/releases');
  await sim.publish({ now: srv.now() });
  const next = changedRoles(before, stateOf(sim)).filter((p) => !online.includes(p.role));
  assert.deepEqual(
    next.map((p) => p.role),
    ['targets/releases'],
  );
  const up2 = await httpUpload(srv.url, NAME, next);
  assert.equal(up2.status, 200, JSON.stringify(up2.json));
  await bothClientsSee(t, base, stateOf(sim).root, { name: `${NAME}:v3`, length: 9 });
});

test('developer-managed over HTTP: every file served byte-identical to what was uploaded; nothing signed', async (t) => {
  const srv = await startServerApp(t);
  const base = trustBase(srv.url, NAME);
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  await sim.publish();
  const state = stateOf(sim);
  const up = await httpUpload(
    srv.url,
    NAME,
    Object.entries(state).map(([role, bytes]) => ({ role, bytes })),
  );
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.ok(up.json.stored.every((s) => !s.signedByServer));
  for (const [role, bytes] of Object.entries(state)) {
    const version = parseJson(bytes).signed.version;
    for (const name of [`${role}.json`, `${version}.${role}.json`, `${role}.${sha(bytes)}.json`]) {
      const res = await fetch(`${base}/${name}`);
      assert.equal(res.status, 200, name);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), `${name} is byte-identical`);
      assert.equal(res.headers.get('etag'), `"${sha(bytes)}"`);
    }
  }
  await bothClientsSee(t, base, sim.file('1.root.json'), { name: `${NAME}:v1`, length: 9 });
  // the server holds no key of this repository's roles: nothing to refresh
  srv.now.advance(13 * 3600);
  assert.deepEqual(await srv.service.refreshDue(), []);
});
