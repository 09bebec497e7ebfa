// The help (issue 12 item 7): the top-level help lists the commands under headings, every
// leaf command has at least two examples that run it, lines wrap at 80 columns when output
// is not a terminal. Walks the commands the CLI registers, so a new command is checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliOk } from '../helpers/cli.js';

/** The names listed in the command sections of a help text. */
function commandsOf(help) {
  const names = [];
  for (const block of help.split('\n\n')) {
    const [heading, ...rows] = block.split('\n');
    if (!/[Cc]ommands[^:]*:$/.test(heading ?? '')) continue;
    for (const r of rows) {
      const m = /^ {2}([a-z][a-z-]*)\b/.exec(r);
      if (m !== null && m[1] !== 'help') names.push(m[1]);
    }
  }
  return names;
}

/** Every command path below `path` (groups and leaves) → its help text. */
function walk(path, out = new Map()) {
  const help = cliOk([...path, '--help']);
  out.set(path.join(' '), help);
  for (const name of commandsOf(help)) walk([...path, name], out);
  return out;
}

const tree = walk([]);

test('help: the top-level help groups commands under headings, help last', () => {
  const top = tree.get('');
  const headings = [...top.matchAll(/^(\S.*):$/gm)].map((m) => m[1]);
  assert.deepEqual(headings, [
    'Options',
    'Developer commands (sign and publish a bundle repository)',
    'User commands (trust and verify bundles)',
    'Key commands',
    'in-toto commands',
    'Server commands',
    'Other commands',
  ]);
  const section = (h) => commandsOf(top.split('\n\n').find((b) => b.startsWith(h)) ?? '');
  for (const name of ['init', 'publish', 'bundle', 'delegation', 'recover', 'advisory'])
    assert.ok(section('Developer').includes(name), name);
  assert.deepEqual(
    section('User').filter((n) => ['trust', 'lookup', 'verify'].includes(n)),
    ['trust', 'lookup', 'verify'],
  );
  assert.deepEqual(section('Key'), ['key']);
  assert.deepEqual(section('in-toto'), ['intoto']);
  assert.deepEqual(section('Server'), ['serve']);
  assert.ok(section('Other').includes('version') && section('Other').includes('completion'));
  assert.match(top, /\n {2}help \[command\] +display help for command\n?$/);
});

test('help: every leaf command has at least two examples, each running that command', () => {
  let leaves = 0;
  for (const [path, help] of tree) {
    if (commandsOf(help).length > 0 || path === '') continue;
    leaves++;
    const examples = (help.split('\nExamples:\n')[1] ?? '').split('\n').filter((l) => l.startsWith('  '));
    assert.ok(examples.length >= 2, `cnabsec ${path} has ${examples.length} example(s)`);
    for (const e of examples) assert.ok(e.includes(`cnabsec ${path}`), `${path}: ${e}`);
  }
  assert.ok(leaves >= 35, String(leaves));
});

test('help: descriptions wrap at 80 columns (output is not a terminal)', () => {
  for (const [path, help] of tree) {
    const [body] = help.split('\nExamples:\n');
    for (const line of body.split('\n').slice(1))
      assert.ok(line.length <= 80, `cnabsec ${path} --help: ${JSON.stringify(line)}`);
  }
});
