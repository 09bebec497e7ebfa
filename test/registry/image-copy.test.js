// copyImage (src/registry/image-copy.ts) against real docker-registry 2.8 instances: an image
// with two layers and an OCI index of two platform images, within one registry (mounted) and
// across two (streamed), a second copy sending nothing, a layer larger than the chunk size
// streamed in PATCH chunks, and a blob altered in the source storage refused before commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyImage } from '../../dist/registry/index.js';
import { blobDataPath, startRegistry } from '../helpers/registry.js';
import { clientFor, digestOf, pushImage, pushIndex } from '../helpers/registry-images.js';

test('image copy within one registry: an index of two platform images is mounted, a second copy sends nothing', async (t) => {
  const reg = await startRegistry(t);
  const c = clientFor(reg);
  const idx = await pushIndex(c, 'org/src');
  const from = { client: c, repository: 'org/src' };
  const to = { client: c, repository: 'org/dst' };
  const counts = await copyImage(from, to, idx.digest, { mediaType: idx.mediaType, size: idx.size });
  assert.equal(counts.manifests, 3);
  assert.equal(counts.mounted, 6); // two configs and four layers
  assert.equal(counts.blobs, 0);
  assert.equal(counts.bytes, 0);
  const got = await c.getManifest('org/dst', idx.digest);
  assert.equal(got.digest, idx.digest);
  for (const img of idx.children) {
    for (const b of [img.config, ...img.layers]) assert.equal(await c.hasBlob('org/dst', b), true);
  }
  // nothing is tagged
  await assert.rejects(c.listTags('org/dst'), (e) => e.code === 'REGISTRY_NOT_FOUND');
  const again = await copyImage(from, to, idx.digest);
  assert.deepEqual(
    {
      manifests: again.manifests,
      blobs: again.blobs,
      mounted: again.mounted,
      present: again.manifestsPresent,
    },
    { manifests: 0, blobs: 0, mounted: 0, present: 1 },
  );
});

test('image copy across two registries: blobs streamed and uploaded, the copy byte-identical, idempotent', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const ca = clientFor(a);
  const cb = clientFor(b);
  const idx = await pushIndex(ca, 'org/src');
  const single = await pushImage(ca, 'org/src', { label: 'single' });
  const from = { client: ca, repository: 'org/src' };
  const to = { client: cb, repository: 'mirror/app' };
  const counts = await copyImage(from, to, idx.digest);
  assert.equal(counts.manifests, 3);
  assert.equal(counts.blobs, 6);
  assert.equal(counts.mounted, 0);
  assert.ok(counts.bytes > 2 * (1000 + 3000), `${counts.bytes} bytes uploaded`);
  const one = await copyImage(from, to, single.digest, { mediaType: single.mediaType, size: single.size });
  assert.equal(one.manifests, 1);
  assert.equal(one.blobs, 3);
  for (const l of single.layers) {
    assert.deepEqual(
      Buffer.from(await cb.getBlob('mirror/app', l, 10_000)),
      Buffer.from(await ca.getBlob('org/src', l, 10_000)),
    );
  }
  const src = await ca.getManifest('org/src', idx.digest);
  const dst = await cb.getManifest('mirror/app', idx.digest);
  assert.deepEqual(Buffer.from(dst.bytes), Buffer.from(src.bytes));
  assert.equal(dst.mediaType, src.mediaType);
  const again = await copyImage(from, to, idx.digest);
  assert.equal(again.manifests + again.blobs + again.mounted, 0);
});

test('image copy: a layer larger than the chunk size is streamed in PATCH chunks (exact multiple and not)', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const ca = clientFor(a);
  const cb = clientFor(b, { chunkBytes: 1024 });
  const layers = [randomBytes(5000), randomBytes(4096), randomBytes(10)];
  const img = await pushImage(ca, 'org/src', { layers });
  const counts = await copyImage(
    { client: ca, repository: 'org/src' },
    { client: cb, repository: 'org/dst' },
    img.digest,
  );
  assert.equal(counts.blobs, 4);
  for (const l of layers)
    assert.deepEqual(Buffer.from(await cb.getBlob('org/dst', digestOf(l), 10_000)), Buffer.from(l));
});

