import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnmatch, ExcludeFilter } from '../../dist/intoto/index.js';

// [name, pattern, python fnmatch.fnmatch result] (checked against CPython 3.11; the interop
// tests compare thousands of random cases with the live interpreter).
const FNMATCH = [
  ['a/b/c.txt', '*.txt', true],
  ['a/b/c.txt', 'a/*', true],
  ['abc', 'a?c', true],
  ['a/c', 'a?c', true],
  ['abc', '[a-c]bc', true],
  ['dbc', '[a-c]bc', false],
  ['dbc', '[!a-c]bc', true],
  [']x', '[]]x', true],
  ['-x', '[a-]x', true],
  ['-x', '[!a-]x', false],
  ['bx', '[z-a]x', false],
  ['bx', '[!z-a]x', true],
  ['\\x', '[\\]x', true],
  ['[x', '[x', true],
  ['^', '[^]', true],
  ['!', '[!]', false],
  ['!]', '[!]]', false],
  ['a', '[!]]', true],
  ['-', '[--0]', true],
  ['1', '[--0]', false],
  ['😀', '?', true],
  ['a\nb', 'a*b', true],
  ['a\nb', 'a?b', true],
  ['abcab', '*ab*ab', true],
  ['aa', '*a*a*a*', false],
  ['x.link', '*.link*', true],
  ['', '*', true],
  ['', '?', false],
  ['-', '[a-c-e]', true],
  ['d', '[a-c-e]', false],
  ['A', '[a-z]', false],
  ['.hidden', '*', true],
  ['a+b', 'a+b', true],
  ['x', '[\\x]', true],
  ['\\', '[\\x]', true],
];

test('fnmatch: python semantics (* crosses /, classes, no escapes)', () => {
  for (const [name, pat, want] of FNMATCH) assert.equal(fnmatch(name, pat), want, `${name} ~ ${pat}`);
});

// [patterns, path, excluded] as pathspec 0.11 gitwildmatch decides.
const GITWILD = [
  [['*.pyc'], 'x.pyc', true],
  [['*.pyc'], 'd/e/x.pyc', true],
  [['.git'], '.git', true],
  [['.git'], 'a/.git/b', true],
  [['*.link*'], 'foo.link-unfinished', true],
  [['*~'], 'a~', true],
  [['a/b'], 'x/a/b', false],
  [['a/b'], 'a/b/c', true],
  [['build/'], 'build/x', true],
  [['*', '!keep'], 'keep', false],
  [['**/x'], 'a/b/x', true],
  [['#c'], '#c', false],
];

test('exclude patterns: gitignore semantics as python pathspec', () => {
  for (const [pats, p, want] of GITWILD)
    assert.equal(new ExcludeFilter(pats).excludes(p), want, `${pats} ${p}`);
  assert.throws(() => new ExcludeFilter(['a\\']), { code: 'INTOTO_BAD_FORMAT' });
});
