// The repository patterns of tokens and of anonymousRead (src/server/tokens.ts, ADR 0032):
// `*` is one component, `**` (last) any depth, `*` or `**` alone every repository, literal
// components byte for byte. Prefix tricks, traversal, encoded slashes, case, trailing
// slashes and unicode never match; bad patterns are refused with TOKEN_PATTERN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPattern,
  checkPatterns,
  generateToken,
  hashToken,
  hashesEqual,
  isTokenShape,
  matchRepo,
  scopeAllows,
} from '../../dist/server/tokens.js';

const cases = [
  // pattern, repo, matches
  ['example.com/acme/*', 'example.com/acme/app', true],
  ['example.com/acme/*', 'example.com/acme-evil/x', false],
  ['example.com/acme/*', 'example.com/acmeevil/x', false],
  ['example.com/acme/*', 'example.com/acme', false],
  ['example.com/acme/*', 'example.com/acme/a/b', false],
  ['example.com/acme/*', 'example.com/acme/', false],
  ['example.com/acme/*', 'example.com/acme//x', false],
  ['example.com/acme/*', 'example.com/acme/../evil', false],
  ['example.com/acme/*', 'example.com/acme/..', false],
  ['example.com/acme/*', 'example.com/acme/%2e%2e', false],
  ['example.com/acme/*', 'example.com/acme%2Fx', false],
  ['example.com/acme/*', 'example.com/acme/x%2Fy', false],
  ['example.com/acme/*', 'example.com/acme/x\0', false],
  ['example.com/acme/*', 'example.com/ACME/x', false],
  ['example.com/acme/*', 'Example.com/acme/x', false],
  ['example.com/acme/*', 'example.com/acmé/x', false],
  ['example.com/acme/*', 'example.com/acme/é', false],
  ['example.com/acme/*', 'example.com/аcme/x', false], // Cyrillic а
  ['example.com/acme/*', '/example.com/acme/x', false],
  ['example.com/acme/*', 'example.com/acme/x/', false],
  ['example.com/acme/*', 'evil.example.com/acme/x', false],
  ['example.com/acme/*', 'example.com.evil/acme/x', false],
  ['example.com/acme/*', 'example.com:443/acme/x', false],
  ['example.com/acme/*', ' example.com/acme/x', false],
  ['example.com/acme/**', 'example.com/acme/a', true],
  ['example.com/acme/**', 'example.com/acme/a/b/c', true],
  ['example.com/acme/**', 'example.com/acme', false],
  ['example.com/acme/**', 'example.com/acme-evil/x', false],
  ['example.com/acme/**', 'example.com/acme/a/../../evil', false],
  ['example.com/*/app', 'example.com/acme/app', true],
  ['example.com/*/app', 'example.com/acme/other', false],
  ['example.com/*/app', 'example.com/a/b/app', false],
  ['example.com/acme/app', 'example.com/acme/app', true],
  ['example.com/acme/app', 'example.com/acme/app2', false],
  ['example.com/acme/app', 'example.com/acme/ap', false],
  ['example.com/acme/app', 'example.com/acme/app/x', false],
  ['*', 'example.com/anything/at/all', true],
  ['*', 'local', true],
  ['**', 'example.com/x', true],
  ['*', '../x', false],
  ['*', '', false],
  ['**', 'a//b', false],
];

for (const [pattern, repo, want] of cases)
  test(`matchRepo(${JSON.stringify(pattern)}, ${JSON.stringify(repo)}) is ${want}`, () => {
    assert.equal(checkPattern(pattern), pattern);
    assert.equal(matchRepo(pattern, repo), want);
  });

for (const bad of [
  '',
  'example.com/acme-*',
  'example.com/ac*me/x',
  'example.com/**/x',
  '*/acme',
  '**/x',
  'example.com/acme/',
  'example.com//acme',
  'example.com/../acme',
  'example.com/%2e%2e/x',
  'example.com/a%2Fb',
  'example.com/ACME/*',
  'example.com/acmé/*',
  'example.com/acme/x\0',
  '/example.com/acme',
  'a'.repeat(256),
])
  test(`checkPattern refuses ${JSON.stringify(bad.slice(0, 40))}`, () => {
    assert.throws(() => checkPattern(bad), { code: 'TOKEN_PATTERN' });
  });

test('checkPatterns: at least one, at most 32', () => {
  assert.throws(() => checkPatterns([]), { code: 'TOKEN_PATTERN' });
  assert.throws(() => checkPatterns(Array(33).fill('*')), { code: 'TOKEN_PATTERN' });
  assert.deepEqual(checkPatterns(['example.com/a/*', '*']), ['example.com/a/*', '*']);
});

test('tokens: cnabsec_ + 43 base64url characters, a 12-hex id, the SHA-256 stored', () => {
  const seen = new Set();
  for (let i = 0; i < 50; i++) {
    const { id, token, hash } = generateToken();
    assert.match(token, /^cnabsec_[A-Za-z0-9_-]{43}$/);
    assert.match(id, /^[0-9a-f]{12}$/);
    assert.equal(hash, hashToken(token));
    assert.ok(!token.includes(id));
    assert.ok(isTokenShape(token));
    assert.ok(hashesEqual(hash, hashToken(token)));
    assert.ok(!hashesEqual(hash, hashToken(`${token}x`)));
    seen.add(token);
  }
  assert.equal(seen.size, 50);
  assert.ok(!isTokenShape('cnabsec_short'));
  assert.ok(!hashesEqual('ab', 'abc'));
});

test('scopes nest: read ⊂ write ⊂ admin', () => {
  const table = {
    read: { read: true, write: false, admin: false },
    write: { read: true, write: true, admin: false },
    admin: { read: true, write: true, admin: true },
  };
  for (const [scope, row] of Object.entries(table))
    for (const [needed, want] of Object.entries(row)) assert.equal(scopeAllows(scope, needed), want);
});
