// Thick bundles: streamed digest of the archive, bundle.json read from its root (doc 104).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readThickBundle, scanThickBundle, verifyBundle } from '../../dist/cnab/index.js';
import { addTarget } from '../../dist/tuf/index.js';
import { Sim, NAME } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;

/** tar czf `out` with `files` (name → content) in that order, from a fresh directory. */
async function makeTgz(dir, out, files, { dotSlash = false, format = 'gnu' } = {}) {
  const src = path.join(dir, `src-${Math.random().toString(16).slice(2)}`);
  await mkdir(src);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(src, name)), { recursive: true });
    await writeFile(path.join(src, name), content);
  }
  const names = Object.keys(files).map((n) => (dotSlash ? `./${n}` : n));
  execFileSync('tar', [`--format=${format}`, '-czf', out, '-C', src, ...names]);
  return out;
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

test('bundle.json first, last, ./-prefixed, after long names (gnu and pax headers)', async (t) => {
  const dir = await tempDir(t);
  const bundle = await readFile(FIXTURE);
  const image = randomBytes(300_000);
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}.tar`;
  const cases = [
    [{ 'bundle.json': bundle, 'image.tar': image }, {}],
    [{ 'image.tar': image, 'bundle.json': bundle }, {}],
    [{ 'bundle.json': bundle, 'image.tar': image }, { dotSlash: true }],
    [{ [long]: image, 'bundle.json': bundle }, { format: 'gnu' }],
    [{ [long]: image, 'bundle.json': bundle }, { format: 'pax' }],
  ];
  for (const [i, [files, opts]] of cases.entries()) {
    const tgz = await makeTgz(dir, path.join(dir, `b${i}.tgz`), files, opts);
    const r = await readThickBundle(tgz);
    const bytes = await readFile(tgz);
    assert.deepEqual(r.digest, { length: bytes.length, sha256: sha(bytes) }, `case ${i}`);
    assert.equal(r.bundle.name, JSON.parse(bundle).name, `case ${i}`);
  }
});

test('bad archives have clear codes', async (t) => {
  const dir = await tempDir(t);
  const bundle = await readFile(FIXTURE);
  const pretty = Buffer.from(JSON.stringify(JSON.parse(bundle), null, 2));
  const invalid = Buffer.from(
    '{"invocationImages":[],"name":"x","schemaVersion":"v1.0.0","version":"not a version"}',
  );
  const good = await makeTgz(dir, path.join(dir, 'good.tgz'), {
    'bundle.json': bundle,
    'big.bin': randomBytes(200_000),
  });
  const truncated = path.join(dir, 'truncated.tgz');
  await writeFile(truncated, (await readFile(good)).subarray(0, 100));
  const tiny = path.join(dir, 'tiny.tgz');
  await writeFile(tiny, 'bundle bytes');
  const header = path.join(dir, 'header-only.tgz');
  await writeFile(header, (await readFile(good)).subarray(0, 10));
  const plain = path.join(dir, 'plain.tar');
  execFileSync('tar', ['-cf', plain, '-C', path.dirname(FIXTURE), 'bundle.json']);
  const cases = [
    [
      'no bundle.json',
      await makeTgz(dir, path.join(dir, 'none.tgz'), { 'image.tar': 'x' }),
      'BUNDLE_INVALID',
      /no bundle\.json/,
    ],
    [
      'bundle.json only in a sub-directory',
      await makeTgz(dir, path.join(dir, 'sub.tgz'), { 'x/bundle.json': bundle }),
      'BUNDLE_INVALID',
      /no bundle\.json/,
    ],
    ['not gzip (plain tar)', plain, 'BUNDLE_INVALID', /not a gzipped tar/],
    ['truncated archive', truncated, 'BUNDLE_INVALID', /./],
    ['a few bytes that are not gzip (must not hang)', tiny, 'BUNDLE_INVALID', /not a gzipped tar/],
    ['gzip header only', header, 'BUNDLE_INVALID', /./],
    [
      'non-canonical bundle.json',
      await makeTgz(dir, path.join(dir, 'pretty.tgz'), { 'bundle.json': pretty }),
      'BUNDLE_NOT_CANONICAL',
      /canonical/,
    ],
    [
      'bundle.json violating the schema',
      await makeTgz(dir, path.join(dir, 'inv.tgz'), { 'bundle.json': invalid }),
      'BUNDLE_INVALID',
      /\/version must match/,
    ],
    ['missing file', path.join(dir, 'nope.tgz'), 'BUNDLE_NOT_FOUND', /cannot read/],
  ];
  for (const [what, file, code, msg] of cases) {
    await assert.rejects(readThickBundle(file), (e) => {
      assert.equal(e.code, code, `${what}: ${e.message}`);
      assert.match(e.message, msg, what);
      return true;
    });
  }
});

test('verify --thick: the signed archive verifies; a swapped archive is a hash mismatch', async (t) => {
  const dir = await tempDir(t);
  const bundle = await readFile(FIXTURE);
  const tgz = await makeTgz(dir, path.join(dir, 'b.tgz'), {
    'bundle.json': bundle,
    'img.tar': randomBytes(100_000),
  });
  const other = await makeTgz(dir, path.join(dir, 'other.tgz'), {
    'bundle.json': bundle,
    'img.tar': randomBytes(100_000),
  });
  const garbage = path.join(dir, 'garbage.tgz');
  await writeFile(garbage, randomBytes(5000));
  const sim = await Sim.create(t);
  const { digest } = await scanThickBundle(tgz);
  addTarget(sim.repo, `${NAME}:v1`, { length: digest.length, hashes: { sha256: digest.sha256 } });
  await sim.publish();
  const ok = await verifyBundle({ target: `${NAME}:v1`, home: dir, thick: tgz, client: await sim.client() });
  assert.equal(ok.sha256, digest.sha256);
  assert.equal(ok.bundle.name, JSON.parse(bundle).name);
  for (const swapped of [other, garbage]) {
    await copyFile(swapped, path.join(dir, 'candidate.tgz'));
    await assert.rejects(
      verifyBundle({
        target: `${NAME}:v1`,
        home: dir,
        thick: path.join(dir, 'candidate.tgz'),
        client: await sim.client(),
      }),
      { code: 'BUNDLE_HASH_MISMATCH' },
    );
  }
});
