// Issue 14 item 7 at the library level, against the real docker-registry 2.8: each bad input
// is one error with a stable code, a one-line message naming the registry, repository and
// reference or digest, and a hint. What client.test.js, auth.test.js, protocol.test.js and
// hostile.test.js already cover (closed port, a port that never answers, 401 without and with
// wrong credentials, missing manifest, oversized manifest, a blob altered in storage) is not
// repeated; here: a token service answering 403, a missing blob by name, an image manifest
// where a bundle index is expected, a manifest altered in the storage directory (manifests are
// blobs there too), and pushes failing half-way (index PUT refused; connection cut after the
// config) that leave the tag where it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { openRegistry } from '../../dist/registry/index.js';
import { pullBundle, pushBundle } from '../../dist/registry/thin.js';
import { blobDataPath, freePort, REGISTRY_BIN, startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { pushImage as pushImageOf } from '../helpers/registry-images.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = (s) => new TextEncoder().encode(s);

/** One line, a code, a hint, and every `names` in the message. */
function oneError(code, ...names) {
  return (e) => {
    assert.equal(e.code, code, e.message);
    for (const n of names) assert.ok(e.message.includes(n), `${e.message} lacks ${n}`);
    assert.ok(!e.message.includes('\n'), e.message);
    assert.ok(typeof e.hint === 'string' && e.hint.length > 0, 'no hint');
    return true;
  };
}

async function listen(t, handler) {
  const s = createServer(handler);
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    s.closeAllConnections();
    return new Promise((resolve) => s.close(resolve));
  });
  return `127.0.0.1:${s.address().port}`;
}

const pushImage = async (c, repository, label) => {
  const r = await pushImageOf(c, repository, { label, layers: [] });
  return { ...r, manifest: r.bytes };
};

function bundleOf(version, inv) {
  return {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version,
    invocationImages: [
      { imageType: 'oci', image: 'example.com/src/inv:1', contentDigest: inv.digest, size: inv.size },
    ],
  };
}

/** docker-registry with token auth whose realm is `realm` (a service of the test's own). */
async function startTokenRegistry(t, realm) {
  const dir = await tempDir(t, 'cnabsec-registry-403-');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=t',
    ].concat(['-days', '2', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')]),
    { stdio: 'ignore' },
  );
  const port = await freePort();
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
      `  addr: 127.0.0.1:${port}`,
      '  secret: not-a-secret-test-only',
      'auth:',
      '  token:',
      `    realm: ${realm}`,
      '    service: svc',
      '    issuer: nobody',
      `    rootcertbundle: ${path.join(dir, 'c.pem')}`,
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
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      await r.body?.cancel();
      return `127.0.0.1:${port}`;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('docker-registry did not start');
}

test('a token service that grants nothing (403) is REGISTRY_AUTH_FAILED naming the registry and the token service', async (t) => {
  const tokenHost = await listen(t, (req, res) => {
    req.resume();
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"details":"access denied"}');
  });
  const host = await startTokenRegistry(t, `http://${tokenHost}/token`);
  const c = openRegistry({
    registry: host,
    insecure: true,
    credentials: () => ({ username: 'a', password: 'b' }),
  });
  await assert.rejects(
    c.getManifest('org/app', 'v1'),
    oneError('REGISTRY_AUTH_FAILED', host, `http://${tokenHost}`, '403'),
  );
  await assert.rejects(c.pushBlob('org/app', enc('x')), oneError('REGISTRY_AUTH_FAILED', host));
});

test('a missing blob names registry, repository and digest; an image manifest is not a bundle index', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const never = digestOf(enc('never pushed'));
  await assert.rejects(
    c.getBlob('org/app', never, 100),
    oneError('REGISTRY_NOT_FOUND', `${reg.host}/org/app@${never}`, 'BLOB_UNKNOWN'),
  );
  // a plain image under the tag: pull refuses it, naming the reference and the media type
  const img = await pushImage(c, 'org/app', 'plain');
  await c.putManifest('org/app', 'v1', OCI_MANIFEST, img.manifest);
  await assert.rejects(
    pullBundle(c, { registry: reg.host, repository: 'org/app', tag: 'v1' }),
    // thin.ts/cnab-oci-check.ts own this message; it names the media type (not yet the reference)
    oneError('REGISTRY_LAYOUT_MISMATCH', 'bundle index', OCI_MANIFEST, 'not an OCI index'),
  );
  await assert.rejects(
    pullBundle(c, { registry: reg.host, repository: 'org/app', tag: 'nope' }),
    oneError('REGISTRY_NOT_FOUND', `${reg.host}/org/app:nope`),
  );
});

