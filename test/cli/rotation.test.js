// End-to-end CLI checks of the rotation commands: --dry-run and refused changes write
// nothing, errors are coded, signing commands warn about expiry, trust reset refuses
// roots that are not self-signed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

function cli(dir, ...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
}

async function tree(dir) {
  const out = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile())
      out[path.join(e.parentPath ?? e.path, e.name)] = await readFile(
        path.join(e.parentPath ?? e.path, e.name),
        'utf8',
      );
  return out;
}

async function published(t) {
  const dir = await tempDir(t, 'cnabsec-cli-');
  assert.equal(
    cli(dir, 'init', 'repo', '--name', 'example.com/org/app', '--root-keys', '2', '--root-threshold', '1')
      .code,
    0,
  );
  assert.equal(cli(dir, 'publish', 'repo').code, 0);
  return dir;
}

test('cli: key rotate --dry-run and refused changes write nothing; errors are coded', async (t) => {
  const dir = await published(t);
  const before = await tree(dir);
  const dry = cli(
    dir,
    'key',
    'rotate',
    'repo',
    'root',
    '--add-key',
    'new',
    '--threshold',
    '2',
    '--dry-run',
    '--json',
  );
  assert.equal(dry.code, 0, dry.err);
  const plan = dry.json();
  assert.equal(plan.dryRun, true);
  assert.deepEqual([plan.before.threshold, plan.after.threshold, plan.after.keyids.length], [1, 2, 3]);
  assert.deepEqual(await tree(dir), before, '--dry-run wrote nothing (not even a new key)');

  const bad = cli(dir, 'key', 'rotate', 'repo', 'root', '--threshold', '3', '--json');
  assert.equal(bad.code, 1);
  assert.equal(bad.json().error.code, 'THRESHOLD_NOT_MET');
  const text = cli(dir, 'key', 'rotate', 'repo', 'timestamp', '--remove-key', 'abcdef12');
  assert.equal(text.code, 1);
  assert.match(
    text.err,
    /error \[KEY_NOT_IN_ROLE\]: key abcdef12 is not a key of timestamp\n {2}hint: keys of timestamp: /,
  );
  const del = cli(dir, 'delegation', 'add', 'repo', 'targets/releases', '--paths', 'x:*', '--threshold', '2');
  assert.equal(del.code, 1);
  assert.match(del.err, /THRESHOLD_NOT_MET/);
  assert.deepEqual(await tree(dir), before);

  const ok = cli(dir, 'key', 'rotate', 'repo', 'snapshot', '--add-key', 'new');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /staged: key change of snapshot/);
  assert.equal(cli(dir, 'publish', 'repo').code, 0);
});

test('cli: signing commands warn when a role is near expiry', async (t) => {
  const dir = await published(t);
  const r = cli(dir, 'resign', 'repo', 'targets', '--expires', '1h');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: targets v2 expires in \d+m/);
  const p = cli(dir, 'publish', 'repo');
  assert.match(p.err, /warning: targets v2 expires in/);
});

test('cli: trust reset refuses a root that is not self-signed, and re-pins a good one', async (t) => {
  const dir = await published(t);
  const url = pathToFileURL(path.join(dir, 'repo', 'metadata')).href;
  assert.equal(
    cli(dir, 'trust', 'add', 'example.com/org/app', '--root', 'repo/metadata/1.root.json', '--url', url).code,
    0,
  );
  const root = JSON.parse(await readFile(path.join(dir, 'repo', 'metadata', '1.root.json'), 'utf8'));
  root.signatures = [];
  await writeFile(path.join(dir, 'unsigned.json'), JSON.stringify(root));
  const bad = cli(dir, 'trust', 'reset', 'example.com/org/app', '--root', 'unsigned.json');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /TUF_UNSIGNED_METADATA/);
  const good = cli(
    dir,
    'trust',
    'reset',
    'example.com/org/app',
    '--root',
    'repo/metadata/1.root.json',
    '--json',
  );
  assert.equal(good.code, 0, good.err);
  assert.deepEqual([good.json().previous.version, good.json().current.version], [1, 1]);
  assert.equal(cli(dir, 'trust', 'reset', 'example.com/nope', '--root', 'repo/metadata/1.root.json').code, 1);
});
