import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { checkThinBundle, bundleTargetName, fileDigest, thinBundleDigest } from '../../dist/cnab/index.js';
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
