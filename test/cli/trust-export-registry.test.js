// `trust export --with-bundle --registry <ref>` against a real docker-registry 2.8 (issue 14
// items 5-6): the thin bundle is pulled in the cnab-to-oci layout, verified (doc 303) before it
// goes into the archive; the registry is then stopped and the offline site verifies from the
// archive alone. A registry tag serving another bundle is refused (BUNDLE_HASH_MISMATCH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalize } from '@tufjs/canonical-json';
import { openRegistry } from '../../dist/registry/index.js';
import { pushBundle } from '../../dist/registry/thin.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { pushImage as pushImageOf } from '../helpers/registry-images.js';
import { startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';

const pushImage = (c, repository) => pushImageOf(c, repository, { layers: [] });

test('trust export --registry: pulled, verified, archived; verified offline with the registry stopped', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const inv = await pushImage(c, 'org/app');
  const bundleOf = (version) => ({
    schemaVersion: 'v1.0.0',
    name: 'app',
    version,
    invocationImages: [
      { imageType: 'oci', image: 'example.com/src/inv:1', contentDigest: inv.digest, size: inv.size },
    ],
  });
  await pushBundle(
    c,
    { registry: reg.host, repository: 'org/app', tag: 'v1' },
    Buffer.from(JSON.stringify(bundleOf('1.0.0'))),
  );
  await pushBundle(
    c,
    { registry: reg.host, repository: 'org/app', tag: 'other' },
    Buffer.from(JSON.stringify(bundleOf('9.9.9'))),
  );

  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'repo');
  await writeFile(path.join(dir, 'bundle.json'), canonicalize(bundleOf('1.0.0')));
  cliOk(['init', repo, '--name', NAME], { env });
  cliOk(['bundle', 'add', repo, 'v1', '--thin', path.join(dir, 'bundle.json')], { env });
  cliOk(['publish', repo], { env });
  const root = path.join(repo, 'metadata', '1.root.json');
  cliOk(['trust', 'add', NAME, '--root', root, '--url', pathToFileURL(path.join(repo, 'metadata')).href], {
    env,
  });
  const archive = path.join(dir, 'trust.tgz');
  const exp = (ref) => [
    'trust',
    'export',
    `${NAME}:v1`,
    '-o',
    archive,
    '--with-bundle',
    '--registry',
    ref,
    '--insecure-registry',
    reg.host,
  ];

  const other = runCli(exp(`${reg.host}/org/app:other`), { env });
  assert.equal(other.status, 1, other.stderr);
  assert.match(other.stderr, /\[BUNDLE_HASH_MISMATCH\]: 127\.0\.0\.1:\d+\/org\/app:other: /);

  const doc = JSON.parse(cliOk([...exp(`${reg.host}/org/app:v1`), '--json'], { env }));
  assert.equal(doc.bundle.kind, 'thin');
  await reg.close(); // the registry and the repository are out of reach of site B
  const b = { CNABSEC_HOME: path.join(dir, 'home-b'), CI: 'true' };
  cliOk(['trust', 'import', archive, '--root', root], { env: b });
  const out = JSON.parse(cliOk(['verify', `${NAME}:v1`, '--json'], { env: b }));
  assert.equal(out.bundle.version, '1.0.0');
});

test('trust export --with-bundle alone pulls from the registry the target names (doc 301), after the TUF update', async (t) => {
  const reg = await startRegistry(t);
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => undefined });
  const inv = await pushImage(c, 'org/app');
  const name = `${reg.host}/org/app`;
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version: '2.0.0',
    invocationImages: [{ imageType: 'oci', image: `${name}@${inv.digest}`, size: inv.size }],
  };
  await pushBundle(
    c,
    { registry: reg.host, repository: 'org/app', tag: 'v2' },
    Buffer.from(JSON.stringify(bundle)),
  );
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'repo');
  await writeFile(path.join(dir, 'bundle.json'), canonicalize(bundle));
  cliOk(['init', repo, '--name', name], { env });
  cliOk(['bundle', 'add', repo, 'v2', '--thin', path.join(dir, 'bundle.json')], { env });
  cliOk(['publish', repo], { env });
  const root = path.join(repo, 'metadata', '1.root.json');
  const url = pathToFileURL(path.join(repo, 'metadata')).href;
  cliOk(['trust', 'add', name, '--root', root, '--url', url], { env });
  const archive = path.join(dir, 'trust.tgz');
  const args = [
    'trust',
    'export',
    `${name}:v2`,
    '-o',
    archive,
    '--with-bundle',
    '--insecure-registry',
    reg.host,
  ];
  // untrusted at another home: refused before any registry request (TUF first)
  const before = reg.requests?.length;
  const other = runCli([...args], { env: { ...env, CNABSEC_HOME: path.join(dir, 'nobody') } });
  assert.equal(other.status, 1, other.stderr);
  assert.match(other.stderr, /\[TRUST_NOT_FOUND\]/);
  if (before !== undefined) assert.equal(reg.requests.length, before);
  const doc = JSON.parse(cliOk([...args, '--json'], { env }));
  assert.equal(doc.bundle.kind, 'thin');
  await reg.close();
  const b = { CNABSEC_HOME: path.join(dir, 'home-b'), CI: 'true' };
  cliOk(['trust', 'import', archive, '--root', root], { env: b });
  assert.equal(JSON.parse(cliOk(['verify', `${name}:v2`, '--json'], { env: b })).bundle.version, '2.0.0');
});
