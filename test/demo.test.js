// `npm run demo:local` runs this demo (the flow without a server; `npm run demo` is demo-server.test.js): keep it true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv } from './helpers/cli.js';

test('npm run demo: record → sign → publish → verify with provenance, tampered bundle refused', () => {
  const script = fileURLToPath(new URL('../scripts/demo.js', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: childEnv(), timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /verified example\.com\/example-org\/example-bundle:v1\.0\.0: \d+ bytes, sha256 [0-9a-f]{64}, in-toto provenance verified/,
  );
  assert.match(r.stderr, /error \[BUNDLE_HASH_MISMATCH\]/);
  assert.match(r.stdout, /published timestamp v2/);
});

test('usage errors exit 2, help and version exit 0', () => {
  const cli = fileURLToPath(new URL('../dist/bin/cnabsec.cjs', import.meta.url));
  const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: childEnv() });
  assert.equal(run('init').status, 2);
  assert.equal(run('bundle', 'add', 'x', 'y', '--bogus').status, 2);
  assert.equal(run('--version').status, 0);
  assert.equal(run('bundle', '--help').status, 0);
  assert.equal(run('help', '-h').status, 0);
  const keyHelp = run('help', 'key', '--help');
  assert.equal(keyHelp.status, 0);
  assert.match(keyHelp.stdout, /^Usage: cnabsec key /);
});
