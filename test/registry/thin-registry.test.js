// pushBundle / pullBundle against a real docker-registry 2.8 (test/helpers/registry.js) through
// the RegistryClient: the registry accepts cnab-to-oci's exact index and config manifest, a
// push then pull round-trips the canonical bundle byte for byte, and what the registry serves
// for the index by tag is the bytes we pushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openRegistry } from '../../dist/registry/index.js';
import { pullBundle, pushBundle } from '../../dist/registry/thin.js';
import { bundleToOci } from '../../dist/registry/cnab-oci.js';
import { pushImage as pushImageOf } from '../helpers/registry-images.js';
import { startRegistry } from '../helpers/registry.js';

const pushImage = (c, repository, label) => pushImageOf(c, repository, { label, layers: [] });

test('real docker-registry: push then pull a thin bundle, byte-identical; the tag serves our exact index', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const inv = await pushImage(c, 'org/app', 'invocation');
  const web = await pushImage(c, 'org/app', 'web');
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version: '1.0.0',
    description: 'a <b>thin</b> bundle & more',
    maintainers: [{ name: 'Jane Doe', email: 'jane@example.com' }],
    invocationImages: [
      { imageType: 'oci', image: 'example.com/src/inv:1', contentDigest: inv.digest, size: inv.size },
    ],
    images: {
      web: {
        imageType: 'oci',
        image: 'example.com/src/web:1',
        contentDigest: web.digest,
        size: web.size,
        description: 'web',
      },
    },
  };
  const relocationMap = {
    'example.com/src/inv:1': `${reg.host}/org/app@${inv.digest}`,
    'example.com/src/web:1': `${reg.host}/org/app@${web.digest}`,
  };
  const ref = { registry: reg.host, repository: 'org/app', tag: 'v1' };
  const pushed = await pushBundle(c, ref, Buffer.from(JSON.stringify(bundle, null, 2)), { relocationMap });
  const served = await c.getManifest('org/app', 'v1');
  assert.equal(served.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(Buffer.from(served.bytes), Buffer.from(pushed.layout.index));
  assert.equal(served.digest, pushed.digest);
  const pulled = await pullBundle(c, ref);
  assert.deepEqual(Buffer.from(pulled.bundle), Buffer.from(pushed.layout.configBlob));
  assert.equal(pulled.digest, pushed.digest);
  assert.deepEqual(pulled.relocationMap, relocationMap);
  assert.deepEqual(await c.listTags('org/app'), ['v1']);
});

test('real docker-registry: a bundle whose images are not in the repository is refused before any upload', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const d = 'sha256:' + 'a'.repeat(64);
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version: '1.0.0',
    invocationImages: [{ imageType: 'oci', image: 'example.com/src/inv:1', contentDigest: d, size: 10 }],
  };
  await assert.rejects(
    pushBundle(c, { registry: reg.host, repository: 'org/app', tag: 'v1' }, bundle),
    (e) => e.code === 'REGISTRY_IMAGE_MISSING',
  );
  assert.equal(await c.hasBlob('org/app', bundleToOci(bundle).configDigest), false);
});
