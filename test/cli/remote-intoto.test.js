// Provenance through the metadata repository server (issue 13 item 5, doc 301): the README's
// in-toto flow with `init --server`: the layout, its key and the links are uploaded as target
// files in the one publish request, `verify` downloads them from the server's targets path
// and runs the five steps of doc 303, and a clone gets them back, verified, into metadata/targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile, copyFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, cliOk, cliOkAsync } from '../helpers/cli.js';
import { startMetadataServer } from '../helpers/metadata-server.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/bundle';
const PASS = 'correct horse battery staple';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));

/** Every file under `dir`, relative. */
async function files(dir) {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

test('remote in-toto: layout, key and links go to the server in the publish; verify and clone use them', async (t) => {
  const server = await startMetadataServer(t);
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: PASS, CI: 'true' };
  const user = { CNABSEC_HOME: path.join(dir, 'user'), CI: 'true' };
  const sh = (args) => cliOk(args, { env, cwd: dir });
  const run = (args, e = env) => cliOkAsync(args, { env: e, cwd: dir });
  await mkdir(path.join(dir, 'src'));
  await copyFile(FIXTURE, path.join(dir, 'src', 'bundle.json'));
  await writeFile(path.join(dir, 'src', 'README'), 'sources\n');
  for (const k of ['dev', 'builder', 'packager', 'owner']) sh(['intoto', 'keygen', `keys/${k}`]);
  sh([
    'intoto',
    'layout',
    'new',
    '--template',
    'cnab',
    '-f',
    'source=keys/dev.pub',
    '-f',
    'build=keys/builder.pub',
    '-f',
    'package=keys/packager.pub',
    '-s',
    'keys/owner',
    '-o',
    'root.layout',
  ]);
  sh(['intoto', 'record', 'start', '--step', 'source', '--key', 'keys/dev']);
  sh(['intoto', 'record', 'stop', '--step', 'source', '--key', 'keys/dev', '-p', 'src', '-d', 'links']);
  sh([
    'intoto',
    'run',
    '--step',
    'build',
    '--key',
    'keys/builder',
    '-m',
    'src',
    '-p',
    'src',
    'bundle.json',
    '-d',
    'links',
    '--',
    'sh',
    '-c',
    `"${process.execPath}" "${CLI}" bundle canonicalize src/bundle.json > bundle.json`,
  ]);
  sh([
    'intoto',
    'run',
    '--step',
    'package',
    '--key',
    'keys/packager',
    '-m',
    'bundle.json',
    '-p',
    'bundle.json',
    'bundle.tgz',
    '-d',
    'links',
    '--',
    'tar',
    'czf',
    'bundle.tgz',
    'bundle.json',
  ]);
  const repo = path.join(dir, 'repo');
  await run([
    'init',
    repo,
    '--name',
    NAME,
    '--in-toto',
    '--layout',
    'root.layout',
    '--layout-key',
    'keys/owner.pub',
    '--server',
    server.url,
  ]);
  sh(['bundle', 'add', repo, 'v1.0.0', '--thick', 'bundle.tgz', '--links', './links']);
  await run(['publish', repo]);
  const stored = await files(path.join(repo, 'metadata', 'targets'));
  assert.ok(
    stored.some((f) => f.endsWith('.root.layout')),
    stored.join(' '),
  );
  assert.ok(stored.filter((f) => f.endsWith('.link')).length >= 3, stored.join(' '));
  for (const f of stored) {
    const name = f.replace(/[0-9a-f]{64}\./, '');
    assert.ok(await server.service.targetFile(NAME, name), `the server holds ${name}`);
  }

  await run(
    ['trust', 'add', NAME, '--root', path.join(repo, 'metadata', '1.root.json'), '--server', server.url],
    user,
  );
  const out = await run(
    ['verify', `${NAME}:v1.0.0`, '--thick', 'bundle.tgz', '-o', 'verified.json', '--json'],
    user,
  );
  assert.equal(JSON.parse(out).name, `${NAME}:v1.0.0`);

  const clone = path.join(dir, 'clone');
  await run(['clone', server.url, NAME, clone]);
  assert.deepEqual(await files(path.join(clone, 'metadata', 'targets')), stored);
});
