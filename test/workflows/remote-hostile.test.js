// Hostile review of issue 13's client (src/workflows/remote*.ts): a server (a proxy in front of
// the real one) that lies after accepting an upload, that redirects to another host, and so on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository, addTarget } from '../../dist/tuf/index.js';
import {
  RemoteRepository,
  applyInit,
  planInit,
  publishRemote,
  pullRepository,
} from '../../dist/workflows/index.js';
import { snapshotTree } from '../helpers/cli.js';
import { startMetadataServer } from '../helpers/metadata-server.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';
const open = (dir) => LocalRepository.open(new FsMetadataStore(dir));

function stage(repo, tag) {
  addTarget(repo, `${NAME}:${tag}`, { length: tag.length, hashes: { sha256: 'ab'.repeat(32) } });
  return repo.saveStaged();
}

/** Listen on 127.0.0.1:0, closed after the test; returns the base URL. */
async function listen(t, handler) {
  const srv = http.createServer(handler);
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => srv.close(r)));
  srv.closeAllConnections?.();
  return { url: `http://127.0.0.1:${srv.address().port}`, srv };
}

/**
 * A proxy to `upstream`; `hook(req, body)` may answer itself ({status, headers, body}) or
 * return undefined to forward. Remembers every forwarded GET answer by URL (`seen`).
 */
async function proxy(t, upstream, hook) {
  const seen = new Map();
  const p = await listen(t, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const own = await hook(req, body, seen);
      if (own !== undefined) {
        res.writeHead(own.status, own.headers ?? {});
        res.end(own.body);
        return;
      }
      const headers = { ...req.headers };
      delete headers.host;
      const r = await fetch(upstream + req.url, {
        method: req.method,
        headers,
        ...(body.length > 0 ? { body } : {}),
        redirect: 'manual',
      });
      const out = Buffer.from(await r.arrayBuffer());
      if (req.method === 'GET' && r.status === 200) seen.set(req.url, out);
      const h = {};
      for (const [k, v] of r.headers)
        if (!['content-encoding', 'transfer-encoding', 'content-length'].includes(k)) h[k] = v;
      res.writeHead(r.status, h);
      res.end(out);
    });
  });
  return { ...p, seen };
}

async function initRepo(t, serverUrl) {
  const work = await tempDir(t);
  const home = path.join(work, 'home');
  const keyStore = new KeyStore(home);
  const passphrases = fixedPassphrases();
  const signers = async (role, keyid) =>
    (await keyStore.has(keyid)) ? keyStore.signer(keyid, passphrases, role) : undefined;
  const dir = path.join(work, 'a');
  const plan = await planInit({ dir, name: NAME, keyStore, server: { url: serverUrl } });
  await applyInit(plan, { keyStore, passphrases, home });
  return { dir, signers, work };
}

test('remote hostile: a server that accepts an upload but then serves the old state is not "published"', async (t) => {
  const server = await startMetadataServer(t);
  let stale = false;
  const px = await proxy(t, server.url, (req, _body, seen) => {
    if (stale && req.method === 'GET' && seen.has(req.url))
      return { status: 200, headers: { 'content-type': 'application/json' }, body: seen.get(req.url) };
    if (
      stale &&
      req.method === 'GET' &&
      /\/\d+\.(snapshot|targets|timestamp)\.json$|\/2\.root\.json$/.test(req.url)
    )
      return { status: 404, body: '{"errors":[{"code":"NOT_FOUND","message":"no"}]}' };
    return undefined;
  });
  const { dir, signers } = await initRepo(t, px.url);
  const remote = new RemoteRepository({ server: px.url, repo: NAME });
  const repo = await open(dir);
  await stage(repo, 'v1');
  await publishRemote(repo, remote, { signers });
  const again = await open(dir);
  await stage(again, 'v2');
  // the proxy now serves what it served before the upload: the server has v2, clients see v1
  const origPost = px.srv.listeners('request')[0];
  stale = false;
  px.srv.removeAllListeners('request');
  px.srv.on('request', (req, res) => {
    if (req.method === 'POST') req.on('end', () => (stale = true));
    origPost(req, res);
  });
  await assert.rejects(publishRemote(again, remote, { signers }), (e) => {
    assert.equal(e.code, 'PUBLISHED_NOT_PULLED', e.message);
    assert.match(e.message, /stored \S+ v\d+ but serves v\d+/);
    return true;
  });
  // locally: targets v2 is still staged (not dropped), v1 still the published one
  const after = await open(dir);
  assert.equal(after.published.get('targets').signed.version, 1);
  assert.equal(after.staged.get('targets')?.signed.version, 2);
});

