// pushBundleWithImages / fixupBundleImages (src/registry/fixup.ts) against real docker-registry
// 2.8: the images of a bundle.json living in other repositories (or another registry, or where
// a relocation map says) are copied into the bundle repository before the bundle is pushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pullBundle, pushBundleWithImages, fixupBundleImages } from '../../dist/registry/index.js';
import { bundleToOci } from '../../dist/registry/cnab-oci.js';
import { startRegistry } from '../helpers/registry.js';
import { bundleFor, clientFor, openerFor, pushImage, pushIndex } from '../helpers/registry-images.js';

test('fixup: an invocation image in org/installer and a component index in another registry are copied into org/app:v1', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const ca = clientFor(a);
  const cb = clientFor(b);
  const inv = await pushImage(cb, 'org/installer', { label: 'installer' });
  const web = await pushIndex(ca, 'team/web');
  const invImage = `${b.host}/org/installer@${inv.digest}`;
  const webImage = `${a.host}/team/web:1.0`; // tagged, pinned by contentDigest
  const bundle = bundleFor(inv, web, { invImage, webImage });
  const ref = { registry: b.host, repository: 'org/app', tag: 'v1' };
  const pushed = await pushBundleWithImages(openerFor([a, b]), ref, bundle);
  assert.deepEqual(pushed.relocationMap, {
    [invImage]: `${b.host}/org/app@${inv.digest}`,
    [webImage]: `${b.host}/org/app@${web.digest}`,
  });
  assert.equal(pushed.tag, 'v1');
  const expected = bundleToOci(bundle, { relocationMap: pushed.relocationMap });
  assert.equal(pushed.digest, expected.indexDigest);
  const index = JSON.parse(Buffer.from((await cb.getManifest('org/app', 'v1')).bytes).toString('utf8'));
  assert.deepEqual(
    index.manifests.map((m) => [m.annotations['io.cnab.manifest.type'], m.digest, m.mediaType]),
    [
      ['config', expected.configManifestDigest, 'application/vnd.oci.image.manifest.v1+json'],
      ['invocation', inv.digest, inv.mediaType],
      ['component', web.digest, web.mediaType],
    ],
  );
  for (const img of web.children) assert.ok(await cb.headManifest('org/app', img.digest));
  const pulled = await pullBundle(cb, ref);
  assert.deepEqual(pulled.relocationMap, pushed.relocationMap);
  // a second push copies nothing
  const again = await fixupBundleImages(openerFor([a, b]), ref, bundle);
  assert.equal(again.counts.manifests + again.counts.blobs + again.counts.mounted, 0);
});

test('fixup: a relocation map says where the images are; same registry blobs are mounted', async (t) => {
  const a = await startRegistry(t);
  const ca = clientFor(a);
  const inv = await pushImage(ca, 'org/installer');
  const bundle = bundleFor(inv, undefined); // image example.com/src/inv:1, not reachable
  const relocationMap = { 'example.com/src/inv:1': `${a.host}/org/installer@${inv.digest}` };
  const ref = { registry: a.host, repository: 'org/app', tag: 'v1' };
  const fixed = await fixupBundleImages(openerFor([a]), ref, bundle, { relocationMap });
  assert.equal(fixed.counts.mounted, 3);
  assert.equal(fixed.counts.blobs, 0);
  assert.deepEqual(
    fixed.images.map((i) => [i.name, i.source]),
    [['invocation', `${a.host}/org/installer`]],
  );
  const pushed = await pushBundleWithImages(openerFor([a]), ref, bundle, { relocationMap });
  assert.deepEqual(pushed.relocationMap, { 'example.com/src/inv:1': `${a.host}/org/app@${inv.digest}` });
  assert.equal((await pullBundle(ca, ref)).bundleDigest, pushed.configDigest);
});

test('fixup: an image referenced by tag only is refused before any request (REGISTRY_IMAGE_NOT_DIGESTED)', async (t) => {
  const a = await startRegistry(t);
  const ca = clientFor(a);
  const inv = await pushImage(ca, 'org/installer');
  const bundle = bundleFor(inv, undefined, { invImage: `${a.host}/org/installer:latest` });
  delete bundle.invocationImages[0].contentDigest;
  const ref = { registry: a.host, repository: 'org/app', tag: 'v1' };
  await assert.rejects(
    pushBundleWithImages(openerFor([a]), ref, bundle),
    (e) => e.code === 'REGISTRY_IMAGE_NOT_DIGESTED',
  );
  assert.equal(await ca.headManifest('org/app', inv.digest), undefined);
  await assert.rejects(
    pushBundleWithImages(
      openerFor([a]),
      { registry: a.host, repository: 'org/app' },
      bundleFor(inv, undefined),
    ),
    (e) => e.code === 'REGISTRY_BAD_TARGET',
  );
});
