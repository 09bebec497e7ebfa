// verifyFromRegistry (doc 303 for a thin bundle in a registry) and pushThinBundle --sign against
// the in-memory registry (test/helpers/memory-registry.js) and the TUF simulator: step 1 before
// any registry request, the config blob read bounded by the signed length, registry content
// errors kept as REGISTRY_*, another bundle under the tag BUNDLE_HASH_MISMATCH, the target name
// independent of where the bytes come from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pushBundle, verifyFromRegistry, pushThinBundle, bundleToOci } from '../../dist/registry/index.js';
import { addTarget } from '../../dist/tuf/index.js';
import { Sim, NAME } from '../helpers/sim.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REF = { registry: 'mirror.local:5000', repository: 'org/app', tag: 'v1' };

function bundleOf(inv, version = '1.0.0', extra = {}) {
  return {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version,
    invocationImages: [
      { imageType: 'oci', image: 'example.com/src/inv:1', contentDigest: inv.digest, size: inv.size },
    ],
    ...extra,
  };
}

/** A registry with the bundle pushed, and a TUF repository signing its canonical bundle.json as NAME:v1. */
async function setup(t, signed = (inv) => bundleOf(inv)) {
  const reg = new MemoryRegistry();
  const inv = reg.seedImage('org/app', OCI_MANIFEST, 'invocation');
  const relocationMap = { 'example.com/src/inv:1': `${REF.registry}/org/app@${inv.digest}` };
  const sim = await Sim.create(t);
  const bytes = bundleToOci(signed(inv)).configBlob;
  addTarget(sim.repo, `${NAME}:v1`, {
    length: bytes.length,
    hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
  });
  await sim.publish();
  await pushBundle(reg, REF, bundleOf(inv), { relocationMap });
  const opts = async () => ({
    target: `${NAME}:v1`,
    home: '/nonexistent',
    client: await sim.client(),
    ref: REF,
    opener: () => reg,
  });
  return { reg, inv, sim, bytes, relocationMap, opts };
}

test('verifyFromRegistry: the signed bundle verifies, pulled from a registry other than its name', async (t) => {
  const { reg, bytes, opts } = await setup(t);
  reg.calls.length = 0;
  const r = await verifyFromRegistry(await opts());
  assert.equal(r.target, `${NAME}:v1`);
  assert.deepEqual(Buffer.from(r.bytes), Buffer.from(bytes));
  assert.equal(r.bundle.name, 'app');
  assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(
    reg.calls.map((c) => c.op),
    ['getManifest', 'getManifest', 'getBlob'],
  );
});

test('verifyFromRegistry: TUF first: an untrusted repository fails before any registry request', async (t) => {
  const { reg, opts } = await setup(t);
  reg.calls.length = 0;
  const o = await opts();
  delete o.client;
  await assert.rejects(verifyFromRegistry(o), (e) => e.code === 'TUF_UPDATE_FAILED');
  assert.deepEqual(reg.calls, []);
});

test('verifyFromRegistry: a config blob larger than the signed length is never downloaded (BUNDLE_HASH_MISMATCH)', async (t) => {
  // signed: a smaller bundle than the one under the tag
  const { reg, opts } = await setup(t, (inv) => ({ ...bundleOf(inv), version: '1' }));
  reg.calls.length = 0;
  await assert.rejects(verifyFromRegistry(await opts()), (e) => {
    assert.equal(e.code, 'BUNDLE_HASH_MISMATCH');
    assert.match(e.message, /the signed one \d+/);
    return true;
  });
  assert.ok(!reg.calls.some((c) => c.op === 'getBlob'), 'no blob download');
});

test('verifyFromRegistry: the same length, other bytes under the tag: BUNDLE_HASH_MISMATCH', async (t) => {
  const { opts } = await setup(t, (inv) => bundleOf(inv, '2.0.0'));
  await assert.rejects(verifyFromRegistry(await opts()), (e) => e.code === 'BUNDLE_HASH_MISMATCH');
});

test('verifyFromRegistry: a registry serving other bytes for the config blob: REGISTRY_DIGEST_MISMATCH, not a hash mismatch', async (t) => {
  const { reg, bytes, opts } = await setup(t);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  reg.tamper.set(digest, Buffer.from(Buffer.from(bytes).toString().replace('app', 'apq')));
  await assert.rejects(verifyFromRegistry(await opts()), (e) => e.code === 'REGISTRY_DIGEST_MISMATCH');
});

test('pushThinBundle: refuses an undigested image before any request; with sign, a tag is required', async () => {
  const reg = new MemoryRegistry();
  await assert.rejects(
    pushThinBundle({
      opener: () => reg,
      ref: REF,
      bytes: {
        schemaVersion: 'v1.0.0',
        name: 'app',
        version: '1.0.0',
        invocationImages: [{ imageType: 'oci', image: 'example.com/src/inv:1' }],
      },
    }),
    (e) => e.code === 'REGISTRY_IMAGE_NOT_DIGESTED',
  );
  assert.deepEqual(reg.calls, []);
  const inv = reg.seedImage('org/app', OCI_MANIFEST, 'invocation');
  const { tag, ...untagged } = REF;
  assert.equal(tag, 'v1');
  await assert.rejects(
    pushThinBundle({
      opener: () => reg,
      ref: { ...untagged, digest: `sha256:${'a'.repeat(64)}` },
      bytes: bundleOf(inv),
      sign: { dir: '/nonexistent' },
    }),
    (e) => e.code === 'REGISTRY_BAD_TARGET' && /--sign needs a tag/.test(e.message),
  );
  assert.deepEqual(reg.calls, []);
});
