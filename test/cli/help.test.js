// The help (issue 12 item 7): the top-level help lists the commands under headings, every
// leaf command has at least two examples that run it, lines wrap at 80 columns when output
// is not a terminal. Walks the commands the CLI registers, so a new command is checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helpTree, subcommandsOf } from '../helpers/command-tree.js';

/** Every command path (groups and leaves) → its help text; and the paths of the leaves. */
const nodes = helpTree();
const tree = new Map(nodes.map((n) => [n.words.join(' '), n.help]));
const leafPaths = new Set(nodes.filter((n) => n.leaf).map((n) => n.words.join(' ')));

test('help: the top-level help groups commands under headings, help last', () => {
  const top = tree.get('');
  const headings = [...top.matchAll(/^(\S.*):$/gm)].map((m) => m[1]);
  assert.deepEqual(headings, [
    'Options',
    'Developer commands (sign and publish a bundle repository)',
    'User commands (trust and verify bundles)',
    'Registry commands (thin bundles in OCI registries)',
    'Key commands',
    'in-toto commands',
    'Server commands',
    'Other commands',
  ]);
  const section = (h) => subcommandsOf(top.split('\n\n').find((b) => b.startsWith(h)) ?? '');
  for (const name of ['init', 'publish', 'bundle', 'delegation', 'recover', 'advisory'])
    assert.ok(section('Developer').includes(name), name);
  assert.deepEqual(
    section('User').filter((n) => ['trust', 'lookup', 'verify'].includes(n)),
    ['trust', 'lookup', 'verify'],
  );
  for (const name of ['push', 'pull']) assert.ok(section('Registry').includes(name), name);
  assert.ok(section('Registry').includes('copy'));
  assert.deepEqual(section('Key'), ['key']);
  assert.deepEqual(section('in-toto'), ['intoto']);
  assert.deepEqual(section('Server'), ['serve', 'server', 'server-backup', 'server-token', 'server-migrate']);
  assert.ok(section('Other').includes('version') && section('Other').includes('completion'));
  assert.match(top, /\n {2}help \[command\] +display help for command\n?$/);
});

test('help: every leaf command has at least two examples, each running that command', () => {
  let leaves = 0;
  for (const [path, help] of tree) {
    if (!leafPaths.has(path)) continue;
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
