// The registry client (src/registry/client.ts) against a real docker-registry 2.8
// (test/helpers/registry.js): push, pull, head, tags, delete anonymously; basic auth; the
// bearer token flow with two scopes and a mount; content altered in the registry's storage;
// size limits; missing manifests; an unreachable registry; docker config.json credentials;
// and no credentials after a redirect to another origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { openRegistry } from '../../dist/registry/index.js';
import { blobDataPath, freePort, startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = (s) => new TextEncoder().encode(s);

/** An OCI image manifest with a CNAB config blob and one layer (both pushed first). */
function manifestFor(config, layer) {
  return enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.cnab.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers: [{ mediaType: 'application/octet-stream', digest: digestOf(layer), size: layer.length }],
    }),
  );
}

const oneLine = (e) => typeof e.message === 'string' && !e.message.includes('\n');

test('anonymous: push blobs and a manifest, get by tag and digest, head, tags, delete', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({
    registry: reg.host,
    insecure: true,
    credentials: () => undefined,
    chunkBytes: 64 * 1024,
  });
  const config = enc('{"schemaVersion":"v1.2.0"}');
  const layer = new Uint8Array(200 * 1024).map((_, i) => (i * 7) % 251); // chunked: 4 PATCHes
  assert.equal(await c.hasBlob('org/bundle', digestOf(layer)), false);
  assert.equal(await c.pushBlob('org/bundle', config), digestOf(config));
  assert.equal(await c.pushBlob('org/bundle', layer), digestOf(layer));
  assert.equal(await c.hasBlob('org/bundle', digestOf(layer)), true);
  assert.deepEqual(await c.getBlob('org/bundle', digestOf(layer), layer.length), layer);
  const manifest = manifestFor(config, layer);
  const digest = await c.putManifest('org/bundle', 'v1', OCI_MANIFEST, manifest);
  assert.equal(digest, digestOf(manifest));
  await c.putManifest('org/bundle', 'v2', OCI_MANIFEST, manifest);

  const byTag = await c.getManifest('org/bundle', 'v1');
  assert.deepEqual(byTag, { mediaType: OCI_MANIFEST, digest, bytes: byTag.bytes });
  assert.deepEqual(Buffer.from(byTag.bytes), Buffer.from(manifest));
  assert.equal((await c.getManifest('org/bundle', digest)).digest, digest);
  assert.deepEqual(await c.headManifest('org/bundle', 'v1'), {
    digest,
    mediaType: OCI_MANIFEST,
    size: manifest.length,
  });
  assert.equal(await c.headManifest('org/bundle', 'nope'), undefined);
  assert.deepEqual((await c.listTags('org/bundle')).sort(), ['v1', 'v2']);
  // a mount of a blob the source does not have falls back to an upload (202 session)
  const fresh = enc('not in org/bundle');
  assert.equal(await c.pushBlob('org/third', fresh, { mountFrom: 'org/bundle' }), digestOf(fresh));
  assert.equal(await c.hasBlob('org/third', digestOf(fresh)), true);
  // a mount of one it has: the blob is in org/third without an upload
  assert.equal(await c.pushBlob('org/third', config, { mountFrom: 'org/bundle' }), digestOf(config));
  assert.equal(await c.hasBlob('org/third', digestOf(config)), true);

  await c.deleteManifest('org/bundle', digest);
  assert.equal(await c.headManifest('org/bundle', 'v1'), undefined);
  await assert.rejects(
    c.getManifest('org/bundle', 'v1'),
    (e) => e.code === 'REGISTRY_NOT_FOUND' && oneLine(e),
  );
  await assert.rejects(c.deleteManifest('org/bundle', 'v2'), (e) => e.code === 'REGISTRY_BAD_REFERENCE');

  // a missing manifest names registry, repository and tag
  await assert.rejects(c.getManifest('org/other', 'latest'), (e) => {
    assert.equal(e.code, 'REGISTRY_NOT_FOUND');
    assert.ok(e.message.startsWith(`${reg.host}/org/other:latest: `), e.message);
    return oneLine(e);
  });
  await assert.rejects(
    c.getBlob('org/bundle', digestOf(enc('never pushed')), 100),
    (e) => e.code === 'REGISTRY_NOT_FOUND',
  );

  // a manifest over the limit is refused on the way in and on the way out
  const small = openRegistry({
    registry: reg.host,
    insecure: true,
    credentials: () => undefined,
    maxManifestBytes: 100,
  });
  await c.putManifest('org/bundle', 'big', OCI_MANIFEST, manifest);
  await assert.rejects(
    small.getManifest('org/bundle', 'big'),
    (e) => e.code === 'REGISTRY_TOO_LARGE' && oneLine(e),
  );
  await assert.rejects(
    small.putManifest('org/bundle', 'big2', OCI_MANIFEST, manifest),
    (e) => e.code === 'REGISTRY_TOO_LARGE',
  );
  // a blob over the caller's limit
  await assert.rejects(
    c.getBlob('org/bundle', digestOf(layer), layer.length - 1),
    (e) => e.code === 'REGISTRY_TOO_LARGE',
  );

  // a blob altered in the registry's storage directory
  const stored = blobDataPath(reg.storageDir, digestOf(layer));
  const altered = Buffer.from(layer);
  altered[1000] ^= 0xff;
  await writeFile(stored, altered);
  await assert.rejects(c.getBlob('org/bundle', digestOf(layer), layer.length), (e) => {
    assert.equal(e.code, 'REGISTRY_DIGEST_MISMATCH');
    assert.ok(e.message.includes(digestOf(layer)) && e.message.includes(digestOf(altered)), e.message);
    return oneLine(e);
  });
});

