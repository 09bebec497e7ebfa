// TAP 4 map files (doc 303 step 1): resolution across repositories with thresholds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseMapFile, pathMatches, resolveWithMap } from '../../dist/tuf/index.js';
import { verifyBundle } from '../../dist/cnab/index.js';
import { Sim, NAME } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';

const T = `${NAME}:v1`;

async function repos(t, contents) {
  const sims = {};
  for (const [name, content] of Object.entries(contents)) {
    sims[name] = await Sim.create(t);
    if (content !== null) sims[name].addBundle('v1', content);
    await sims[name].publish();
  }
  const lookup = async (name, urls, target) => {
    assert.deepEqual(urls, [`https://${name}.example/metadata`]);
    return (await sims[name].client()).getTarget(target);
  };
  return { sims, lookup };
}

function map(mapping) {
  return parseMapFile({
    repositories: {
      A: ['https://A.example/metadata'],
      B: ['https://B.example/metadata'],
      C: ['https://C.example/metadata'],
    },
    mapping,
  });
}

test('paths match segment by segment, * does not cross /', () => {
  assert.ok(pathMatches('example.com/org/*', 'example.com/org/bundle:v1'));
  assert.ok(pathMatches('example.com/*/bundle:*', 'example.com/org/bundle:v1'));
  assert.ok(!pathMatches('example.com/*', 'example.com/org/bundle:v1'));
  assert.ok(!pathMatches('*', 'a/b'));
  assert.ok(pathMatches('ex?mple.com/o.g/b', 'example.com/o.g/b'));
  assert.ok(!pathMatches('ex?mple.com/o.g/b', 'example.com/oxg/b'), '. is literal');
});

test('two repositories that agree meet a threshold of 2', async (t) => {
  const { lookup } = await repos(t, { A: 'same', B: 'same' });
  const r = await resolveWithMap(
    map([{ paths: ['example.com/*/*'], repositories: ['A', 'B'], threshold: 2, terminating: true }]),
    T,
    lookup,
  );
  assert.deepEqual(r.repositories, ['A', 'B']);
  assert.equal(r.info.hashes.sha256, createHash('sha256').update('same').digest('hex'));
});

test('disagreeing repositories: terminating mapping stops; non-terminating falls through', async (t) => {
  const { lookup } = await repos(t, { A: 'one', B: 'two', C: 'one' });
  const strict = map([
    { paths: ['example.com/*/*'], repositories: ['A', 'B'], threshold: 2, terminating: true },
    { paths: ['*/*/*'], repositories: ['A', 'C'], threshold: 2, terminating: true },
  ]);
  await assert.rejects(resolveWithMap(strict, T, lookup), (e) => {
    assert.equal(e.code, 'MAP_THRESHOLD_NOT_MET');
    assert.equal(e.details.mapping, 0);
    return true;
  });
  const lenient = map([
    { paths: ['example.com/*/*'], repositories: ['A', 'B'], threshold: 2, terminating: false },
    { paths: ['*/*/*'], repositories: ['A', 'C'], threshold: 2, terminating: true },
  ]);
  assert.deepEqual((await resolveWithMap(lenient, T, lookup)).repositories, ['A', 'C']);
});

test('a repository without the target or failing does not count; no mapping matches → MAP_NO_MATCH', async (t) => {
  const { lookup } = await repos(t, { A: 'x', B: null });
  const m = map([{ paths: ['example.com/*/*'], repositories: ['A', 'B'], threshold: 1, terminating: true }]);
  assert.deepEqual((await resolveWithMap(m, T, lookup)).repositories, ['A']);
  await assert.rejects(resolveWithMap(m, 'other.org/x', lookup), { code: 'MAP_NO_MATCH' });
});

test('invalid map files are refused with MAP_INVALID', () => {
  const bad = [
    null,
    { repositories: {} },
    { repositories: { A: [] }, mapping: [] },
    {
      repositories: { A: ['u'] },
      mapping: [{ paths: ['*'], repositories: ['Z'], threshold: 1, terminating: true }],
    },
    {
      repositories: { A: ['u'] },
      mapping: [{ paths: ['*'], repositories: ['A'], threshold: 2, terminating: true }],
    },
    { repositories: { A: ['u'] }, mapping: [{ paths: ['*'], repositories: ['A'], threshold: 1 }] },
  ];
  for (const m of bad) assert.throws(() => parseMapFile(m), { code: 'MAP_INVALID' }, JSON.stringify(m));
});

