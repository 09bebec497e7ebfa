// copyBundle (src/registry/copy.ts) against real docker-registry 2.8 instances: a thin bundle
// and its images copied between two registries (token-auth source, basic-auth destination)
// and within one (mounted); the destination holds the same canonical bundle.json (same
// sha256: the TUF target still verifies) and the doc 103 relocation mapping names the copies;
// a blob altered in the source storage fails the copy and the destination tag does not move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { copyBundle, pullBundle } from '../../dist/registry/index.js';
import { blobDataPath, startRegistry } from '../helpers/registry.js';
import { clientFor, openerFor, pushRegistryBundle } from '../helpers/registry-images.js';

const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('copy between two registries (token-auth source, basic-auth destination): same bundle.json, relocation mapping to the copies', async (t) => {
  const a = await startRegistry(t, { auth: 'token' });
  const b = await startRegistry(t, { auth: 'basic' });
  const opener = openerFor([a, b]);
  const { ref, pushed, inv, web } = await pushRegistryBundle(a, 'org/app', 'v1');
  const dst = { registry: b.host, repository: 'mirror/app', tag: 'v1' };
  const copied = await copyBundle(opener, ref, dst);
  assert.equal(copied.sourceDigest, pushed.digest);
  assert.equal(copied.digest, pushed.digest); // images copied by digest: the same index
  assert.equal(copied.bundleDigest, pushed.configDigest);
  assert.equal(copied.tag, 'v1');
  assert.deepEqual(copied.relocationMapping, {
    'example.com/src/inv:1': `${b.host}/mirror/app@${inv.digest}`,
    'example.com/src/web:1': `${b.host}/mirror/app@${web.digest}`,
  });
  assert.equal(copied.counts.manifests, 4);
  assert.equal(copied.counts.blobs, 9);
  assert.equal(copied.counts.mounted, 0);
  const cb = clientFor(b);
  const from = await pullBundle(clientFor(a), ref);
  const to = await pullBundle(cb, dst);
  assert.deepEqual(Buffer.from(to.bundle), Buffer.from(from.bundle));
  assert.equal(sha256(await cb.getBlob('mirror/app', pushed.configDigest, 1 << 20)), pushed.configDigest);
  assert.deepEqual(to.relocationMap, copied.relocationMapping);
  // again: nothing but the (unchanged) bundle pieces
  const again = await copyBundle(opener, ref, dst);
  assert.equal(again.counts.manifests + again.counts.blobs, 0);
  assert.equal(again.digest, copied.digest);
});

test('copy within one registry mounts the blobs; without a destination tag the source tag is used', async (t) => {
  const a = await startRegistry(t);
  const opener = openerFor([a]);
  const { ref, pushed } = await pushRegistryBundle(a, 'org/app', 'v1');
  const copied = await copyBundle(opener, ref, { registry: a.host, repository: 'other/app' });
  assert.equal(copied.tag, 'v1');
  assert.equal(copied.destination, `${a.host}/other/app:v1`);
  assert.equal(copied.counts.blobs, 0);
  assert.equal(copied.counts.mounted, 9);
  assert.equal((await pullBundle(clientFor(a), { ...ref, repository: 'other/app' })).digest, pushed.digest);
  await assert.rejects(
    copyBundle(
      opener,
      { ...ref, tag: undefined, digest: pushed.digest },
      { registry: a.host, repository: 'x/y' },
    ),
    (e) => e.code === 'REGISTRY_BAD_TARGET',
  );
});

test('copy by digest; a missing source tag is REGISTRY_NOT_FOUND', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const opener = openerFor([a, b]);
  const { ref, pushed } = await pushRegistryBundle(a, 'org/app', 'v1');
  const copied = await copyBundle(
    opener,
    { registry: a.host, repository: 'org/app', digest: pushed.digest },
    { registry: b.host, repository: 'org/app', tag: 'mirrored' },
  );
  assert.equal(copied.digest, pushed.digest);
  await assert.rejects(
    copyBundle(opener, { ...ref, tag: 'v2' }, { registry: b.host, repository: 'org/app', tag: 'v2' }),
    (e) => e.code === 'REGISTRY_NOT_FOUND',
  );
});

test('copy: a layer altered in the source storage fails with REGISTRY_DIGEST_MISMATCH; the destination tag stays where it was', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const opener = openerFor([a, b]);
  const dst = { registry: b.host, repository: 'mirror/app', tag: 'v1' };
  const before = await pushRegistryBundle(b, 'org/app', 'v1', 'the old bundle at the destination');
  await copyBundle(opener, before.ref, dst);
  const { ref, inv } = await pushRegistryBundle(a, 'org/app', 'v1');
  const file = blobDataPath(a.storageDir, inv.layers[1]);
  const bytes = readFileSync(file);
  bytes[7] ^= 0x01;
  writeFileSync(file, bytes);
  await assert.rejects(
    copyBundle(opener, ref, dst),
    (e) => e.code === 'REGISTRY_DIGEST_MISMATCH' && e.message.includes(inv.layers[1]),
  );
  const cb = clientFor(b);
  assert.equal((await cb.headManifest('mirror/app', 'v1')).digest, before.pushed.digest);
  assert.equal(await cb.hasBlob('mirror/app', inv.layers[1]), false);
  // a fresh destination tag is not created either
  await assert.rejects(
    copyBundle(opener, ref, { ...dst, tag: 'v9' }),
    (e) => e.code === 'REGISTRY_DIGEST_MISMATCH',
  );
  assert.equal(await cb.headManifest('mirror/app', 'v9'), undefined);
});
