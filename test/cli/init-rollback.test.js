// A failed init writes nothing: no key, no key directory, no home, no repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { rolesOf, runCli } from '../helpers/cli.js';
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

test('init without --name refuses (hint: --name or --name-from-dir); --name-from-dir uses the directory', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'bundle');
  const r = runCli(['init', repo], { env });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error \[NAME_REQUIRED\]: init of .* needs the bundle repository name/);
  assert.match(r.stderr, /hint: give --name <oci name> .*--name-from-dir/);
  assert.ok(!existsSync(repo) && !existsSync(env.CNABSEC_HOME));
  const ok = runCli(['init', repo, '--name-from-dir', '--json'], { env });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).name, 'bundle');
});

test('init --root-keys 3 without a threshold: a majority, and init says so (text and --json)', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const text = runCli(['init', path.join(dir, 'a'), '--name', 'example.com/org/a', '--root-keys', '3'], {
    env,
  });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /root {6}2-of-3 /);
  assert.match(text.stdout, /root: threshold 2 of 3 \(majority; give --root-threshold to choose\)/);
  const json = runCli(
    ['init', path.join(dir, 'b'), '--name', 'example.com/org/b', '--targets-keys', '4', '--json'],
    { env },
  );
  assert.equal(json.status, 0, json.stderr);
  const out = JSON.parse(json.stdout);
  const roles = rolesOf(out);
  assert.deepEqual(roles.targets, { ...roles.targets, threshold: 3, thresholdDefault: 'majority' });
  assert.equal(roles.targets.keyids.length, 4);
  assert.deepEqual(out.notes, ['targets: threshold 3 of 4 (majority; give --targets-threshold to choose)']);
  assert.equal(roles.root.thresholdDefault, undefined);
});

test('init refuses a timestamp or snapshot expiry shorter than the refresh rule, writing nothing', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  for (const [flag, value] of [
    ['--expires-timestamp', '1h'],
    ['--expires-snapshot', '90m'],
  ]) {
    const r = runCli(['init', path.join(dir, 'repo'), '--name', 'example.com/org/b', flag, value], { env });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`error \\[EXPIRY_TOO_SHORT\\]: ${flag.slice(10)} expiry ${value} is shorter than 2h`),
    );
    assert.match(r.stderr, /hint: give --expires-(timestamp|snapshot) 2h or more/);
  }
  assert.ok(!existsSync(path.join(dir, 'repo')) && !existsSync(env.CNABSEC_HOME));
});
