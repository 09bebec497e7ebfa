// Threshold signing with an offline key, using only cnabsec: the repository machine exports
// the payload, the offline machine (its own key store) signs it, the signature is appended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, rename } from 'node:fs/promises';
import * as path from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;

test('2-of-2 targets: publish names the missing key; payload → key sign (offline) → add-signature → publish', async (t) => {
  const dir = await tempDir(t);
  const online = { CNABSEC_HOME: path.join(dir, 'online'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const offline = { CNABSEC_HOME: path.join(dir, 'offline'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'repo');
  cliOk(['init', repo, '--name', 'example.com/org/b', '--targets-keys', '2', '--targets-threshold', '2'], {
    env: online,
  });
  cliOk(['bundle', 'add', repo, 'v1', '--thin', FIXTURE], { env: online });
  const status = JSON.parse(cliOk(['status', repo, '--json'], { env: online }));
  const offlineKey = status.roles.find((r) => r.role === 'targets').keyids[1];
  // move the second targets key to the offline machine's key store
  await mkdir(path.join(offline.CNABSEC_HOME, 'keys'), { recursive: true });
  await chmod(path.join(offline.CNABSEC_HOME, 'keys'), 0o700);
  await rename(
    path.join(online.CNABSEC_HOME, 'keys', `${offlineKey}.key`),
    path.join(offline.CNABSEC_HOME, 'keys', `${offlineKey}.key`),
  );

  const refused = runCli(['publish', repo], { env: online });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /error \[THRESHOLD_NOT_MET\]: .*targets: 1\/2 valid signatures/);
  assert.ok(refused.stderr.includes(offlineKey), 'names the key still needed');

  const payload = path.join(dir, 'targets.payload');
  const sig = path.join(dir, 'targets.sig.json');
  cliOk(['payload', repo, 'targets', '-o', payload], { env: online });
  cliOk(['key', 'sign', offlineKey.slice(0, 12), payload, '-o', sig], { env: offline });
  cliOk(['add-signature', repo, 'targets', sig], { env: online });
  assert.match(cliOk(['publish', repo], { env: online }), /published .*targets v1/);
  const after = JSON.parse(cliOk(['status', repo, '--json'], { env: online }));
  const targets = after.roles.find((r) => r.role === 'targets');
  assert.deepEqual(targets.signatures[0].valid.sort(), targets.keyids.slice().sort());
});