test('remote hostile: the bearer token is not sent to another host after a redirect (pull)', async (t) => {
  const server = await startMetadataServer(t);
  const other = [];
  const evil = await listen(t, (req, res) => {
    other.push(req.headers.authorization);
    res.writeHead(404);
    res.end();
  });
  let redirect = false;
  const px = await proxy(t, server.url, (req) =>
    redirect && req.method === 'GET' && req.url.endsWith('/2.root.json')
      ? { status: 302, headers: { location: evil.url + req.url } }
      : undefined,
  );
  const { dir, signers } = await initRepo(t, px.url);
  const repo = await open(dir);
  await stage(repo, 'v1');
  await publishRemote(repo, new RemoteRepository({ server: px.url, repo: NAME, token: 'sekrit' }), {
    signers,
  });
  redirect = true;
  // the root walk (tuf-js through HttpFetcher) asks for 2.root.json: redirected, 404 there
  await pullRepository(await open(dir), { token: 'sekrit' });
  assert.ok(other.length > 0, 'the redirect was followed');
  for (const a of other) assert.equal(a, undefined, 'token sent to another host');
});

test(
  'remote hostile: a server that drips its answer a byte a second is cut off by the time budget',
  { timeout: 60_000 },
  async (t) => {
    // headers at once, then one byte a second for ever: the 1 MiB answer budget (16 s at 64 KiB/s)
    // plus the answer time must end the request (it hung for ever: the abort did not end the read)
    const timers = [];
    const drip = await listen(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(' ');
      timers.push(setInterval(() => res.write(' '), 1000));
    });
    t.after(() => timers.forEach(clearInterval));
    const remote = new RemoteRepository({ server: drip.url, repo: NAME, timeoutMs: 200 });
    await assert.rejects(remote.publicKey('timestamp'), (e) => {
      assert.equal(e.code, 'TUF_SERVER_UNREACHABLE');
      assert.match(e.message, /did not arrive within/);
      return true;
    });
    drip.srv.closeAllConnections();
  },
);

test('remote hostile: init refuses a server key that is not a usable public key', async (t) => {
  const { generateKeyPair, toPublicKeyJson } = await import('../../dist/crypto/index.js');
  const good = toPublicKeyJson(generateKeyPair('ed25519').publicKey);
  const bad = [
    { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'zz' } },
    { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'a'.repeat(500_000) } },
    { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: '\u001b[31mred\n' } },
    { ...good, keytype: 'rsa', scheme: 'rsassa-pss-sha256' },
    { ...good, scheme: 'rsassa-pss-sha256' },
    { keytype: 'dsa', scheme: 'dsa', keyval: { public: good.keyval.public } },
  ];
  let answer;
  const srv = await listen(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  const remote = new RemoteRepository({ server: srv.url, repo: NAME });
  answer = good;
  assert.deepEqual((await remote.publicKey('timestamp')).public, good);
  for (const key of bad) {
    answer = key;
    await assert.rejects(remote.publicKey('timestamp'), (e) => {
      assert.equal(e.code, 'REMOTE_BAD_RESPONSE', `${JSON.stringify(key).slice(0, 80)}: ${e.message}`);
      assert.equal(/[\n\u001b]/.test(e.message), false, e.message); // eslint-disable-line no-control-regex
      return true;
    });
  }
});

