// Rotating the key the server holds (issue 13 item 4, doc 302): `cnabsec key rotate <dir>
// timestamp` on a repository whose server holds the timestamp key asks the server for a new
// key (POST …/timestamp.key) and stages root listing it; until that root is published the
// server signs with its current key, afterwards only with the new one, and the old key is
// retired. Users update across the rotation (lookup through the server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOkAsync, runCliAsync } from '../helpers/cli.js';
import { startMetadataServer } from '../helpers/metadata-server.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/rotated';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));
const json = async (args, env) => JSON.parse(await cliOkAsync([...args, '--json'], { env }));

test('key rotate of a server-held timestamp: the server makes the key, it signs once root is published', async (t) => {
  const server = await startMetadataServer(t);
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const user = { CNABSEC_HOME: path.join(dir, 'user'), CI: 'true' };
  const repo = path.join(dir, 'repo');
  await json(['init', repo, '--name', NAME, '--server', server.url, '--server-managed', 'timestamp'], env);
  await cliOkAsync(['bundle', 'add', repo, 'v1', '--thin', FIXTURE], { env });
  await json(['publish', repo], env);
  const root = path.join(repo, 'metadata', 'root.json');
  await cliOkAsync(['trust', 'add', NAME, '--root', root, '--server', server.url], { env: user });
  const old = await server.service.publicKey(NAME, 'timestamp');

  // a dry run asks the server for nothing
  const before = (await server.keys.list(NAME, 'timestamp')).length;
  const dry = await json(['key', 'rotate', repo, 'timestamp', '--dry-run'], env);
  assert.equal(dry.dryRun, true);
  assert.equal((await server.keys.list(NAME, 'timestamp')).length, before, 'no key made by a dry run');

  const plan = await json(['key', 'rotate', repo, 'timestamp'], env);
  const keys = await server.keys.list(NAME, 'timestamp');
  const pending = keys.find((k) => k.state === 'pending');
  assert.ok(pending, 'the server made a pending key');
  assert.equal(JSON.stringify(plan).includes(pending.keyid), true, 'the staged root lists the new key');
  // not yet published: the server still signs with the old key
  assert.equal((await server.service.publicKey(NAME, 'timestamp')).keyid, old.keyid);

  await cliOkAsync(['bundle', 'add', repo, 'v2', '--thin', FIXTURE], { env });
  await json(['publish', repo], env);
  const after = await server.keys.list(NAME, 'timestamp');
  assert.equal(after.find((k) => k.keyid === pending.keyid).state, 'active');
  assert.equal(after.find((k) => k.keyid === old.keyid).state, 'retired');
  const timestamp = JSON.parse((await server.service.current(NAME, 'timestamp')).bytes);
  assert.deepEqual(
    timestamp.signatures.map((s) => s.keyid),
    [pending.keyid],
    'the new timestamp is signed by the new server key only',
  );
  // a user pinned at root v1 updates across the rotation
  const out = await cliOkAsync(['lookup', `${NAME}:v2`], { env: user });
  assert.match(out, new RegExp(`^${NAME}:v2$`, 'm'));
});

test('key rotate of a server-held timestamp with --add-key is refused in one line, naming the way that works', async (t) => {
  const server = await startMetadataServer(t);
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'repo');
  await json(['init', repo, '--name', NAME, '--server', server.url, '--server-managed', 'timestamp'], env);
  const r = await runCliAsync(['key', 'rotate', repo, 'timestamp', '--add-key', 'new', '--json'], { env });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const { error } = JSON.parse(r.stdout);
  assert.equal(error.code, 'WORKFLOW_INVALID_PLAN');
  assert.match(error.hint, /without key options and the server makes the new key/);
});
