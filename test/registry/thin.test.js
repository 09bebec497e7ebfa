// pushBundle / pullBundle against the in-memory registry (test/helpers/memory-registry.js):
// push order (images checked, config blob, config manifest, index by digest, tag last), a push
// failing half-way leaves the tag where it was, fallbacks, and pull checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushBundle, pullBundle } from '../../dist/registry/thin.js';
import { MemoryRegistry, MemoryRegistryError } from '../helpers/memory-registry.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REF = { registry: '127.0.0.1:5000', repository: 'org/app', tag: 'v1' };

/** A registry holding two images, and a bundle pinning them by contentDigest with a relocation map. */
function setup(options) {
  const reg = new MemoryRegistry(options);
  const inv = reg.seedImage('org/app', DOCKER_MANIFEST, 'invocation');
  const web = reg.seedImage('org/app', OCI_MANIFEST, 'web');
  const bundle = (version = '1.0.0') => ({
    schemaVersion: 'v1.0.0',
    name: 'app',
    version,
    invocationImages: [
      {
        imageType: 'docker',
        image: 'example.com/src/inv:1',
        contentDigest: inv.digest,
        size: inv.size,
        mediaType: inv.mediaType,
      },
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
  });
  const relocationMap = {
    'example.com/src/inv:1': `127.0.0.1:5000/org/app@${inv.digest}`,
    'example.com/src/web:1': `127.0.0.1:5000/org/app@${web.digest}`,
  };
  reg.calls.length = 0;
  return { reg, inv, web, bundle, relocationMap };
}

test('push: images checked, then config blob, config manifest, index by digest, and the tag last', async () => {
  const { reg, inv, web, bundle, relocationMap } = setup();
  const pushed = await pushBundle(reg, REF, bundle(), { relocationMap });
  const l = pushed.layout;
  assert.deepEqual(
    reg.calls.map((c) => [c.op, c.reference]),
    [
      ['headManifest', inv.digest],
      ['headManifest', web.digest],
      ['hasBlob', l.configDigest],
      ['pushBlob', l.configDigest],
      ['putManifest', l.configManifestDigest],
      ['putManifest', l.indexDigest],
      ['putManifest', 'v1'],
    ],
  );
  assert.equal(pushed.digest, l.indexDigest);
  assert.equal(pushed.mediaType, OCI_INDEX);
  assert.equal(pushed.tag, 'v1');
  assert.equal(reg.repo('org/app').tags.get('v1'), pushed.digest);
  // a second push of the same bundle uploads no blob again and moves nothing
  reg.calls.length = 0;
  assert.equal((await pushBundle(reg, REF, bundle(), { relocationMap })).digest, pushed.digest);
  assert.ok(!reg.calls.some((c) => c.op === 'pushBlob'));
});

test('push then pull: byte-identical canonical bundle, index digest, relocation map', async () => {
  const { reg, bundle, relocationMap } = setup();
  const pushed = await pushBundle(reg, REF, Buffer.from(JSON.stringify(bundle(), null, 2)), {
    relocationMap,
  });
  const pulled = await pullBundle(reg, REF);
  assert.deepEqual(Buffer.from(pulled.bundle), Buffer.from(pushed.layout.configBlob));
  assert.equal(pulled.digest, pushed.digest);
  assert.equal(pulled.bundleDigest, pushed.configDigest);
  assert.deepEqual(pulled.relocationMap, relocationMap);
  const byDigest = await pullBundle(reg, { ...REF, tag: undefined, digest: pushed.digest });
  assert.equal(byDigest.digest, pushed.digest);
  const last = reg.calls.filter((c) => c.op === 'getManifest').slice(-2);
  assert.deepEqual(
    last.map((c) => c.reference),
    [pushed.digest, pushed.layout.configManifestDigest],
  );
});

test('a push failing at the index PUT leaves the tag on the previous bundle', async () => {
  let failIndex = false;
  const { reg, bundle, relocationMap } = setup({
    failOn: (c) =>
      failIndex && c.op === 'putManifest' && c.mediaType === OCI_INDEX
        ? new MemoryRegistryError('REGISTRY_UNREACHABLE', 'connection reset')
        : undefined,
  });
  const first = await pushBundle(reg, REF, bundle('1.0.0'), { relocationMap });
  failIndex = true;
  await assert.rejects(
    pushBundle(reg, REF, bundle('2.0.0'), { relocationMap, allowFallbacks: true }),
    /connection reset/,
  );
  assert.equal(reg.repo('org/app').tags.get('v1'), first.digest);
  failIndex = false;
  const pulled = await pullBundle(reg, REF);
  assert.equal(JSON.parse(Buffer.from(pulled.bundle).toString()).version, '1.0.0');
});

test('a push failing at the tag PUT leaves the tag too (the index is stored by digest only)', async () => {
  let failTag = false;
  const { reg, bundle, relocationMap } = setup({
    failOn: (c) =>
      failTag && c.op === 'putManifest' && c.reference === 'v1'
        ? new MemoryRegistryError('REGISTRY_PROTOCOL', 'tag refused')
        : undefined,
  });
  const first = await pushBundle(reg, REF, bundle('1.0.0'), { relocationMap });
  failTag = true;
  await assert.rejects(pushBundle(reg, REF, bundle('2.0.0'), { relocationMap }), /tag refused/);
  assert.equal(reg.repo('org/app').tags.get('v1'), first.digest);
});

test('fallbacks: a registry refusing the OCI index gets the Docker manifest list, only when allowed', async () => {
  const refuseOci = (c) =>
    c.op === 'putManifest' && c.mediaType === OCI_INDEX
      ? new MemoryRegistryError('REGISTRY_PROTOCOL', 'MANIFEST_INVALID')
      : undefined;
  const a = setup({ failOn: refuseOci });
  await assert.rejects(
    pushBundle(a.reg, REF, a.bundle(), { relocationMap: a.relocationMap }),
    /MANIFEST_INVALID/,
  );
  assert.equal(a.reg.repo('org/app').tags.get('v1'), undefined);
  const pushed = await pushBundle(a.reg, REF, a.bundle(), {
    relocationMap: a.relocationMap,
    allowFallbacks: true,
  });
  assert.equal(pushed.mediaType, DOCKER_LIST);
  const pulled = await pullBundle(a.reg, REF);
  assert.equal(pulled.indexVariant, 'docker');
  assert.equal(pulled.digest, pushed.digest);
});

test('fallbacks: a refused CNAB config media type falls back to the OCI image config type, then Docker schema2', async () => {
  const refuse = (types) => (c) =>
    c.op === 'putManifest' &&
    types.some((t) => Buffer.from(c.bytes).includes(t)) &&
    !Buffer.from(c.bytes).includes('"manifests"')
      ? new MemoryRegistryError('REGISTRY_PROTOCOL', 'MANIFEST_INVALID config')
      : undefined;
  const a = setup({ failOn: refuse(['application/vnd.cnab.config.v1+json']) });
  const pushed = await pushBundle(a.reg, REF, a.bundle(), {
    relocationMap: a.relocationMap,
    allowFallbacks: true,
  });
  assert.equal(pushed.layout.configVariant, 'oci');
  assert.equal((await pullBundle(a.reg, REF)).configVariant, 'oci');
  const b = setup({
    failOn: refuse(['application/vnd.cnab.config.v1+json', 'application/vnd.oci.image.config.v1+json']),
  });
  const pushedB = await pushBundle(b.reg, REF, b.bundle(), {
    relocationMap: b.relocationMap,
    allowFallbacks: true,
  });
  assert.equal(pushedB.layout.configVariant, 'docker');
  assert.equal((await pullBundle(b.reg, REF)).configVariant, 'docker');
});

test('nothing is sent for a bundle with a tag-referenced image, and missing images stop the push before any upload', async () => {
  const { reg, bundle, relocationMap } = setup();
  const b = bundle();
  delete b.images.web.contentDigest;
  await assert.rejects(
    pushBundle(reg, REF, b, {}),
    (e) =>
      e.code === 'REGISTRY_IMAGE_NOT_DIGESTED' &&
      /component image web example\.com\/src\/web:1/.test(e.message),
  );
  assert.deepEqual(reg.calls, []);
  const other = { ...REF, repository: 'org/empty' };
  const moved = Object.fromEntries(
    Object.entries(relocationMap).map(([k, v]) => [k, v.replace('org/app', 'org/empty')]),
  );
  await assert.rejects(
    pushBundle(reg, other, bundle(), { relocationMap: moved }),
    (e) =>
      e.code === 'REGISTRY_IMAGE_MISSING' &&
      e.message.startsWith('127.0.0.1:5000/org/empty@sha256:') &&
      /invocation image example\.com\/src\/inv:1: not there/.test(e.message),
  );
  assert.deepEqual(
    reg.calls.map((c) => c.op),
    ['headManifest'],
  );
});

test('a target without tag or digest, or with another digest, is refused before any request', async () => {
  const { reg, bundle, relocationMap } = setup();
  await assert.rejects(
    pushBundle(reg, { registry: REF.registry, repository: 'org/app' }, bundle(), { relocationMap }),
    (e) => e.code === 'REGISTRY_BAD_TARGET',
  );
  await assert.rejects(
    pushBundle(reg, { ...REF, tag: undefined, digest: 'sha256:' + '0'.repeat(64) }, bundle(), {
      relocationMap,
    }),
    (e) => e.code === 'REGISTRY_BAD_TARGET' && /the bundle index is sha256:/.test(e.message),
  );
  assert.deepEqual(reg.calls, []);
});

test('pull refuses served bytes that do not match the index, and an index edited by hand', async () => {
  const { reg, bundle, relocationMap } = setup();
  const pushed = await pushBundle(reg, REF, bundle(), { relocationMap });
  const forged = Buffer.from(pushed.layout.configBlob);
  forged[forged.length - 3] ^= 1; // same size, other bytes
  reg.tamper.set(pushed.configDigest, forged);
  await assert.rejects(
    pullBundle(reg, REF),
    (e) => e.code === 'REGISTRY_DIGEST_MISMATCH' && /bundle config blob/.test(e.message),
  );
  reg.tamper.clear();
  const ix = JSON.parse(Buffer.from(pushed.layout.index).toString());
  ix.annotations['org.opencontainers.image.title'] = 'evil';
  await reg.putManifest('org/app', 'v1', OCI_INDEX, Buffer.from(JSON.stringify(ix)));
  await assert.rejects(
    pullBundle(reg, REF),
    (e) =>
      e.code === 'REGISTRY_LAYOUT_MISMATCH' &&
      /org\.opencontainers\.image\.title is "evil", bundle\.json gives "app"/.test(e.message),
  );
});
