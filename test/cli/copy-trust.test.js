// Copy without losing trust (issue 14 item 4): the TUF target of a thin bundle is named by the
// bundle's own repository and holds the hashes of its canonical bundle.json, so after
// `cnabsec copy` to another registry the bundle pulled from the copy verifies against the
// original trust data (doc 303), and a bundle whose content changed at the destination fails
// with BUNDLE_HASH_MISMATCH. `verify --registry <mirror>` and `pull <mirror> --verify --target` pull the copy themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pullBundle, pushBundleWithImages } from '../../dist/registry/index.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { startRegistry } from '../helpers/registry.js';
import { clientFor, openerFor, pushRegistryBundle } from '../helpers/registry-images.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';

test('copy keeps trust: the copy verifies against the original TUF target; a changed bundle at the destination does not', async (t) => {
  const a = await startRegistry(t);
  const b = await startRegistry(t);
  const dir = await tempDir(t, 'cnabsec-copy-trust-');
  const w = (...p) => path.join(dir, ...p);
  const env = {
    CNABSEC_HOME: w('home'),
    DOCKER_CONFIG: w('docker'),
    CNABSEC_PASSPHRASE: 'correct horse battery staple',
    CI: 'true',
  };
  const { bundle, pushed } = await pushRegistryBundle(a, 'org/app', 'v1');
  await writeFile(w('bundle.json'), pushed.layout.configBlob); // canonical, as bundle add --thin wants
  cliOk(['init', w('repo'), '--name', NAME], { env });
  cliOk(['bundle', 'add', w('repo'), 'v1', '--thin', w('bundle.json')], { env });
  cliOk(['publish', w('repo')], { env });
  cliOk(
    [
      'trust',
      'add',
      NAME,
      '--root',
      w('repo', 'metadata', 'root.json'),
      '--url',
      `file://${w('repo', 'metadata')}`,
    ],
    { env },
  );
  const dst = { registry: b.host, repository: 'mirror/app', tag: 'v1' };
  cliOk(
    [
      'copy',
      `${a.host}/org/app:v1`,
      `${b.host}/mirror/app:v1`,
      '--insecure-registry',
      a.host,
      '--insecure-registry',
      b.host,
    ],
    { env },
  );
  const insecure = ['--insecure-registry', b.host];
  const mirror = `${b.host}/mirror/app:v1`;
  // the issue's own words: verify example.com/org/app:v1 --registry <mirror>/org/app:v1
  const ok = cliOk(['verify', `${NAME}:v1`, '--registry', mirror, ...insecure, '--json'], { env });
  assert.equal(JSON.parse(ok).name, `${NAME}:v1`);
  const pulled = await pullBundle(clientFor(b), dst);
  await writeFile(w('pulled.json'), pulled.bundle);
  cliOk(['verify', `${NAME}:v1`, '--thin', w('pulled.json')], { env });
  cliOk(['pull', mirror, '--verify', '--target', `${NAME}:v1`, '-o', w('out.json'), ...insecure], { env });

  // someone pushes other content under the destination tag (same images, another description)
  const changed = { ...bundle, description: 'not what was signed' };
  await pushBundleWithImages(openerFor([b]), dst, changed, { relocationMap: pulled.relocationMap });
  const other = await pullBundle(clientFor(b), dst);
  await writeFile(w('other.json'), other.bundle);
  const r = runCli(['verify', `${NAME}:v1`, '--thin', w('other.json')], { env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^cnabsec: error \[BUNDLE_HASH_MISMATCH\]/m);
  const rr = runCli(['verify', `${NAME}:v1`, '--registry', mirror, ...insecure], { env });
  assert.equal(rr.status, 1, rr.stderr);
  assert.match(rr.stderr, /^cnabsec: error \[BUNDLE_HASH_MISMATCH\]/m);
});
