// `npm run demo` runs this demo against the embedded server (issue 13 item 7): keep it true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv } from './helpers/cli.js';

test('npm run demo: server → init --server-managed timestamp → publish → verify → refused → refreshed → stopped', () => {
  const script = fileURLToPath(new URL('../scripts/demo-server.js', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: childEnv(), timeout: 200_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /cnabsec server: listening on http:\/\/127\.0\.0\.1:\d+ /);
  assert.match(
    r.stdout,
    /verified example\.com\/example-org\/example-bundle:v1\.0\.0: \d+ bytes, sha256 [0-9a-f]{64}, in-toto provenance verified/,
  );
  assert.match(r.stderr, /error \[BUNDLE_HASH_MISMATCH\]/);
  const refreshed = /the server re-signed the timestamp: v(\d+) → v(\d+)/.exec(r.stdout);
  assert.ok(refreshed, r.stdout);
  assert.ok(Number(refreshed[2]) > Number(refreshed[1]), refreshed[0]);
  assert.match(r.stdout, /cnabsec server exited 0/);
});