test('basic auth: the right password pushes and pulls, a wrong one is REGISTRY_AUTH_FAILED', async (t) => {
  const reg = await startRegistry(t, { auth: 'basic' });
  const good = openRegistry({ registry: reg.host, insecure: true, credentials: reg.credentials });
  const blob = enc('hello basic');
  assert.equal(await good.pushBlob('org/b', blob), digestOf(blob));
  assert.deepEqual(Buffer.from(await good.getBlob('org/b', digestOf(blob), 100)), Buffer.from(blob));

  const wrong = openRegistry({
    registry: reg.host,
    insecure: true,
    credentials: { username: 'alice', password: 'nope' },
  });
  await assert.rejects(wrong.getBlob('org/b', digestOf(blob), 100), (e) => {
    assert.equal(e.code, 'REGISTRY_AUTH_FAILED');
    assert.ok(e.message.includes(`${reg.host}/org/b@${digestOf(blob)}`), e.message);
    return oneLine(e);
  });
  const none = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  await assert.rejects(
    none.hasBlob('org/b', digestOf(blob)),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /credentials/.test(e.message),
  );

  // credentials from a docker config.json: a base64 `auth` entry keyed by host, and a
  // username/password entry keyed by an http URL, are both found by registry host
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  const auth = Buffer.from(`${reg.credentials.username}:${reg.credentials.password}`).toString('base64');
  await writeFile(file, JSON.stringify({ auths: { [reg.host]: { auth } } }));
  const fromConfig = openRegistry({ registry: reg.host, insecure: true, registryConfig: file, env: {} });
  assert.equal(await fromConfig.hasBlob('org/b', digestOf(blob)), true);
  await writeFile(file, JSON.stringify({ auths: { [`http://${reg.host}/v2/`]: reg.credentials } }));
  const fromConfig2 = openRegistry({ registry: reg.host, insecure: true, registryConfig: file, env: {} });
  assert.equal(await fromConfig2.hasBlob('org/b', digestOf(blob)), true);
  // the environment wins over the file
  const env = {
    CNABSEC_REGISTRY_USER: 'alice',
    CNABSEC_REGISTRY_PASSWORD: 'wrong',
    CNABSEC_REGISTRY_HOST: reg.host,
  };
  const fromEnv = openRegistry({ registry: reg.host, insecure: true, registryConfig: file, env });
  await assert.rejects(fromEnv.hasBlob('org/b', digestOf(blob)), (e) => e.code === 'REGISTRY_AUTH_FAILED');
  const fromHome = openRegistry({ registry: reg.host, insecure: true, env: { DOCKER_CONFIG: dir } });
  assert.equal(await fromHome.hasBlob('org/b', digestOf(blob)), true);
});