test('remote hostile: a clone that fails in a directory holding a metadata/ folder leaves that folder alone', async (t) => {
  const { mkdir, readFile, writeFile } = await import('node:fs/promises');
  const { cloneRepository } = await import('../../dist/workflows/index.js');
  const server = await startMetadataServer(t);
  const { dir, signers, work } = await initRepo(t, server.url);
  const repo = await open(dir);
  await stage(repo, 'v1');
  await publishRemote(repo, new RemoteRepository({ server: server.url, repo: NAME }), { signers });
  const into = path.join(work, 'mine');
  await mkdir(path.join(into, 'metadata'), { recursive: true });
  await writeFile(path.join(into, 'metadata', '1.root.json'), 'precious');
  await writeFile(path.join(into, 'metadata', 'notes.txt'), 'mine');
  await assert.rejects(cloneRepository({ server: server.url, name: NAME, dir: into }), {
    code: 'REPO_EXISTS',
  });
  assert.equal(await readFile(path.join(into, 'metadata', '1.root.json'), 'utf8'), 'precious');
  assert.equal(await readFile(path.join(into, 'metadata', 'notes.txt'), 'utf8'), 'mine');
});

test("remote hostile: pull into a never-published repository does not swap its own root for the server's", async (t) => {
  const server = await startMetadataServer(t);
  const a = await initRepo(t, server.url);
  const repoA = await open(a.dir);
  await stage(repoA, 'v1');
  await publishRemote(repoA, new RemoteRepository({ server: server.url, repo: NAME }), {
    signers: a.signers,
  });
  // B: another init of the same name (other keys), never published; its publish is PUBLISH_CONFLICT
  // whose message says to pull: that pull must not make the server's root B's published root
  const b = await initRepo(t, server.url);
  const repoB = await open(b.dir);
  await stage(repoB, 'v1b');
  await assert.rejects(
    publishRemote(repoB, new RemoteRepository({ server: server.url, repo: NAME }), { signers: b.signers }),
    { code: 'PUBLISH_CONFLICT' },
  );
  const before = await snapshotTree(b.dir);
  await assert.rejects(pullRepository(await open(b.dir)), { code: 'REMOTE_BAD_RESPONSE' });
  assert.deepEqual(await snapshotTree(b.dir), before);
});

test("remote hostile: a first publish cut off after the server's 200 is recovered by pull", async (t) => {
  const server = await startMetadataServer(t);
  let down = false;
  const px = await proxy(t, server.url, (req) => {
    if (req.method === 'POST') down = true;
    else if (down) return { status: 503, body: '' };
    return undefined;
  });
  const c = await initRepo(t, px.url);
  const repoC = await open(c.dir);
  await stage(repoC, 'v1');
  await assert.rejects(
    publishRemote(repoC, new RemoteRepository({ server: px.url, repo: NAME }), { signers: c.signers }),
    { code: 'PUBLISHED_NOT_PULLED' },
  );
  const cut = await open(c.dir);
  assert.equal(cut.published.get('root'), undefined);
  assert.ok(cut.staged.get('root'), 'its own root is staged: pull checks the server has that one');
  down = false;
  const pulled = await pullRepository(await open(c.dir));
  assert.deepEqual(pulled.dropped, []);
  const after = await open(c.dir);
  assert.equal(after.published.get('targets').signed.version, 1);
  assert.equal(after.staged.size, 0);
});

test('remote hostile: a 409 to a read is REMOTE_REFUSED, not "someone published first"', async (t) => {
  const srv = await listen(t, (_req, res) => {
    res.writeHead(409, { 'content-type': 'text/plain' });
    res.end('conflict');
  });
  const remote = new RemoteRepository({ server: srv.url, repo: NAME });
  for (const read of [() => remote.publicKey('timestamp'), () => remote.metadataFile('timestamp.json')])
    await assert.rejects(read(), { code: 'REMOTE_REFUSED', message: /HTTP 409/ });
  // the upload's 409 stays PUBLISH_CONFLICT, whatever its body
  await assert.rejects(
    remote.upload({ roles: [{ role: 'targets', bytes: Buffer.from('{}') }], targetFiles: [] }),
    {
      code: 'PUBLISH_CONFLICT',
    },
  );
});

