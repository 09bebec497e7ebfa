// Hostile registries found in the review of the issue 14 registry work: each case failed before
// its fix. A layer descriptor with a huge size (a Node timer cannot hold its time budget), ...
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { copyImage, openRegistry } from '../../dist/registry/index.js';
import { startRegistry } from '../helpers/registry.js';
import { clientFor, digestOf, fakeImageSource, OCI_MANIFEST } from '../helpers/registry-images.js';

async function listen(t, handler) {
  const s = createServer(handler);
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  return `127.0.0.1:${s.address().port}`;
}

for (const size of [2 ** 38, 2 ** 52]) {
  test(`image copy: a layer descriptor of ${size} bytes is a size refusal, not a timer overflow (RangeError or an instant timeout)`, async (t) => {
    const src = await fakeImageSource(t, { layerSize: size });
    const reg = await startRegistry(t);
    const dst = clientFor(reg);
    await assert.rejects(
      copyImage(
        { client: src.client, repository: 'org/src' },
        { client: dst, repository: 'org/dst' },
        src.manifest,
      ),
      (e) => e.code === 'REGISTRY_DIGEST_MISMATCH' && e.message.includes(`its descriptor says ${size}`),
    );
    assert.equal(await dst.hasBlob('org/dst', src.layer), false);
  });
}

/**
 * Route `http://<name>:<port>` to 127.0.0.1:<port> for this test, so that a registry host that
 * is not a loopback name (as a remote registry is) can be served by a local test server.
 */
function routeName(t, name) {
  const real = globalThis.fetch;
  globalThis.fetch = (url, init) => real(String(url).replace(`http://${name}:`, 'http://127.0.0.1:'), init);
  t.after(() => {
    globalThis.fetch = real;
  });
}

test('blob upload: a remote registry whose upload Location is a loopback service is refused before any byte goes there (SSRF)', async (t) => {
  const victim = [];
  const victimHost = await listen(t, (req, res) => {
    victim.push(`${req.method} ${req.url}`);
    res.writeHead(202, { location: req.url }).end();
  });
  const port = (
    await listen(t, (req, res) => {
      if (req.method === 'HEAD') res.writeHead(404).end();
      else if (req.method === 'POST')
        res.writeHead(202, { location: `http://${victimHost}/admin/upload` }).end();
      else res.writeHead(404).end();
    })
  ).split(':')[1];
  routeName(t, 'registry.example');
  const client = openRegistry({
    registry: `registry.example:${port}`,
    insecure: true,
    credentials: () => undefined,
  });
  for (const push of [
    () => client.pushBlob('org/app', randomBytes(100)),
    () => client.pushBlob('org/app', randomBytes(100), { mountFrom: 'org/other' }),
  ]) {
    await assert.rejects(
      push(),
      (e) =>
        e.code === 'REGISTRY_PROTOCOL' &&
        /loopback or link-local/.test(e.message) &&
        e.message.includes(victimHost),
    );
  }
  const bytes = randomBytes(100);
  await assert.rejects(
    client.pushBlobStream('org/app', { digest: digestOf(bytes), size: 100 }, async () => [bytes]),
    (e) => e.code === 'REGISTRY_PROTOCOL',
  );
  assert.deepEqual(victim, []);
});

test('blob mount: a 201 naming another digest (Docker-Content-Digest) is REGISTRY_DIGEST_MISMATCH, not "mounted"', async (t) => {
  const other = digestOf(Buffer.from('another blob'));
  const host = await listen(t, (req, res) => {
    if (req.method === 'HEAD') res.writeHead(404).end();
    else if (req.method === 'POST')
      res.writeHead(201, { location: `/v2/org/app/blobs/${other}`, 'docker-content-digest': other }).end();
    else res.writeHead(404).end();
  });
  const client = openRegistry({ registry: host, insecure: true, credentials: () => undefined });
  const bytes = randomBytes(100);
  const mismatch = (e) => e.code === 'REGISTRY_DIGEST_MISMATCH' && e.message.includes(other);
  await assert.rejects(client.pushBlob('org/app', bytes, { mountFrom: 'org/src' }), mismatch);
  await assert.rejects(
    client.pushBlobStream('org/app', { digest: digestOf(bytes), size: 100 }, async () => [bytes], {
      mountFrom: 'org/src',
    }),
    mismatch,
  );
});

