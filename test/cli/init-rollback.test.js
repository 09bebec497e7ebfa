// A failed init writes nothing: no key, no key directory, no home, no repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('init failing after generating the root key leaves no trace (fresh home)', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const repo = path.join(dir, 'repo');
  // the root key is generated, then the targets passphrase is missing
  const r = runCli(['init', repo, '--name', 'example.com/org/b'], {
    env: { CNABSEC_HOME: home, CNABSEC_PASSPHRASE_ROOT: 'pw', CI: 'true' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error \[PASSPHRASE_REQUIRED\]: no passphrase for the targets key/);
  assert.ok(!existsSync(home), 'home not left behind');
  assert.ok(!existsSync(repo), 'repository not left behind');
});

test('init --in-toto with a layout that does not verify: refused before any key is generated', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const repo = path.join(dir, 'repo');
  const layout = path.join(dir, 'root.layout');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    layout,
    JSON.stringify({
      signed: {
        _type: 'layout',
        expires: '2099-01-01T00:00:00Z',
        keys: {},
        steps: [],
        inspect: [],
        readme: '',
      },
      signatures: [],
    }),
  );
  const key = path.join(dir, 'owner');
  const k = runCli(['intoto', 'keygen', key], { env: { CNABSEC_HOME: home, CI: 'true' } });
  assert.equal(k.status, 0, k.stderr);
  const r = runCli(
    [
      'init',
      repo,
      '--name',
      'example.com/org/b',
      '--in-toto',
      '--layout',
      layout,
      '--layout-key',
      `${key}.pub`,
    ],
    {
      env: { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: 'pw', CI: 'true' },
    },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error \[INTOTO_SIGNATURE_INVALID\]/);
  assert.ok(!existsSync(path.join(home, 'keys')), 'no key generated');
  assert.ok(!existsSync(repo));
});
