// `cnabsec completion bash|zsh`: scripts generated from the registered command tree. The bash
// script is run in bash with COMP_WORDS/COMP_CWORD as bash sets them; the zsh script is
// checked with `zsh -n` when zsh is installed, and for its structure always.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** The candidates the bash script offers for the command line `words` (the last one is being typed). */
function complete(script, words) {
  const r = spawnSync(
    'bash',
    [
      '-c',
      'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _cnabsec; printf "%s\\n" "${COMPREPLY[@]}"',
      '_',
      script,
      ...words,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('completion: the bash script completes commands, subcommands, options and enum values', async (t) => {
  const dir = await tempDir(t);
  const script = path.join(dir, 'cnabsec.bash');
  await writeFile(script, cliOk(['completion', 'bash']));
  assert.equal(spawnSync('bash', ['-n', script]).status, 0);
  assert.deepEqual(complete(script, ['cnabsec', 'ke']), ['key']);
  const key = complete(script, ['cnabsec', 'key', '']);
  for (const sub of ['generate', 'list', 'export', 'sign', 'import', 'rotate'])
    assert.ok(key.includes(sub), key.join(' '));
  assert.deepEqual(complete(script, ['cnabsec', 'init', '--ro']), [
    '--root-keys',
    '--root-threshold',
    '--root-key',
  ]);
  assert.deepEqual(complete(script, ['cnabsec', 'init', './repo', '--name', 'x', '--server-']), [
    '--server-managed',
  ]);
  assert.deepEqual(complete(script, ['cnabsec', 'init', './repo', '--server-managed', '']), [
    'timestamp',
    'snapshot,timestamp',
    'none',
  ]);
  assert.deepEqual(complete(script, ['cnabsec', 'key', 'generate', '--type', '']), [
    'ed25519',
    'ecdsa',
    'rsa',
  ]);
  assert.deepEqual(complete(script, ['cnabsec', 'intoto', 'layout', 'new', '-t', 'm']), ['minimal']);
  assert.deepEqual(complete(script, ['cnabsec', 'recover', 'repo', '--rotate', '']), [
    'targets',
    'snapshot',
    'timestamp',
  ]);
  assert.deepEqual(complete(script, ['cnabsec', 'intoto', 'record', 's']), ['start', 'stop']);
  // an option value or an argument: nothing offered, so bash completes file names (-o default)
  assert.deepEqual(complete(script, ['cnabsec', 'init', './repo', '--name', '']), []);
  assert.deepEqual(complete(script, ['cnabsec', 'status', '']), []);
  assert.match(cliOk(['completion', 'bash']), /^complete -o default -F _cnabsec cnabsec$/m);
});

test('completion: the scripts list every command of the top-level help', async (t) => {
  const dir = await tempDir(t);
  const script = path.join(dir, 'cnabsec.bash');
  await writeFile(script, cliOk(['completion', 'bash']));
  const top = complete(script, ['cnabsec', '']);
  const help = cliOk(['--help']);
  const listed = [...help.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]);
  assert.ok(listed.length > 15, help);
  assert.deepEqual([...top].sort(), [...listed].sort());
  const zsh = cliOk(['completion', 'zsh']);
  for (const name of listed) assert.ok(zsh.includes(`'${name}:`), name);
});

test('completion: the zsh script is a compdef function with a case for every command path', async (t) => {
  const zsh = cliOk(['completion', 'zsh']);
  assert.match(zsh, /^#compdef cnabsec\n/);
  assert.match(zsh, /^_cnabsec\(\) \{$/m);
  assert.match(zsh, /compdef _cnabsec cnabsec/);
  for (const arm of ["'key rotate')", "'intoto layout new')", "'')"]) assert.ok(zsh.includes(arm), arm);
  assert.match(zsh, /'key generate\|--type'\) compadd -- 'ed25519' 'ecdsa' 'rsa'; return ;;/);
  assert.match(zsh, /'init'\) subs=\(\); opts=\([^)]*--root-keys/);
  // balanced braces and quotes (a rough syntax check where zsh is not installed)
  assert.equal((zsh.match(/\{/g) ?? []).length, (zsh.match(/\}/g) ?? []).length);
  const hasZsh = spawnSync('zsh', ['--version']).status === 0;
  if (hasZsh) {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, '_cnabsec'), zsh);
    const r = spawnSync('zsh', ['-n', path.join(dir, '_cnabsec')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  } else {
    t.diagnostic('zsh not installed: structure checked only');
  }
});

test('completion: an unknown shell is a usage error', () => {
  const r = runCli(['completion', 'fish']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: unknown shell 'fish': expected one of bash, zsh\n/);
});
