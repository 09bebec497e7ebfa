// Registry hosts and digests in one spelling (src/registry/reference.ts): IPv6 hosts in brackets
// as docker takes them (`[::1]:5000/org/app:v1`), hosts lowercased everywhere (parsing, the
// client, the opener, config.json lookup, --insecure-registry), and digests of another algorithm
// (sha512, allowed by OCI) refused as "unsupported", by name, wherever a digest is read. The
// IPv6 part runs a real docker-registry listening on [::1] when the machine has IPv6 loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import * as path from 'node:path';
import {
  bundleToOci,
  checkInsecureHost,
  dockerConfigCredentials,
  formatReference,
  isRegistryHost,
  openRegistry,
  parseReference,
  registryOpener,
} from '../../dist/registry/index.js';
import { REGISTRY_BIN } from '../helpers/registry.js';
import { fakeRegistry } from '../helpers/registry-images.js';
import { tempDir } from '../helpers/tmp.js';

const SHA512 = `sha512:${'ab'.repeat(64)}`;
const D = `sha256:${'c'.repeat(64)}`;
const enc = (s) => new TextEncoder().encode(s);
const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('IPv6 registry hosts: parsed, formatted back, accepted by --insecure-registry', () => {
  assert.deepEqual(parseReference('[::1]:5000/org/app:v1'), {
    registry: '[::1]:5000',
    repository: 'org/app',
    tag: 'v1',
  });
  assert.deepEqual(parseReference(`[2001:db8::1]/org/app@${D}`), {
    registry: '[2001:db8::1]',
    repository: 'org/app',
    digest: D,
  });
  assert.equal(formatReference(parseReference('[::1]:5000/org/app:v1')), '[::1]:5000/org/app:v1');
  assert.equal(parseReference('[2001:DB8::1]:443/org/app').registry, '[2001:db8::1]:443');
  for (const host of ['[::1]', '[::1]:5000', '[fe80::1%25lo]'.replace('%25lo', ''), '[::ffff:1.2.3.4]:1'])
    assert.equal(isRegistryHost(host), true, host);
  for (const host of ['::1', '[::1', '[::1]]', '[nothex]:5000', '[::1]:0', '[::1]:99999', '[1:2:3]:5000'])
    assert.equal(isRegistryHost(host), false, host);
  assert.equal(checkInsecureHost('[::1]:5000'), '[::1]:5000');
  assert.throws(
    () => parseReference('[::1:5000/org/app'),
    (e) => e.code === 'REGISTRY_BAD_REFERENCE',
  );
});

test('uppercase hosts are one host: lowercased by the parser, the client, the opener and the config lookup', async (t) => {
  assert.equal(parseReference('Registry.Example.COM:5000/org/app:v1').registry, 'registry.example.com:5000');
  assert.equal(parseReference('GHCR.IO/org/app').registry, 'ghcr.io');
  assert.equal(
    formatReference({ registry: 'GHCR.io', repository: 'org/app', tag: 'v1' }),
    'ghcr.io/org/app:v1',
  );
  assert.equal(openRegistry({ registry: 'GHCR.IO', credentials: () => undefined }).registry, 'ghcr.io');
  const open = registryOpener({ credentials: () => undefined, insecure: ['REG.lan:5000'] });
  assert.equal(open('Reg.LAN:5000'), open('reg.lan:5000'));
  // the config.json key as docker login wrote it, the host as the user typed it
  const file = path.join(await tempDir(t), 'config.json');
  const auth = Buffer.from('u:p').toString('base64');
  await writeFile(file, JSON.stringify({ auths: { 'https://Registry.Example.com:5000/v1/': { auth } } }));
  assert.deepEqual(dockerConfigCredentials('registry.example.COM:5000', file), {
    username: 'u',
    password: 'p',
  });
  // the credentials the client sends are found for the lowercased host
  const seen = [];
  const s = createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization === undefined)
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"a/b","tags":[]}');
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  const host = `LOCALHOST:${s.address().port}`;
  await writeFile(file, JSON.stringify({ auths: { [host.toLowerCase()]: { auth } } }));
  const c = openRegistry({ registry: host, insecure: true, registryConfig: file, env: {} });
  assert.deepEqual(await c.listTags('a/b'), []);
  assert.equal(seen.at(-1), `Basic ${auth}`);
});

