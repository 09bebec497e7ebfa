// Hostile review of issue 12: inputs an attacker or a confused Notary user gives the CLI, each
// of which once hung, exited 70, leaked an internal name or wrote half a repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/hostile';
const BUNDLE = {
  schemaVersion: 'v1.0.0',
  name: 'hostile',
  version: '0.1.0',
  invocationImages: [{ imageType: 'docker', image: 'cnab/hostile:0.1.0' }],
};

async function published(t) {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', repo, '--name', NAME], { env });
  cliOk(['publish', repo], { env });
  const bundle = path.join(dir, 'bundle.json');
  await writeFile(bundle, canonicalize(BUNDLE));
  return { dir, repo, env, bundle };
}

/** Exit 1, one typed error line (plus hint), no stack trace, within the time limit. */
function userError(r, what, code) {
  assert.equal(r.signal, null, `${what}: finished (did not block on the file)`);
  assert.equal(r.status, 1, `${what}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^cnabsec: error \\[${code ?? '[A-Z_]+'}\\]`), what);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |TufError|TypeError/, what);
}

test('a FIFO or /dev/zero as --custom, --layout, --map or a signature file: exit 1, never blocks', async (t) => {
  const { dir, repo, env, bundle } = await published(t);
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const before = await snapshotTree(repo);
  for (const f of [fifo, '/dev/zero']) {
    const cases = [
      [['bundle', 'add', repo, 'v1', '--thin', bundle, '--custom', f], 'INVALID_ARGUMENT'],
      [['layout', 'add', repo, 'l1', '--layout', f, '--layout-key', f], undefined],
      [['add-signature', repo, 'targets', f], 'BAD_SIGNATURE'],
      [['verify', `${NAME}:v1`, '--thin', bundle, '--map', f], 'MAP_INVALID'],
    ];
    for (const [args, code] of cases) {
      const r = runCli(args, { env, timeout: 15_000 });
      userError(r, args.join(' '), code);
    }
  }
  assert.deepEqual(await snapshotTree(repo), before, 'nothing written, no lock left behind');
});

test('a key label with control characters (hand-edited backup, --label) is never printed raw', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const label = 'evil\u001b[2J\u001b]0;owned\u0007\nforged line';
  const { keyid } = JSON.parse(cliOk(['key', 'generate', '--label', label, '--json'], { env }));
  for (const args of [
    ['key', 'list'],
    ['key', 'remove', keyid],
  ]) {
    const r = runCli(args, { env });
    assert.equal(r.status, 0, r.stderr);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/, `${args.join(' ')}: no raw control`);
    assert.equal(r.stdout.trim().split('\n').length, 1, `${args.join(' ')}: one line per key`);
    assert.match(r.stdout, /evil\\u001b\[2J/, args.join(' '));
  }
});