test('bearer tokens: per-scope tokens, a mount with two scopes in one token request', async (t) => {
  const reg = await startRegistry(t, { auth: 'token' });
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: reg.credentials });
  const config = enc('{"cnab":"config"}');
  const layer = enc('the layer bytes');
  await c.pushBlob('src/repo', config);
  await c.pushBlob('src/repo', layer);
  const digest = await c.putManifest('src/repo', '1.0', OCI_MANIFEST, manifestFor(config, layer));
  assert.equal((await c.getManifest('src/repo', '1.0')).digest, digest);
  const before = reg.tokenRequests.length;

  // a second client (fresh token cache) pulls from src/repo and pushes to dst/repo by mounting
  const d = openRegistry({ registry: reg.host, insecure: true, credentials: reg.credentials });
  const m = await d.getManifest('src/repo', digest);
  await d.pushBlob('dst/repo', config, { mountFrom: 'src/repo' });
  await d.pushBlob('dst/repo', layer, { mountFrom: 'src/repo' });
  await d.putManifest('dst/repo', '1.0', m.mediaType, m.bytes);
  assert.equal((await d.headManifest('dst/repo', '1.0')).digest, digest);
  const asked = reg.tokenRequests.slice(before);
  assert.ok(asked.every((r) => r.authorized && r.service === 'cnabsec-test-registry'));
  const mount = asked.find(
    (r) =>
      r.scopes.includes('repository:src/repo:pull') && r.scopes.includes('repository:dst/repo:pull,push'),
  );
  assert.ok(mount, `no token request with both scopes: ${JSON.stringify(asked)}`);
  // tokens are cached per scope set: the second mount and the manifest push asked for nothing new
  assert.ok(asked.length <= 4, JSON.stringify(asked));
  assert.deepEqual(await d.listTags('dst/repo'), ['1.0']);
  await d.deleteManifest('dst/repo', digest);
  assert.ok(reg.tokenRequests.some((r) => r.scopes.includes('repository:dst/repo:delete')));
  assert.equal(await d.headManifest('dst/repo', '1.0'), undefined);

  const anonymous = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  await assert.rejects(
    anonymous.getManifest('src/repo', '1.0'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && oneLine(e),
  );
  const wrong = openRegistry({
    registry: reg.host,
    insecure: true,
    credentials: { username: 'alice', password: 'x' },
  });
  await assert.rejects(
    wrong.getManifest('src/repo', '1.0'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && oneLine(e),
  );
});

test('an unreachable registry is REGISTRY_UNREACHABLE naming the URL', async () => {
  const port = await freePort();
  const c = openRegistry({ registry: `127.0.0.1:${port}`, insecure: true, credentials: () => undefined });
  await assert.rejects(c.getManifest('org/b', '1.0'), (e) => {
    assert.equal(e.code, 'REGISTRY_UNREACHABLE');
    assert.ok(e.message.includes(`http://127.0.0.1:${port}/v2/org/b/manifests/1.0`), e.message);
    assert.ok(e.message.includes('connection refused'), e.message);
    return oneLine(e);
  });
});

/** A node http server on 127.0.0.1 recording requests; `handle(req, res)` answers. */
async function server(t, handle) {
  const seen = [];
  const s = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    handle(req, res);
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  return { seen, host: `127.0.0.1:${s.address().port}` };
}

test('credentials are not sent after a redirect to another origin; bad bytes there are refused', async (t) => {
  const blob = enc('blob in storage');
  const storage = await server(t, (req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/octet-stream' })
      .end(req.url === '/bad' ? enc('other') : blob);
  });
  const registry = await server(t, (req, res) => {
    if (req.headers.authorization === undefined) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    } else {
      const target = req.url.includes(digestOf(blob)) ? '/blob' : '/bad';
      res.writeHead(307, { location: `http://${storage.host}${target}` }).end();
    }
  });
  const c = openRegistry({
    registry: registry.host,
    insecure: true,
    credentials: { username: 'u', password: 'p' },
  });
  assert.deepEqual(Buffer.from(await c.getBlob('org/b', digestOf(blob), 100)), Buffer.from(blob));
  assert.ok(registry.seen.some((r) => r.authorization?.startsWith('Basic ')));
  assert.equal(storage.seen.length, 1);
  assert.equal(storage.seen[0].authorization, undefined);
  await assert.rejects(
    c.getBlob('org/b', digestOf(enc('x')), 100),
    (e) => e.code === 'REGISTRY_DIGEST_MISMATCH',
  );
  assert.ok(storage.seen.every((r) => r.authorization === undefined));
});

test('a Docker-Content-Digest that disagrees with the manifest bytes is REGISTRY_DIGEST_MISMATCH', async (t) => {
  const body = enc(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }));
  const fake = await server(t, (req, res) => {
    res
      .writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': digestOf(enc('another')) })
      .end(body);
  });
  const c = openRegistry({ registry: fake.host, insecure: true, credentials: () => undefined });
  await assert.rejects(
    c.getManifest('org/b', '1.0'),
    (e) => e.code === 'REGISTRY_DIGEST_MISMATCH' && oneLine(e),
  );
  await assert.rejects(
    c.getManifest('org/b', digestOf(enc('asked'))),
    (e) => e.code === 'REGISTRY_DIGEST_MISMATCH',
  );
});