test('pull: an index that points a digest-pinned image (no contentDigest) at another image is refused; so is such a relocation map (the signed bundle.json pins the image)', async (t) => {
  const { bundleToOci, copyBundle, pullBundle, pushBundleWithImages } =
    await import('../../dist/registry/index.js');
  const { bundleFor, openerFor, pushImage, OCI_INDEX } = await import('../helpers/registry-images.js');
  const reg = await startRegistry(t);
  const c = clientFor(reg);
  const opener = openerFor([reg]);
  const layers = [randomBytes(1000), randomBytes(3000)];
  const good = await pushImage(c, 'org/app', { label: 'good', layers });
  const evil = await pushImage(c, 'org/app', { label: 'evil', layers });
  assert.equal(evil.size, good.size);
  const image = `${reg.host}/org/app@${good.digest}`;
  const bundle = bundleFor(good, undefined, { invImage: image });
  delete bundle.invocationImages[0].contentDigest; // pinned by the digest in its reference only
  const ref = { registry: reg.host, repository: 'org/app', tag: 'v1' };
  const pushed = await pushBundleWithImages(opener, ref, bundle);
  // the registry's owner swaps the invocation image in the (unsigned) index; bundle.json is untouched
  const index = Buffer.from(await (await c.getManifest('org/app', pushed.digest)).bytes).toString();
  assert.ok(index.includes(good.digest));
  await c.putManifest('org/app', 'v1', OCI_INDEX, Buffer.from(index.replace(good.digest, evil.digest)));
  const swapped = (e) =>
    e.code === 'REGISTRY_LAYOUT_MISMATCH' &&
    e.message.includes(evil.digest) &&
    e.message.includes(good.digest);
  await assert.rejects(pullBundle(c, ref), swapped);
  await assert.rejects(copyBundle(opener, ref, { ...ref, repository: 'mirror/app' }), swapped);
  assert.equal(await c.headManifest('mirror/app', evil.digest), undefined);
  assert.throws(
    () =>
      bundleToOci(bundle, {
        relocationMap: { [image]: `${reg.host}/org/app@${evil.digest}` },
        target: ref,
      }),
    (e) => e.code === 'REGISTRY_IMAGE_INVALID' && e.message.includes(good.digest),
  );
});

test('bundle index: a registry-chosen name of 1 MB (media type, annotation key, component name) gives a bounded one-line message', async () => {
  const { checkBundleIndex } = await import('../../dist/registry/cnab-oci-read.js');
  const big = 'x'.repeat(1 << 20);
  const entry = (type, extra = {}) => ({
    mediaType: OCI_MANIFEST,
    digest: `sha256:${'a'.repeat(64)}`,
    size: 10,
    annotations: { 'io.cnab.manifest.type': type },
    ...extra,
  });
  const cases = [
    [entry('config', { mediaType: big }), entry('invocation')],
    [
      entry('config', { annotations: { 'io.cnab.manifest.type': 'config', [big]: 'v' } }),
      entry('invocation'),
    ],
    [
      entry('config'),
      entry('invocation'),
      entry('component', {
        annotations: { 'io.cnab.manifest.type': 'component', 'io.cnab.component.name': `b${big}` },
      }),
      entry('component', {
        annotations: { 'io.cnab.manifest.type': 'component', 'io.cnab.component.name': 'a' },
      }),
    ],
  ];
  for (const manifests of cases) {
    assert.throws(
      () =>
        checkBundleIndex(
          Buffer.from(JSON.stringify({ schemaVersion: 2, manifests })),
          'application/vnd.oci.image.index.v1+json',
        ),
      (e) => e.code === 'REGISTRY_LAYOUT_MISMATCH' && e.message.length < 2000 && !e.message.includes('\n'),
    );
  }
});
