// A hostile registry against the registry client (src/registry): each test is a bug that was
// found by acting as a malicious registry, and stays as its regression test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bundleToOci,
  dockerConfigCredentials,
  openRegistry,
  parseReference,
  pushBundle,
  RegistryError,
} from '../../dist/registry/index.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';

async function listen(t, handler) {
  const seen = [];
  const s = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      handler(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  return { host: `127.0.0.1:${s.address().port}`, seen };
}

const DIGEST = `sha256:${'a'.repeat(64)}`;
const CREDS = { username: 'alice', password: 'secret' };

test('a 401 challenge from a redirect target on another origin does not send the credentials to its realm', async (t) => {
  const evil = await listen(t, (req, res) => {
    if (req.url.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}');
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${evilPort()}/token"` }).end();
  });
  const evilPort = () => evil.host.split(':')[1];
  const reg = await listen(t, (req, res) => {
    res.writeHead(307, { location: `http://${evil.host}/storage/blob` }).end();
  });
  const client = openRegistry({ registry: reg.host, insecure: true, credentials: () => CREDS });
  await assert.rejects(client.getBlob('org/b', DIGEST, 1000), (e) => e.code === 'REGISTRY_AUTH_FAILED');
  for (const r of evil.seen)
    assert.equal(r.headers.authorization, undefined, `${r.method} ${r.url} got credentials`);
});

test('tags: a single page with more than the tag limit is refused', async (t) => {
  const tags = Array.from({ length: 100_001 }, (_, i) => `t${i}`);
  const huge = `{"tags":[${'"a",'.repeat(1_000_000)}"a"]}`; // 4 MiB, a million tags
  const reg = await listen(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'org/b', tags }));
  });
  const client = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  await assert.rejects(
    client.listTags('org/b'),
    (e) => e.code === 'REGISTRY_PROTOCOL' && /100000 tags/.test(e.message),
  );
  const reg2 = await listen(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(huge);
  });
  const client2 = openRegistry({ registry: reg2.host, insecure: true, credentials: () => undefined });
  await assert.rejects(
    client2.listTags('org/b'),
    (e) => e.code === 'REGISTRY_PROTOCOL' && /100000 tags/.test(e.message),
  );
});

test('fallbacks: a registry refusing the OCI index with a RegistryError (as the HTTP client throws) gets the Docker manifest list', async () => {
  const reg = new MemoryRegistry({
    failOn: (c) =>
      c.op === 'putManifest' && c.mediaType === 'application/vnd.oci.image.index.v1+json'
        ? new RegistryError('REGISTRY_PROTOCOL', 'HTTP 400 MANIFEST_INVALID')
        : undefined,
  });
  const inv = reg.seedImage('org/app', 'application/vnd.docker.distribution.manifest.v2+json', 'invocation');
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version: '1.0.0',
    invocationImages: [
      {
        imageType: 'docker',
        image: 'example.com/src/inv:1',
        contentDigest: inv.digest,
        size: inv.size,
        mediaType: inv.mediaType,
      },
    ],
  };
  const relocationMap = { 'example.com/src/inv:1': `127.0.0.1:5000/org/app@${inv.digest}` };
  const ref = { registry: '127.0.0.1:5000', repository: 'org/app', tag: 'v1' };
  const pushed = await pushBundle(reg, ref, bundle, { relocationMap, allowFallbacks: true });
  assert.equal(pushed.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
});

test('reference: docker bounds the whole name (registry/repository) to 255 characters, not only the repository', () => {
  assert.equal(parseReference(`ghcr.io/${'a'.repeat(247)}`).repository.length, 247); // 255 in all
  assert.throws(
    () => parseReference(`ghcr.io/${'a'.repeat(248)}:1`),
    (e) => e.code === 'REGISTRY_BAD_REFERENCE',
  );
  // normalized: docker.io/library/<name>
  assert.throws(
    () => parseReference('a'.repeat(240)),
    (e) => e.code === 'REGISTRY_BAD_REFERENCE',
  );
});

test('bundleToOci: an image named like an Object.prototype member ("constructor") is not looked up on the prototype of the relocation map', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version: '1.0.0',
    invocationImages: [{ imageType: 'docker', image: 'constructor', contentDigest: digest, size: 10 }],
  };
  const layout = bundleToOci(bundle, { relocationMap: {} });
  assert.equal(layout.children.find((c) => c.kind === 'invocation').digest, digest);
});

test('docker config: a registry host named like an Object.prototype member has no entry unless the file has one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnabsec-hostile-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, '{"auths":{}}');
  try {
    assert.equal(dockerConfigCredentials('constructor', file), undefined);
    assert.equal(dockerConfigCredentials('valueof', file), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an https registry redirecting to plain http is refused (plain HTTP only when insecure is asked)', async (t) => {
  // self-signed 127.0.0.1 certificate (test/fixtures/registry/hostile-tls-*.pem); tls.connect
  // reads NODE_TLS_REJECT_UNAUTHORIZED per connection, so it is set for this test only
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  t.after(() => {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  });
  const plain = await listen(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{}');
  });
  const fixture = (name) => readFileSync(new URL(`../fixtures/registry/${name}`, import.meta.url));
  const tls = createHttpsServer(
    { key: fixture('hostile-tls-key.pem'), cert: fixture('hostile-tls-cert.pem') },
    (req, res) => res.writeHead(302, { location: `http://${plain.host}/m` }).end(),
  );
  await new Promise((resolve) => tls.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => tls.close(resolve)));
  const client = openRegistry({ registry: `127.0.0.1:${tls.address().port}`, credentials: () => undefined });
  await assert.rejects(client.getManifest('org/b', 'v1'), (e) => e.code === 'REGISTRY_PROTOCOL');
  assert.equal(plain.seen.length, 0);
});

test('reference: the longest valid reference (255-character name, 128-character tag and a digest) parses', () => {
  const name = `ghcr.io/${'a'.repeat(247)}`;
  const text = `${name}:${'t'.repeat(128)}@sha256:${'c'.repeat(64)}`;
  assert.equal(text.length, 456);
  const r = parseReference(text);
  assert.equal(r.tag, 't'.repeat(128));
  assert.equal(r.digest, `sha256:${'c'.repeat(64)}`);
});

test('an https registry whose upload Location is plain http is refused (the blob would cross the network in clear)', async (t) => {
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  t.after(() => {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  });
  const plain = await listen(t, (req, res) => res.writeHead(201).end());
  const fixture = (name) => readFileSync(new URL(`../fixtures/registry/${name}`, import.meta.url));
  const tls = createHttpsServer(
    { key: fixture('hostile-tls-key.pem'), cert: fixture('hostile-tls-cert.pem') },
    (req, res) => {
      req.resume();
      if (req.method === 'HEAD') res.writeHead(404).end();
      else res.writeHead(202, { location: `http://${plain.host}/upload/1` }).end();
    },
  );
  await new Promise((resolve) => tls.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => tls.close(resolve)));
  const client = openRegistry({ registry: `127.0.0.1:${tls.address().port}`, credentials: () => undefined });
  await assert.rejects(
    client.pushBlob('org/b', new TextEncoder().encode('private')),
    (e) => e.code === 'REGISTRY_PROTOCOL',
  );
  assert.equal(plain.seen.length, 0);
});
