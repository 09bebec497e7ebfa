import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  checkThinBundle,
  bundleTargetName,
  canonicalizeBundleFile,
  fileDigest,
  readThickBundle,
  thinBundleDigest,
} from '../../dist/cnab/index.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;

test('thin bundle digest = sha256 of the canonical bundle.json bytes', async () => {
  const bytes = await readFile(FIXTURE);
  const d = await thinBundleDigest(FIXTURE);
  assert.equal(d.length, bytes.length);
  assert.equal(d.sha256, createHash('sha256').update(bytes).digest('hex'));
});

const bad = [
  ['not JSON', '{"name": ', 'BUNDLE_INVALID_JSON'],
  ['an array', '[]', 'BUNDLE_INVALID'],
  ['missing required fields', '{"name":"x","version":"1"}', 'BUNDLE_INVALID'],
  ['pretty-printed (not canonical)', null, 'BUNDLE_NOT_CANONICAL'],
  ['trailing newline (not canonical)', 'NL', 'BUNDLE_NOT_CANONICAL'],
];
for (const [what, text, code] of bad) {
  test(`thin bundle refused: ${what} → ${code}`, async () => {
    const canonical = await readFile(FIXTURE, 'utf8');
    const body =
      text === null
        ? JSON.stringify(JSON.parse(canonical), null, 2)
        : text === 'NL'
          ? `${canonical}\n`
          : text;
    assert.throws(
      () => checkThinBundle(Buffer.from(body), 'bundle.json'),
      (e) => {
        assert.equal(e.code, code);
        assert.match(e.message, /bundle\.json/);
        return true;
      },
    );
  });
}

test('target names: <repository>:<tag>, invalid tags refused', () => {
  assert.equal(bundleTargetName('example.com/org/b', 'v1.2.3'), 'example.com/org/b:v1.2.3');
  for (const tag of ['', '-x', '.x', 'a/b', 'a:b', 'x'.repeat(129)]) {
    assert.throws(() => bundleTargetName('r', tag), { code: 'INVALID_TAG' });
  }
});

test('thick digest streams and equals sha256 of the bytes; missing file has a code', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'bundle.tgz');
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  await writeFile(file, data);
  let progress = 0;
  const d = await fileDigest(file, (n) => (progress = n));
  assert.deepEqual(d, { length: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  assert.equal(progress, data.length);
  await assert.rejects(fileDigest(path.join(dir, 'nope.tgz')), { code: 'BUNDLE_NOT_FOUND' });
});

// Values canonical JSON cannot hold (or peers would canonicalize differently), deep nesting:
// every reader of a bundle.json refuses them with a code, not a TypeError or RangeError.
const unsignable = [
  ['a fraction', '"a":0.5', 'BUNDLE_NOT_CANONICAL'],
  ['1e309 (Infinity)', '"a":1e309', 'BUNDLE_NOT_CANONICAL'],
  ['an integer beyond 2^53', '"a":1152921504606846976', 'BUNDLE_NOT_CANONICAL'],
  ['a lone surrogate', '"a":"\\ud800"', 'BUNDLE_NOT_CANONICAL'],
  ['keys in UTF-16 but not code-point order', '"a":{"\ud83d\ude00":1,"\ue000":2}', 'BUNDLE_NOT_CANONICAL'],
  ['nesting 5000 deep', `"a":${'['.repeat(5000)}${']'.repeat(5000)}`, 'BUNDLE_INVALID'],
];

test('bundle.json with unsignable values or deep nesting: typed errors everywhere', async (t) => {
  const dir = await tempDir(t);
  const canonical = await readFile(FIXTURE, 'utf8');
  assert.ok(canonical.includes('"custom":{"com.'));
  for (const [i, [what, member, code]] of unsignable.entries()) {
    const text = canonical.replace('"custom":{', `"custom":{${member},`);
    const file = path.join(dir, `b${i}`, 'bundle.json');
    await mkdir(path.dirname(file));
    await writeFile(file, text);
    execFileSync('tar', ['-czf', `${file}.tgz`, '-C', path.dirname(file), 'bundle.json']);
    const check = (e) => {
      assert.equal(e.code, code, `${what}: ${e.code} ${e.message}`);
      assert.match(e.message, /bundle\.json/, what);
      return true;
    };
    assert.throws(() => checkThinBundle(Buffer.from(text), 'bundle.json'), check);
    await assert.rejects(thinBundleDigest(file), check);
    await assert.rejects(readThickBundle(`${file}.tgz`), check);
    await assert.rejects(canonicalizeBundleFile(file), check);
  }
});

test('a thin bundle file over 16 MiB is refused before it is read', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'bundle.json');
  await writeFile(file, Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
  await assert.rejects(thinBundleDigest(file), { code: 'BUNDLE_INVALID' });
});