for (const chunkBytes of [undefined, 1024]) {
  test(`image copy: a blob altered in the source storage is refused before the upload is committed (chunkBytes ${chunkBytes ?? 'default'})`, async (t) => {
    const a = await startRegistry(t);
    const b = await startRegistry(t);
    const ca = clientFor(a);
    const cb = clientFor(b, chunkBytes === undefined ? {} : { chunkBytes });
    const img = await pushImage(ca, 'org/src', { layers: [randomBytes(4096)] });
    const file = blobDataPath(a.storageDir, img.layers[0]);
    const bytes = readFileSync(file);
    bytes[100] ^= 0xff; // same length, other content
    writeFileSync(file, bytes);
    await assert.rejects(
      copyImage({ client: ca, repository: 'org/src' }, { client: cb, repository: 'org/dst' }, img.digest),
      (e) => e.code === 'REGISTRY_DIGEST_MISMATCH' && e.message.includes(img.layers[0]),
    );
    assert.equal(await cb.hasBlob('org/dst', img.layers[0]), false);
    assert.equal(await cb.headManifest('org/dst', img.digest), undefined);
  });
}

/** A source serving fixed manifests (for shapes a real registry would not store). */
function fakeSource(manifests) {
  return {
    registry: 'src.example',
    async headManifest() {
      return undefined;
    },
    async getManifest(_repo, digest) {
      const m = manifests.get(digest);
      if (m === undefined) throw Object.assign(new Error('not found'), { code: 'REGISTRY_NOT_FOUND' });
      return m;
    },
  };
}

function manifestOf(doc, mediaType = 'application/vnd.oci.image.manifest.v1+json') {
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  return { mediaType, digest: digestOf(bytes), bytes };
}

const dest = {
  registry: 'dst.example',
  async headManifest() {
    return undefined;
  },
  async hasBlob() {
    return false;
  },
  async pushBlobStream() {
    throw new Error('no blob should be sent');
  },
  async putManifest() {
    throw new Error('no manifest should be sent');
  },
};

test('image copy refuses a sha512 descriptor, a foreign layer without urls, a too deep or too large tree, a size that disagrees', async () => {
  const to = { client: dest, repository: 'org/dst' };
  const sha512 = manifestOf({
    schemaVersion: 2,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha512:${'a'.repeat(128)}`,
      size: 2,
    },
    layers: [],
  });
  const foreign = manifestOf({
    schemaVersion: 2,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${'b'.repeat(64)}`,
      size: 2,
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
        digest: `sha256:${'c'.repeat(64)}`,
        size: 9,
      },
    ],
  });
  const leaf = manifestOf({ schemaVersion: 2, manifests: [] }, 'application/vnd.oci.image.index.v1+json');
  let deep = leaf;
  const all = [sha512, foreign, leaf];
  for (let i = 0; i < 5; i++) {
    deep = manifestOf(
      {
        schemaVersion: 2,
        manifests: [{ mediaType: deep.mediaType, digest: deep.digest, size: deep.bytes.length }],
      },
      'application/vnd.oci.image.index.v1+json',
    );
    all.push(deep);
  }
  const from = { client: fakeSource(new Map(all.map((m) => [m.digest, m]))), repository: 'org/src' };
  const refused = (digest, options, words) =>
    assert.rejects(
      copyImage(from, to, digest, options),
      (e) => e.code === 'REGISTRY_IMAGE_INVALID' && words.test(e.message),
    );
  await refused(sha512.digest, {}, /only sha256/);
  await refused(foreign.digest, {}, /non-distributable layer .* has no urls/);
  await refused(deep.digest, {}, /deeper than 4 levels/);
  await refused(deep.digest, { maxManifests: 2, maxDepth: 10 }, /more than 2 manifests/);
  await refused(leaf.digest, { size: leaf.bytes.length + 1 }, /its descriptor says/);
  await refused(
    leaf.digest,
    { mediaType: 'application/vnd.oci.image.manifest.v1+json' },
    /its descriptor says/,
  );
});

test('image copy within a token-auth registry: the mount asks for push on the destination and pull on the source', async (t) => {
  const reg = await startRegistry(t, { auth: 'token' });
  const c = clientFor(reg);
  const img = await pushImage(c, 'org/src');
  const counts = await copyImage(
    { client: c, repository: 'org/src' },
    { client: c, repository: 'org/dst' },
    img.digest,
  );
  assert.equal(counts.mounted, 3);
  assert.equal(counts.blobs, 0);
  const scopes = reg.tokenRequests.flatMap((r) => r.scopes.flatMap((s) => s.split(' ')));
  assert.ok(scopes.includes('repository:org/src:pull'), scopes.join('\n'));
  assert.ok(
    scopes.some((s) => s.startsWith('repository:org/dst:') && s.includes('push')),
    scopes.join('\n'),
  );
  assert.equal((await c.getManifest('org/dst', img.digest)).digest, img.digest);
});