test('map files of any wrong shape are MAP_INVALID, never a TypeError', () => {
  const ok = { paths: ['*'], repositories: ['A'], threshold: 1, terminating: true };
  const repositories = { A: ['https://a.example/metadata'] };
  const bad = [
    [],
    'map',
    { repositories: null, mapping: [ok] },
    { repositories: [['A', ['u']]], mapping: [ok] },
    { repositories: { A: null }, mapping: [ok] },
    { repositories: { A: [null] }, mapping: [ok] },
    { repositories: { A: [''] }, mapping: [ok] },
    { repositories, mapping: null },
    { repositories, mapping: [] },
    { repositories, mapping: [null] },
    { repositories, mapping: [5] },
    { repositories, mapping: [[ok]] },
    { repositories, mapping: [{ ...ok, paths: null }] },
    { repositories, mapping: [{ ...ok, paths: [null] }] },
    { repositories, mapping: [{ ...ok, paths: [] }] },
    { repositories, mapping: [{ ...ok, repositories: 'A' }] },
    { repositories, mapping: [{ ...ok, repositories: ['A', 'A'], threshold: 2 }] },
    { repositories, mapping: [{ ...ok, threshold: '1' }] },
    { repositories, mapping: [{ ...ok, threshold: 1.5 }] },
    { repositories, mapping: [{ ...ok, threshold: Number.NaN }] },
    { repositories, mapping: [{ ...ok, terminating: 'yes' }] },
    // inherited members are not repositories
    { repositories, mapping: [{ ...ok, repositories: ['constructor'] }] },
    { repositories, mapping: [{ ...ok, repositories: ['toString'] }] },
    { repositories, mapping: [{ ...ok, repositories: ['__proto__'] }] },
    { repositories: { A: Array(17).fill('u') }, mapping: [ok] },
    { repositories, mapping: [{ ...ok, paths: ['x'.repeat(5000)] }] },
  ];
  for (const m of bad) {
    assert.throws(
      () => parseMapFile(m),
      (e) => e.code === 'MAP_INVALID' && typeof e.hint === 'string',
      JSON.stringify(m).slice(0, 200),
    );
  }
});

test('a repository named __proto__ or constructor is an own entry of the map', async () => {
  const m = parseMapFile(
    JSON.parse(
      '{"repositories":{"__proto__":["https://p.example/m"],"constructor":["https://c.example/m"]},' +
        '"mapping":[{"paths":["*"],"repositories":["__proto__","constructor"],"threshold":2,"terminating":true}]}',
    ),
  );
  assert.deepEqual(Object.keys(m.repositories), ['__proto__', 'constructor']);
  const info = { length: 1, hashes: { sha256: 'ab'.repeat(32) } };
  const seen = [];
  const r = await resolveWithMap(m, 'x', async (name, urls) => {
    seen.push([name, urls]);
    return info;
  });
  assert.deepEqual(r.repositories, ['__proto__', 'constructor']);
  assert.deepEqual(seen, [
    ['__proto__', ['https://p.example/m']],
    ['constructor', ['https://c.example/m']],
  ]);
});

test('patterns are fnmatch globs, not regular expressions: no injection, no syntax error', () => {
  assert.ok(pathMatches('[', '['), 'an unclosed [ is literal');
  assert.ok(!pathMatches('[', 'a'));
  assert.ok(pathMatches('a[', 'a['));
  assert.ok(pathMatches('v[0-9]', 'v7'));
  assert.ok(!pathMatches('v[0-9]', 'vx'));
  assert.ok(pathMatches('v[!0-9]', 'vx'));
  assert.ok(pathMatches('[]]', ']'));
  assert.ok(pathMatches('(a|b)', '(a|b)'));
  assert.ok(!pathMatches('(a|b)', 'a'));
  assert.ok(pathMatches('a.*', 'a.b'));
  assert.ok(!pathMatches('a.*', 'ab'));
  assert.ok(pathMatches('\\d+', '\\d+'));
  assert.ok(!pathMatches('\\d+', '1'));
  assert.ok(pathMatches('$^', '$^'));
  assert.ok(pathMatches('**', 'abc'));
  assert.ok(pathMatches('a*b*c', 'aXbYc'));
  assert.ok(!pathMatches('a*b*c', 'aXbY'));
});

test(
  'patterns that backtrack catastrophically as regular expressions match at once',
  { timeout: 60_000 },
  () => {
    const pattern = `${'*a'.repeat(25)}*b`;
    const target = 'a'.repeat(20_000);
    assert.equal(pathMatches(pattern, target), false);
    assert.equal(pathMatches(pattern, `${target}b`), true);
  },
);

test('verifyBundle with a map: agreed target verifies; a mismatching file is refused', async (t) => {
  const { lookup } = await repos(t, { A: 'bundle bytes', B: 'bundle bytes' });
  const dir = await tempDir(t);
  const file = path.join(dir, 'bundle.tgz');
  await writeFile(file, 'bundle bytes');
  const m = map([{ paths: ['example.com/*/*'], repositories: ['A', 'B'], threshold: 2, terminating: true }]);
  const ok = await verifyBundle({ target: T, home: dir, thick: file, map: m, lookup }).catch((e) => e);
  // The target is not a real archive: hashes match (step 3), then the content check refuses it.
  assert.equal(ok.code, 'BUNDLE_INVALID');
  await writeFile(file, 'other bytes!');
  await assert.rejects(verifyBundle({ target: T, home: dir, thick: file, map: m, lookup }), {
    code: 'BUNDLE_HASH_MISMATCH',
  });
  await assert.rejects(verifyBundle({ target: `${NAME}:v9`, home: dir, thick: file, map: m, lookup }), {
    code: 'TARGET_NOT_FOUND',
  });
});