test('sha512 digests are refused as an unsupported algorithm, not as a malformed digest', async (t) => {
  assert.throws(
    () => parseReference(`ghcr.io/org/app@${SHA512}`),
    (e) =>
      e.code === 'REGISTRY_BAD_REFERENCE' &&
      /unsupported digest algorithm "sha512": only sha256 is supported/.test(e.message),
  );
  assert.throws(
    () => parseReference(`ghcr.io/org/app@sha256:${'A'.repeat(64)}`),
    (e) => e.code === 'REGISTRY_BAD_REFERENCE' && /is not sha256:<64 lowercase hex>/.test(e.message),
  );
  const c = openRegistry({ registry: '127.0.0.1:1', insecure: true, credentials: () => undefined });
  for (const call of [
    () => c.getManifest('org/b', SHA512),
    () => c.getBlob('org/b', SHA512, 10),
    () => c.hasBlob('org/b', SHA512),
    () => c.deleteManifest('org/b', SHA512),
  ]) {
    await assert.rejects(call(), (e) => e.code === 'REGISTRY_BAD_REFERENCE' && /only sha256/.test(e.message));
  }
  // an image of the bundle pinned by sha512 (bundle.json contentDigest)
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'b',
    version: '1.0.0',
    invocationImages: [
      {
        imageType: 'oci',
        image: 'example.com/org/inv',
        contentDigest: SHA512,
        size: 5,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
      },
    ],
  };
  assert.throws(
    () => bundleToOci(bundle),
    (e) => e.code === 'REGISTRY_IMAGE_INVALID' && /unsupported digest algorithm "sha512"/.test(e.message),
  );
  // a HEAD whose Docker-Content-Digest is sha512: said so (a GET hashes the bytes itself)
  const { client: h } = await fakeRegistry(t, (req, res) => {
    res
      .writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': SHA512,
        'content-length': '2',
      })
      .end(req.method === 'HEAD' ? undefined : '{}');
  });
  await assert.rejects(
    h.headManifest('org/b', 'v1'),
    (e) => e.code === 'REGISTRY_PROTOCOL' && /unsupported digest algorithm "sha512"/.test(e.message),
  );
  const got = await h.getManifest('org/b', 'v1');
  assert.equal(got.digest, digestOf(enc('{}')));
});

function hasIpv6Loopback() {
  return Object.values(networkInterfaces())
    .flat()
    .some((i) => i?.family === 'IPv6' && i.address === '::1');
}

async function freeV6Port() {
  const s = netServer();
  await new Promise((resolve) => s.listen(0, '::1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A docker-registry 2.8 on [::1] (anonymous, filesystem storage in a temp dir). */
async function startV6Registry(t) {
  const dir = await tempDir(t, 'cnabsec-registry6-');
  const port = await freeV6Port();
  const config = path.join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      'http:',
      `  addr: "[::1]:${port}"`,
      '  secret: not-a-secret-test-only',
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode})`);
    try {
      const r = await fetch(`http://[::1]:${port}/v2/`);
      await r.body?.cancel();
      return `[::1]:${port}`;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('docker-registry on [::1] did not answer');
}

test(
  'a real docker-registry on [::1]: push and pull through an IPv6 reference',
  { skip: !hasIpv6Loopback() && 'no IPv6 loopback' },
  async (t) => {
    const host = await startV6Registry(t);
    const ref = parseReference(`${host}/org/app:v1`);
    assert.equal(ref.registry, host);
    const open = registryOpener({ credentials: () => undefined, insecure: [host] });
    const c = open(ref.registry);
    const config = enc('{"cnab":"v6"}');
    assert.equal(await c.pushBlob(ref.repository, config), digestOf(config));
    const manifest = enc(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.cnab.config.v1+json',
          digest: digestOf(config),
          size: config.length,
        },
        layers: [],
      }),
    );
    const digest = await c.putManifest(
      ref.repository,
      ref.tag,
      'application/vnd.oci.image.manifest.v1+json',
      manifest,
    );
    const got = await c.getManifest(ref.repository, 'v1');
    assert.equal(got.digest, digest);
    assert.deepEqual(
      Buffer.from(await c.getBlob(ref.repository, digestOf(config), 100)),
      Buffer.from(config),
    );
    assert.deepEqual(await c.listTags(ref.repository), ['v1']);
  },
);