test('a manifest altered in the storage directory is refused by tag and by digest, and by pull', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const inv = await pushImage(c, 'org/app', 'inv');
  const ref = { registry: reg.host, repository: 'org/app', tag: 'v1' };
  const relocationMap = { 'example.com/src/inv:1': `${reg.host}/org/app@${inv.digest}` };
  const pushed = await pushBundle(c, ref, bundleOf('1.0.0', inv), { relocationMap });
  const stored = blobDataPath(reg.storageDir, pushed.digest);
  const altered = Buffer.from(pushed.layout.index);
  altered[altered.indexOf('1.0.0')] = '2'.charCodeAt(0); // same length, other bytes
  await writeFile(stored, altered);
  await assert.rejects(
    c.getManifest('org/app', 'v1'),
    oneError('REGISTRY_DIGEST_MISMATCH', `${reg.host}/org/app:v1`, pushed.digest, digestOf(altered)),
  );
  await assert.rejects(
    c.getManifest('org/app', pushed.digest),
    oneError('REGISTRY_DIGEST_MISMATCH', `${reg.host}/org/app@${pushed.digest}`, digestOf(altered)),
  );
  await assert.rejects(pullBundle(c, ref), oneError('REGISTRY_DIGEST_MISMATCH', pushed.digest));
  await assert.rejects(
    pullBundle(c, { ...ref, tag: undefined, digest: pushed.digest }),
    oneError('REGISTRY_DIGEST_MISMATCH', pushed.digest),
  );
});

/**
 * A proxy to the real registry that fails one request: `fail(req)` returns 'refuse' (500 with
 * a distribution error body), 'cut' (the connection destroyed before any answer) or undefined.
 */
async function failingProxy(t, target, fail) {
  return listen(t, (req, res) => {
    const how = fail(req);
    if (how === 'cut') {
      req.socket.destroy();
      return;
    }
    if (how === 'refuse') {
      req.resume();
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNKNOWN","message":"refused by the test proxy"}]}');
      return;
    }
    const [hostname, port] = target.split(':');
    const up = request({ hostname, port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
}

test('a push failing half-way (index PUT refused; connection cut after the config) leaves the tag on the previous bundle', async (t) => {
  const reg = await startRegistry(t);
  const direct = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const inv = await pushImage(direct, 'org/app', 'inv');
  const v1 = await pushBundle(
    direct,
    { registry: reg.host, repository: 'org/app', tag: 'v1' },
    bundleOf('1.0.0', inv),
    { relocationMap: { 'example.com/src/inv:1': `${reg.host}/org/app@${inv.digest}` } },
  );
  const isManifestPut = (req, type) =>
    req.method === 'PUT' && req.url.includes('/manifests/') && req.headers['content-type'] === type;
  for (const [how, fail] of [
    ['index refused', (req) => (isManifestPut(req, OCI_INDEX) ? 'refuse' : undefined)],
    ['cut after the config blob', (req) => (isManifestPut(req, OCI_MANIFEST) ? 'cut' : undefined)],
  ]) {
    const proxy = await failingProxy(t, reg.host, fail);
    const c = openRegistry({ registry: proxy, insecure: true, credentials: () => undefined });
    const ref = { registry: proxy, repository: 'org/app', tag: 'v1' };
    const relocationMap = { 'example.com/src/inv:1': `${proxy}/org/app@${inv.digest}` };
    await assert.rejects(
      pushBundle(c, ref, bundleOf(`2.0.0-${how.length}`, inv), { relocationMap }),
      (e) =>
        ['REGISTRY_PROTOCOL', 'REGISTRY_UNREACHABLE'].includes(e.code) &&
        e.message.includes(proxy) &&
        !e.message.includes('\n'),
      how,
    );
    const tag = await direct.getManifest('org/app', 'v1');
    assert.equal(tag.digest, v1.digest, `${how}: the tag moved`);
    assert.deepEqual(await direct.listTags('org/app'), ['v1']);
  }
  const pulled = await pullBundle(direct, { registry: reg.host, repository: 'org/app', tag: 'v1' });
  assert.equal(pulled.digest, v1.digest);
});
