// `cnabsec copy` end to end (issue 14 item 4) with the built CLI against two real
// docker-registry instances: the copy at the destination holds the same canonical bundle.json,
// the doc 103 relocation mapping is written (0644) naming the copies, --json follows
// docs/cli-json.md, and a second copy sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { pullBundle } from '../../dist/registry/index.js';
import { cliOk } from '../helpers/cli.js';
import { startRegistry } from '../helpers/registry.js';
import { clientFor, pushRegistryBundle } from '../helpers/registry-images.js';
import { tempDir } from '../helpers/tmp.js';

test('cnabsec copy: a bundle and its images to another registry, with the relocation mapping file', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const dir = await tempDir(t, 'cnabsec-copy-cli-');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), DOCKER_CONFIG: path.join(dir, 'docker'), CI: 'true' };
  const { pushed, inv, web } = await pushRegistryBundle(a, 'org/app', 'v1');
  const mapping = path.join(dir, 'mapping.json');
  const insecure = ['--insecure-registry', a.host, '--insecure-registry', b.host];
  const out = cliOk(
    ['copy', `${a.host}/org/app:v1`, `${b.host}/mirror/app:v1`, ...insecure, '--relocation-mapping', mapping],
    { env },
  );
  assert.match(out, new RegExp(`^copied ${a.host}/org/app:v1 to ${b.host}/mirror/app:v1$`, 'm'));
  assert.match(out, new RegExp(`^bundle digest ${pushed.digest} \\(the same as the source\\)$`, 'm'));
  assert.match(out, new RegExp(`^bundle.json ${pushed.configDigest} `, 'm'));
  assert.match(
    out,
    /^images: 2; 4 manifests and 9 blobs \(\d+ bytes\) copied, 0 blobs mounted, 0 already there$/m,
  );
  const expected = {
    'example.com/src/inv:1': `${b.host}/mirror/app@${inv.digest}`,
    'example.com/src/web:1': `${b.host}/mirror/app@${web.digest}`,
  };
  assert.deepEqual(JSON.parse(await readFile(mapping, 'utf8')), expected);
  assert.equal((await stat(mapping)).mode & 0o777 & ~0o022, 0o644);
  const pulled = await pullBundle(clientFor(b), { registry: b.host, repository: 'mirror/app', tag: 'v1' });
  assert.equal(pulled.bundleDigest, pushed.configDigest);
  assert.deepEqual(pulled.relocationMap, expected);
  const doc = JSON.parse(
    cliOk(['copy', `${a.host}/org/app:v1`, `${b.host}/mirror/app:v1`, ...insecure, '--json'], { env }),
  );
  assert.equal(doc.bundleDigest, pushed.digest);
  assert.equal(doc.bundleJson.hashes.sha256, pushed.configDigest.slice('sha256:'.length));
  assert.equal(doc.path, null);
  assert.deepEqual(doc.relocationMapping, expected);
  assert.deepEqual([doc.copied.manifests, doc.copied.blobs, doc.copied.manifestsPresent], [0, 0, 2]);
  assert.deepEqual(
    doc.images.map((i) => [i.component, i.imageDigest]),
    [
      ['invocation', inv.digest],
      ['web', web.digest],
    ],
  );
});
