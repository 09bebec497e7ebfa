// Notary habits (issue 12 item 3): command lines typed from notary's memory get a usage error
// with the cnabsec spelling, exit 2, and nothing is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { initGunHint, notaryVerbHint } from '../../dist/cli/habits.js';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const CASES = [
  [
    ['bundle', 'add', './repo', 'v1', 'bundle.json'],
    /Expected 2 arguments but got 3\. Did you mean `--thin bundle\.json` \(or --thick for an archive\)\?/,
  ],
  [
    ['bundle', 'add', './repo', 'v1', 'app.tgz'],
    /Did you mean `--thick app\.tgz` \(or --thin for a bundle\.json\)\?/,
  ],
  [['verify', 'example.com/org/app', 'v1', '--thin', 'b.json'], /Did you mean example\.com\/org\/app:v1\?/],
  [['lookup', 'example.com/org/app', 'v1'], /Did you mean example\.com\/org\/app:v1\?/],
  [
    ['init', 'example.com/org/app'],
    /looks like a repository name \(notary init GUN\).*`cnabsec init <dir> --name example\.com\/org\/app`/,
  ],
  [
    ['add', 'example.com/org/app', 'v1', 'bundle.json'],
    /unknown command 'add'\. .*cnabsec bundle add <repo> <tag> --thin bundle\.json/,
  ],
  [
    ['remove', 'example.com/org/app', 'v1'],
    /unknown command 'remove'\. .*cnabsec bundle remove <repo> <tag>/,
  ],
  [['delete', 'example.com/org/app'], /unknown command 'delete'\. .*bundle remove.*cnabsec trust/],
  [['witness', 'example.com/org/app', 'targets'], /cnabsec resign <repo> <role>/],
  [
    ['key', 'rotate', 'example.com/org/app', 'snapshot', '-r'],
    /unknown option '-r'\. notary's -r .*--server-managed/,
  ],
  [
    ['delegation', 'add', './repo', 'targets/releases', 'cert.pem', '--paths', 'a/*'],
    /Did you mean --key cert\.pem\?/,
  ],
];

test('notary habits: usage errors with the cnabsec spelling, exit 2, nothing written', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'home'));
  const before = await snapshotTree(dir);
  for (const [args, message] of CASES) {
    const r = runCli(args, { cwd: dir, env: { CNABSEC_HOME: path.join(dir, 'home') } });
    const what = `cnabsec ${args.join(' ')}: ${r.stdout}${r.stderr}`;
    assert.equal(r.status, 2, what);
    assert.equal(r.stdout, '', what);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, what);
    assert.match(lines[0], message, what);
  }
  assert.deepEqual(await snapshotTree(dir), before);
});

test('notary habits: init names a GUN only when that is unambiguous', async (t) => {
  const dir = await tempDir(t);
  assert.match(initGunHint('example.com/org/app', {}), /--name example\.com\/org\/app/);
  assert.match(initGunHint('localhost:5000/app', {}), /--name localhost:5000\/app/);
  for (const d of ['./example.com/app', '/srv/example.com/app', 'repo', 'org/app', dir])
    assert.equal(initGunHint(d, {}), undefined, d);
  assert.equal(initGunHint('example.com/org/app', { name: 'example.com/org/app' }), undefined);
  assert.equal(initGunHint('example.com/org/app', { nameFromDir: true }), undefined);
  await mkdir(path.join(dir, 'example.com', 'app'), { recursive: true });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.equal(initGunHint('example.com/app', {}), undefined, 'an existing directory is a directory');
  } finally {
    process.chdir(cwd);
  }
  assert.equal(notaryVerbHint('publish'), undefined);
  assert.equal(notaryVerbHint('constructor'), undefined);
});
