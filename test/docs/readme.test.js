// The README's commands run as printed (issue 12, item 8): each ```sh test block of README.md
// is a story of its own (a developer sets up a repository and a user verifies from it; the
// in-toto supply chain from keys to a verified thick bundle), so each runs in a fresh
// temporary directory with its own $HOME and $CNABSEC_HOME (test/docs/blocks.js). The blocks
// start a development server on port 8080 (the server block: `cnabsec server` on 4443) and
// stop it with `kill %1`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ROOT, blocksOf, runBlocks, untestedBlocks } from './blocks.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { canonicalize } from '@tufjs/canonical-json';
import { REGISTRY_BIN } from '../helpers/registry.js';

const BUNDLE = path.join(ROOT, 'test', 'fixtures', 'bundle.json');
const NAME = 'example.com/org/bundle';

test('README.md: every `sh test` block runs as printed', async (t) => {
  const blocks = await blocksOf('README.md');
  // The exact number, so that a block cannot silently drop out of the test (a typo in its fence).
  assert.equal(
    blocks.length,
    4,
    'tested blocks of README.md: "Using it", "Provenance", the server and thin bundles in a registry',
  );
  // The shell blocks not run: the developer set-up (npm ci, .ci/run) and the production
  // `trust add` of an HTTPS host, whose tested equivalent is in "Using it".
  const untested = untestedBlocks(await readFile(path.join(ROOT, 'README.md'), 'utf8'));
  assert.equal(untested.length, 2, `untested shell blocks of README.md:\n${untested.join('---\n')}`);
  assert.match(untested[0], /npm ci/);
  assert.match(untested[1], /--url https:\/\/metadata\.example\.com/);
  const [using, provenance, server, registry] = blocks;
  assert.match(using, /cnabsec init \.\/repo/);
  assert.match(provenance, /cnabsec intoto keygen/);
  assert.match(server, /cnabsec server --master-key-file/);
  assert.match(registry, /cnabsec push bundle\.json/);

  await t.test('Using it', async (t) => {
    // Hidden fixture: the canonical thin bundle the developer adds (the fixture's bytes).
    const r = await runBlocks(t, [using], {
      fixture: (work) => copyFile(BUNDLE, path.join(work, 'bundle.json')),
    });
    assert.equal(r.status, 0, `the README's commands failed:\n${r.out}`);
    assert.match(r.stdout, new RegExp(`^initialised ${NAME} in \\./repo$`, 'm'));
    assert.match(r.stdout, /^published root v1, targets v1, snapshot v1, timestamp v1$/m);
    assert.match(r.stdout, new RegExp(`^serving ${NAME} at http://127\\.0\\.0\\.1:8080 `, 'm'));
    assert.match(r.stdout, new RegExp(`^verified ${NAME}:v1\\.0\\.0: \\d+ bytes, sha256 [0-9a-f]{64}$`, 'm'));
    assert.match(
      r.stdout,
      new RegExp(`^${NAME}:v1\\.0\\.0\\n {2}length \\d+\\n {2}sha256 [0-9a-f]{64}$`, 'm'),
    );
    // `export CNABSEC_HOME=~/.cnabsec` is followed: the key store is under the test's $HOME.
    assert.ok((await readdir(path.join(r.dir, '.cnabsec', 'keys'))).length >= 6, 'keys under ~/.cnabsec');
  });

  // The server flow as printed (it was a text block no test ran: `server &` then `init` at once
  // failed with connection refused when pasted as a script).
  await t.test('The metadata repository server', async (t) => {
    const r = await runBlocks(t, [server], {
      first: 3,
      fixture: (work) => copyFile(BUNDLE, path.join(work, 'bundle.json')),
    });
    assert.equal(r.status, 0, `the README's server commands failed:\n${r.out}`);
    assert.match(r.stdout, new RegExp(`^initialised ${NAME} in \\./repo$`, 'm'));
    assert.match(r.stdout, /^ {2}server {4}http:\/\/127\.0\.0\.1:4443 \(holds timestamp\)$/m);
    assert.match(
      r.stdout,
      /^published to http:\/\/127\.0\.0\.1:4443: root v1, targets v1, snapshot v1, timestamp v1 \(signed by the server\)$/m,
    );
    assert.match(
      r.stdout,
      new RegExp(`^cloned ${NAME} from http://127\\.0\\.0\\.1:4443 into \\./repo2: `, 'm'),
    );
    assert.match(r.stdout, new RegExp(`^pulled ${NAME} from .*: already up to date$`, 'm'));
    assert.match(r.stdout, new RegExp(`^verified ${NAME}:v1\\.0\\.0: \\d+ bytes, sha256 [0-9a-f]{64}$`, 'm'));
    assert.match(r.stderr, /^cnabsec server: stopped$/m);
    // the server's database is where the README says: under $CNABSEC_HOME
    assert.ok((await readdir(path.join(r.home, 'server'))).includes('cnabsec.db'), 'db under $CNABSEC_HOME');
  });

  await t.test('Provenance', async (t) => {
    // Hidden fixture: the source tree, with a bundle.json that is not canonical (pretty-printed),
    // which the build step turns into the canonical bundle.json.
    const fixture = async (work) => {
      await mkdir(path.join(work, 'src'));
      const bundle = JSON.parse(await readFile(BUNDLE, 'utf8'));
      await writeFile(path.join(work, 'src', 'bundle.json'), JSON.stringify(bundle, null, 2) + '\n');
    };
    const r = await runBlocks(t, [provenance], { fixture });
    assert.equal(r.status, 0, `the README's in-toto commands failed:\n${r.out}`);
    for (const step of ['source', 'build', 'package'])
      assert.match(r.stdout, new RegExp(`^links/${step}\\.[0-9a-f]{8}\\.link$`, 'm'), `the ${step} link`);
    assert.match(
      r.stdout,
      new RegExp(
        `^verified ${NAME}:v1\\.0\\.0: \\d+ bytes, sha256 [0-9a-f]{64}, in-toto provenance verified$`,
        'm',
      ),
    );
    const verified = await readFile(path.join(r.work, 'verified-bundle.json'));
    assert.deepEqual(verified, await readFile(path.join(r.work, 'bundle.json')), 'the built bundle.json');
  });

  // The registry flow as printed: docker-registry on 127.0.0.1:5000, serve on 8080.
  await t.test(
    'Thin bundles in a registry',
    { skip: !existsSync(REGISTRY_BIN) && 'no docker-registry' },
    async (t) => {
      // Hidden fixture: the invocation image (an empty OCI index) and the bundle.json pinning it.
      const fixture = async (work) => {
        const image = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [],
        });
        const digest = `sha256:${createHash('sha256').update(image).digest('hex')}`;
        await writeFile(path.join(work, 'image.json'), image);
        const bundle = {
          schemaVersion: 'v1.0.0',
          name: 'app',
          version: '1.0.0',
          invocationImages: [
            {
              imageType: 'oci',
              image: `127.0.0.1:5000/org/app@${digest}`,
              contentDigest: digest,
              size: image.length,
              mediaType: 'application/vnd.oci.image.index.v1+json',
            },
          ],
        };
        await writeFile(path.join(work, 'bundle.json'), canonicalize(bundle));
      };
      const r = await runBlocks(t, [registry], { first: 4, fixture });
      assert.equal(r.status, 0, `the README's registry commands failed:\n${r.out}`);
      const ref = '127\\.0\\.0\\.1:5000/org/app:v1';
      assert.match(r.stdout, new RegExp(`^pushed ${ref}: digest sha256:[0-9a-f]{64}$`, 'm'));
      assert.match(r.stdout, /^next: cnabsec publish \.\/repo$/m);
      assert.match(r.stdout, new RegExp(`^verified ${ref} \\(doc 303\\)$`, 'm'));
      assert.match(r.stdout, new RegExp(`^verified ${ref}: \\d+ bytes, sha256 [0-9a-f]{64}$`, 'm'));
      const pulled = await readFile(path.join(r.work, 'pulled.json'));
      assert.deepEqual(pulled, await readFile(path.join(r.work, 'bundle.json')), 'the pushed bundle.json');
    },
  );
});
