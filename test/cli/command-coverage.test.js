// Every command has a bad-input case (issue 12, item 8): the leaf commands are enumerated from
// `cnabsec --help`, recursively through each group's help, and each must be the command path
// at the start of at least one case title in test/cli/bad-input*.test.js. A title is a string
// literal passed to a call or given as `title:`/object key, beginning with the command path and
// ': ' (optionally after 'bad input: '), e.g. `'intoto layout new: unknown step'` or
// `test('bad input: list: ...')`. A command added without a bad-input case fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, childEnv } from '../helpers/cli.js';
import { groupSubcommands, subcommandsOf } from '../helpers/command-tree.js';

const run = promisify(execFile);

const HERE = path.dirname(fileURLToPath(import.meta.url));
async function helpOf(words) {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...words, '--help'], { env: childEnv() });
    return stdout;
  } catch (e) {
    assert.fail(`cnabsec ${words.join(' ')} --help failed\n${e.stderr ?? e}`);
  }
}

/** Every leaf command path (`['intoto', 'layout', 'new']`), from the help texts (in parallel). */
async function leafCommands(words = []) {
  const help = await helpOf(words);
  const subs = groupSubcommands(help);
  if (words.length > 0 && subs.length === 0) return [words];
  return (await Promise.all(subs.map((s) => leafCommands([...words, s])))).flat();
}

/** The case titles of every test/cli/bad-input*.test.js: string literals of the convention. */
async function caseTitles() {
  const files = (await readdir(HERE)).filter((f) => /^bad-input.*\.test\.js$/.test(f));
  const titles = [];
  const literal = /(?:\(\s*|title:\s*|^\s*)(['"`])(?:bad input: )?([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*): /gm;
  for (const f of files) {
    const text = await readFile(path.join(HERE, f), 'utf8');
    for (const m of text.matchAll(literal)) titles.push({ file: f, command: m[2] });
  }
  return { files, titles };
}

test('subcommandsOf: reads grouped and plain command sections, not options or examples', () => {
  const help = [
    'Usage: cnabsec [options] [command]',
    '',
    'Options:',
    '  -V, --version   output the version number',
    '',
    'Developer commands:',
    '  init [options] <repo>   create a TUF repository',
    '                          (wrapped description line)',
    '  bundle                  bundle versions',
    'Commands:',
    '  key                     keys',
    '  help [command]          display help for command',
    '',
    'Examples:',
    '  cnabsec init ./repo --name example.com/org/bundle',
  ].join('\n');
  assert.deepEqual(subcommandsOf(help), ['init', 'bundle', 'key']);
});

test('every leaf command of `cnabsec --help` has a case in the bad-input tables', async () => {
  const leaves = (await leafCommands()).map((w) => w.join(' '));
  // The help must list the commands at all (a broken parse would make this test vacuous).
  for (const known of ['init', 'key sign', 'intoto layout new', 'trust add', 'verify'])
    assert.ok(leaves.includes(known), `enumerated ${known}; got ${leaves.join(', ')}`);
  const { files, titles } = await caseTitles();
  assert.ok(
    files.includes('bad-input.test.js') && files.includes('bad-input-more.test.js'),
    files.join(', '),
  );
  const covered = new Set(titles.map((t) => t.command));
  const missing = leaves.filter((c) => !covered.has(c));
  assert.deepEqual(
    missing,
    [],
    `commands without a bad-input case (add one titled '<command>: ...' to a test/cli/bad-input*.test.js)`,
  );
});