test('remote hostile: key rotate of a role the server holds is refused (it could never be published)', async (t) => {
  const { planRotation } = await import('../../dist/workflows/index.js');
  const server = await startMetadataServer(t);
  const { dir } = await initRepo(t, server.url);
  const repo = await open(dir);
  const serverKey = repo.published.get('root') ?? repo.staged.get('root');
  const [keyid] = serverKey.signed.roles.timestamp.keyIDs;
  await assert.rejects(planRotation(repo, 'timestamp', { add: ['new'], remove: [keyid] }), {
    code: 'WORKFLOW_INVALID_PLAN',
    message: /timestamp is held by the server/,
  });
  // a role the developer holds still rotates
  await planRotation(repo, 'snapshot', { add: ['new'] });
});

test('remote hostile: an upload answer naming roles or versions it was not sent is REMOTE_BAD_RESPONSE', async (t) => {
  let answer;
  const srv = await listen(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  const remote = new RemoteRepository({ server: srv.url, repo: NAME });
  const files = { roles: [{ role: 'targets', bytes: Buffer.from('{}') }], targetFiles: [] };
  const ok = { role: 'targets', version: 2, sha256: 'ab'.repeat(32), length: 2, signedByServer: false };
  answer = { repo: NAME, stored: [ok, { ...ok, role: 'timestamp', signedByServer: true }], targetFiles: [] };
  assert.equal((await remote.upload(files)).stored.length, 2);
  for (const stored of [
    [{ ...ok, role: '\u001b]0;pwned\u0007\u001b[2J' }],
    [{ ...ok, role: 'targets/other' }],
    [{ ...ok, version: 0 }],
    [{ ...ok, version: '2' }],
    ['targets'],
  ]) {
    answer = { repo: NAME, stored, targetFiles: [] };
    await assert.rejects(remote.upload(files), { code: 'REMOTE_BAD_RESPONSE' }, JSON.stringify(stored));
  }
});

test('remote hostile: clone of a developer-managed repository from a server holding no keys', async (t) => {
  const { startServerApp } = await import('../helpers/server-app.js');
  const { cloneRepository } = await import('../../dist/workflows/index.js');
  const server = await startServerApp(t, { keys: 'none' });
  const work = await tempDir(t);
  const home = path.join(work, 'home');
  const keyStore = new KeyStore(home);
  const passphrases = fixedPassphrases();
  const signers = async (role, keyid) =>
    (await keyStore.has(keyid)) ? keyStore.signer(keyid, passphrases, role) : undefined;
  const dir = path.join(work, 'a');
  const plan = await planInit({ dir, name: NAME, keyStore, server: { url: server.url }, serverRoles: [] });
  await applyInit(plan, { keyStore, passphrases, home });
  const repo = await open(dir);
  await stage(repo, 'v1');
  await publishRemote(repo, new RemoteRepository({ server: server.url, repo: NAME }), { signers });
  // the server answers 404 ONLINE_KEYS_DISABLED to snapshot.key: that means "not held", not a failure
  const cloned = await cloneRepository({ server: server.url, name: NAME, dir: path.join(work, 'b') });
  assert.deepEqual(cloned.managed, []);
});

test('remote hostile: init --server against a server holding no keys says to keep the keys here', async (t) => {
  const { startServerApp } = await import('../helpers/server-app.js');
  const server = await startServerApp(t, { keys: 'none' });
  const work = await tempDir(t);
  const keyStore = new KeyStore(path.join(work, 'home'));
  await assert.rejects(
    planInit({ dir: path.join(work, 'a'), name: NAME, keyStore, server: { url: server.url } }),
    (e) => {
      assert.equal(e.code, 'REMOTE_REFUSED');
      assert.match(e.hint, /--server-managed none/);
      return true;
    },
  );
});
