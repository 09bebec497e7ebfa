// Bad input to `cnabsec copy` (issue 14 items 4 and 7): an unreachable registry, a missing
// source tag, a bad reference, a bad --insecure-registry value, a source that is not a bundle,
// a destination refusing the push. One error line with a code and a hint each; the destination
// tag never appears. Real docker-registry instances (test/helpers/registry.js): anonymous, and
// basic-auth for the refusing destination (no token issuer: runCli blocks this process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectUsageError, expectUserError } from '../helpers/bad-input.js';
import { freePort, startRegistry } from '../helpers/registry.js';
import { clientFor, pushImage, pushRegistryBundle } from '../helpers/registry-images.js';
import { tempDir } from '../helpers/tmp.js';

async function envFor(t) {
  const dir = await tempDir(t, 'cnabsec-copy-bad-');
  return { CNABSEC_HOME: `${dir}/home`, DOCKER_CONFIG: `${dir}/docker`, CI: 'true' };
}

test('copy: the source registry is unreachable (nothing listens on its port)', async (t) => {
  const host = `127.0.0.1:${await freePort()}`;
  await expectUserError({
    args: ['copy', `${host}/org/app:v1`, `${host}/mirror/app:v1`, '--insecure-registry', host],
    env: await envFor(t),
    code: 'REGISTRY_UNREACHABLE',
    names: [host],
  });
});

test('copy: the source tag does not exist', async (t) => {
  const reg = await startRegistry(t);
  await pushRegistryBundle(reg, 'org/app', 'v1');
  await expectUserError({
    args: ['copy', `${reg.host}/org/app:v2`, `${reg.host}/mirror/app:v2`, '--insecure-registry', reg.host],
    env: await envFor(t),
    code: 'REGISTRY_NOT_FOUND',
    names: [`${reg.host}/org/app:v2`],
  });
  assert.equal(await clientFor(reg).headManifest('mirror/app', 'v2'), undefined);
});

test('copy: a source reference that is not a reference', async (t) => {
  await expectUserError({
    args: ['copy', 'Example.com/Org//app:v1', 'mirror.local:5000/org/app:v1'],
    env: await envFor(t),
    code: 'REGISTRY_BAD_REFERENCE',
    names: ['Example.com/Org//app:v1'],
  });
});

test('copy: a destination reference with a bad tag', async (t) => {
  await expectUserError({
    args: ['copy', 'example.com/org/app:v1', 'mirror.local:5000/org/app:-v1'],
    env: await envFor(t),
    code: 'REGISTRY_BAD_REFERENCE',
    names: ['-v1'],
  });
});

test('copy: --insecure-registry with a URL instead of host:port', async (t) => {
  await expectUsageError({
    args: [
      'copy',
      'example.com/org/app:v1',
      'mirror.local:5000/org/app:v1',
      '--insecure-registry',
      'http://x:5000',
    ],
    env: await envFor(t),
    names: ['--insecure-registry', 'http://x:5000'],
  });
});

test('copy: the source is an image, not a bundle index', async (t) => {
  const reg = await startRegistry(t);
  const c = clientFor(reg);
  const img = await pushImage(c, 'org/app');
  await c.putManifest('org/app', 'v1', img.mediaType, (await c.getManifest('org/app', img.digest)).bytes);
  await expectUserError({
    args: ['copy', `${reg.host}/org/app:v1`, `${reg.host}/mirror/app:v1`, '--insecure-registry', reg.host],
    env: await envFor(t),
    // (the message comes from ociToBundle, which is not told the reference: integrator note)
    code: 'REGISTRY_LAYOUT_MISMATCH',
    names: ['bundle index', 'application/vnd.oci.image.manifest.v1+json'],
  });
});

test('copy: the destination refuses (basic auth, no credentials); its tag does not appear', async (t) => {
  const src = await startRegistry(t);
  const dst = await startRegistry(t, { auth: 'basic' });
  await pushRegistryBundle(src, 'org/app', 'v1');
  await expectUserError({
    args: [
      'copy',
      `${src.host}/org/app:v1`,
      `${dst.host}/mirror/app:v1`,
      '--insecure-registry',
      src.host,
      '--insecure-registry',
      dst.host,
    ],
    env: await envFor(t),
    code: 'REGISTRY_AUTH_FAILED',
    names: [dst.host],
  });
  assert.equal(await clientFor(dst).headManifest('mirror/app', 'v1'), undefined);
});

test('copy: --relocation-mapping in a directory that does not exist is refused before copying', async (t) => {
  const reg = await startRegistry(t);
  await pushRegistryBundle(reg, 'org/app', 'v1');
  const env = await envFor(t);
  const file = `${env.CNABSEC_HOME}/no/such/dir/mapping.json`;
  await expectUserError({
    args: [
      'copy',
      `${reg.host}/org/app:v1`,
      `${reg.host}/mirror/app:v1`,
      '--insecure-registry',
      reg.host,
      '--relocation-mapping',
      file,
    ],
    env,
    code: 'OUTPUT_WRITE_FAILED',
    names: [file],
  });
  assert.equal(await clientFor(reg).headManifest('mirror/app', 'v1'), undefined);
});
