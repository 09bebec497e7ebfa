// Thick bundles: what cnabsec verifies is what `tar x` gives the user. Crafted archives
// (duplicated or ambiguous paths, bad headers, huge metadata records, bombs, truncation) are
// refused with an ARCHIVE_* code; accepted ones are extracted with GNU tar and compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { readThickBundle, scanThickBundle, thinBundleDigest, verifyBundle } from '../../dist/cnab/index.js';
import { addTarget } from '../../dist/tuf/index.js';
import { Sim, NAME } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';
import { END, file, header, longName, pax, tgz, zeroBomb } from './tar-craft.js';

const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
const B = await readFile(FIXTURE);
const EVIL = Buffer.from(B.toString('utf8').replace('"helloworld"', '"evilworld"'));
assert.notDeepEqual(B, EVIL);

const DUP = 'ARCHIVE_DUPLICATE_ENTRY';
const BAD = 'ARCHIVE_BAD_ENTRY';
const BIG = 'ARCHIVE_TOO_LARGE';
const gnu = { magic: 'ustar  \0' };

const refused = [
  // duplicated paths, normalized
  ['two bundle.json', [file('bundle.json', B), file('bundle.json', EVIL)], DUP],
  ['bundle.json then ./bundle.json', [file('bundle.json', B), file('./bundle.json', EVIL)], DUP],
  ['.//bundle.json then bundle.json', [file('.//bundle.json', EVIL), file('bundle.json', B)], DUP],
  ['a//b and a/./b', [file('bundle.json', B), file('a//b', '1'), file('a/./b', '2')], DUP],
  [
    'directory a/ and ./a',
    [file('a/', '', { type: '5' }), file('./a', '', { type: '5' }), file('bundle.json', B)],
    DUP,
  ],
  ['file a and directory a/', [file('bundle.json', B), file('a', 'x'), file('a/', '', { type: '5' })], DUP],
  [
    'pax path bundle.json',
    [file('bundle.json', B), pax({ path: 'bundle.json' }), file('innocent', EVIL)],
    DUP,
  ],
  [
    'GNU long name ./bundle.json',
    [file('bundle.json', B), longName('./bundle.json'), file('x', EVIL, gnu)],
    DUP,
  ],
  [
    'ustar prefix a + b = a/b',
    [file('bundle.json', B), file('a/b', '1'), file('b', '2', { prefix: 'a' })],
    DUP,
  ],
  // paths outside the extraction directory, non-regular bundle.json, data where none is read
  ['absolute path', [file('/etc/cron.d/x', 'x'), file('bundle.json', B)], BAD],
  ['.. segment', [file('bundle.json', B), file('a/../../x', 'x')], BAD],
  ['.. by a pax path', [file('bundle.json', B), pax({ path: '../x' }), file('x', 'x')], BAD],
  ['.. by a GNU long name', [file('bundle.json', B), longName('../x'), file('x', 'x', gnu)], BAD],
  ['bundle.json is a symlink', [file('bundle.json', '', { type: '2' })], BAD],
  ['bundle.json is a hard link', [file('bundle.json', '', { type: '1' })], BAD],
  ['bundle.json is a directory', [file('bundle.json/', '', { type: '5' })], BAD],
  ['bundle.json/ as a regular entry', [file('bundle.json/', '')], BAD],
  [
    'a directory with data',
    [file('d/', file('bundle.json', EVIL), { type: '5' }), file('bundle.json', B)],
    BAD,
  ],
  ['a symlink with data', [file('l', file('bundle.json', EVIL), { type: '2' }), file('bundle.json', B)], BAD],
  ['unknown entry type', [file('bundle.json', B), file('x', 'x', { type: 'Z' })], BAD],
  ['GNU sparse entry', [file('bundle.json', B), file('x', 'x', { type: 'S', ...gnu })], BAD],
  ['entry named only ./', [file('./', 'x')], BAD],
  // garbage headers
  ['non-octal size', [file('bundle.json', B, { size: '0000000012x\0' })], BAD],
  ['size with a sign', [file('bundle.json', B, { size: '-0000000001\0' })], BAD],
  ['non-octal mtime', [file('bundle.json', B, { mtime: 'garbage!!!!\0' })], BAD],
  ['bad checksum', [file('bundle.json', B, { checksum: false })], BAD],
  ['unknown magic', [file('bundle.json', B, { magic: 'ustar\x0099' })], BAD],
  ['random bytes after gzip', [Buffer.alloc(512, 0x41)], BAD],
  // metadata records
  ['GNU long name record of 64 MiB', [header('././@LongLink', 64 << 20, { type: 'L', ...gnu })], BAD],
  ['pax record of 2 MiB', [header('PaxHeaders/x', 2 << 20, { type: 'x' })], BAD],
  [
    'long name over 4096 bytes',
    [longName('a/'.repeat(3000)), file('x', 'x', gnu), file('bundle.json', B)],
    BAD,
  ],
  ['two long-name records', [longName('a'), longName('b'), file('x', 'x', gnu), file('bundle.json', B)], BAD],
  [
    'long name and pax path',
    [longName('a'), pax({ path: 'b' }), file('x', 'x'), file('bundle.json', B)],
    BAD,
  ],
  ['two pax records', [pax({ path: 'a' }), pax({ path: 'b' }), file('x', 'x'), file('bundle.json', B)], BAD],
  [
    'pax record garbage',
    [file('PaxHeaders/x', '99 path=x\n', { type: 'x' }), file('x', ''), file('bundle.json', B)],
    BAD,
  ],
  ['pax size not a number', [pax({ size: '12abc' }), file('x', ''), file('bundle.json', B)], BAD],
  ['global pax path', [pax({ path: 'bundle.json' }, 'g'), file('x', EVIL), file('bundle.json', B)], BAD],
  [
    'pax sparse name',
    [pax({ 'GNU.sparse.name': 'bundle.json' }), file('x', EVIL), file('bundle.json', B)],
    BAD,
  ],
  ['metadata record before the end', [file('bundle.json', B), pax({ path: 'x' })], BAD],
  // truncation
  ['cut in an entry', [file('bundle.json', B), header('img.tar', 100_000)], BAD, { end: false }],
  ['cut in a header', [file('bundle.json', B), Buffer.alloc(100, 0x30)], BAD, { end: false }],
];

async function write(dir, name, bytes) {
  const f = path.join(dir, name);
  await writeFile(f, bytes);
  return f;
}

/** `tar -xzf` into a fresh directory: the bundle.json the user gets (undefined if tar fails). */
async function extracted(dir, tgzFile) {
  const out = path.join(dir, `x-${path.basename(tgzFile)}`);
  await mkdir(out);
  try {
    execFileSync('tar', ['-xzf', tgzFile, '-C', out], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return readFile(path.join(out, 'bundle.json'));
}

const PY_EXTRACT = `
import os, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    ms = [m for m in t.getmembers() if os.path.normpath(m.name) == 'bundle.json']
    sys.stdout.buffer.write(t.extractfile(ms[-1]).read())  # the last one: what extraction leaves
`;

/** The bundle.json python tarfile extracts (undefined without python3). */
function pythonExtracted(tgzFile) {
  try {
    return execFileSync('python3', ['-c', PY_EXTRACT, tgzFile], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

test('crafted archives are refused with their code (bundle add path)', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  for (const [i, [what, parts, code, opts]] of refused.entries()) {
    const f = await write(dir, `r${i}.tgz`, tgz(parts, opts));
    await assert.rejects(readThickBundle(f), (e) => {
      assert.equal(e.code, code, `${what}: ${e.code} ${e.message}`);
      assert.ok(e.message.length < 400, `${what}: bounded message`);
      assert.ok(e.hint, `${what}: has a hint`);
      return true;
    });
  }
});

test('GNU tar append makes a real duplicate: refused', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'bundle.json'), B);
  execFileSync('tar', ['-cf', 'b.tar', 'bundle.json'], { cwd: dir });
  await writeFile(path.join(dir, 'bundle.json'), EVIL);
  execFileSync('tar', ['-rf', 'b.tar', './bundle.json'], { cwd: dir });
  execFileSync('gzip', ['b.tar'], { cwd: dir });
  await assert.rejects(readThickBundle(path.join(dir, 'b.tar.gz')), { code: DUP });
  // what tar x would have given: the last one
  assert.deepEqual(await extracted(dir, path.join(dir, 'b.tar.gz')), EVIL);
});

test('accepted archives: bundle.json is the one GNU tar extracts', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const hidden = file('bundle.json', EVIL); // 512-byte header + data: looks like entries
  const accepted = [
    ['./ root directory and ./bundle.json', [file('./', '', { type: '5' }), file('./bundle.json', B)]],
    // a pax size overrides the ustar size: the data holding a fake entry is skipped
    ['pax size', [pax({ size: String(hidden.length) }), header('img', 0), hidden, file('bundle.json', B)]],
    ['GNU long name', [longName(`${'d'.repeat(150)}/img`), file('x', 'img', gnu), file('bundle.json', B)]],
    ['v7 header (no magic)', [file('bundle.json', B, { magic: '\0'.repeat(8) })]],
    ['global pax comment (git archive)', [pax({ comment: 'abc' }, 'g'), file('bundle.json', B)]],
    // tar stops at the end-of-archive block: what follows is not extracted
    ['entries after the end block', [file('bundle.json', B), END, file('bundle.json', EVIL)]],
    [
      'entries after a lone zero block',
      [file('bundle.json', B), END.subarray(0, 512), file('bundle.json', EVIL)],
    ],
  ];
  for (const [i, [what, parts]] of accepted.entries()) {
    const f = await write(dir, `a${i}.tgz`, tgz(parts));
    const r = await readThickBundle(f);
    assert.deepEqual(r.bundleJson, B, what);
    assert.deepEqual(await extracted(dir, f), B, `${what}: GNU tar agrees`);
    const py = pythonExtracted(f);
    if (py !== undefined) assert.deepEqual(py, B, `${what}: python tarfile agrees`);
  }
});

test('limits: entries, bundle.json size, decompressed size, time', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const many = Array.from({ length: 60 }, (_, i) => file(`f${i}`, ''));
  const cases = [
    ['more entries than maxEntries', [...many, file('bundle.json', B)], { maxEntries: 50 }, BIG],
    ['bundle.json over maxBundleJsonBytes', [file('bundle.json', B)], { maxBundleJsonBytes: 100 }, BIG],
    [
      'decompressed size over maxUnpackedBytes',
      [file('bundle.json', B), file('z', Buffer.alloc(4 << 20))],
      { maxUnpackedBytes: 1 << 20 },
      BIG,
    ],
    ['time limit', [file('bundle.json', B)], { timeoutMs: 0 }, 'ARCHIVE_TIMEOUT'],
  ];
  for (const [i, [what, parts, limits, code]] of cases.entries()) {
    const f = await write(dir, `l${i}.tgz`, tgz(parts));
    await assert.rejects(readThickBundle(f, undefined, limits), { code }, what);
  }
  // default limit: 1 GiB of zeros in a 1 MiB gzip stops at 256 MiB
  const bomb = await write(
    dir,
    'bomb.tgz',
    zeroBomb(Buffer.concat([file('bundle.json', B), header('z', 2 ** 33)]), 1024),
  );
  await assert.rejects(readThickBundle(bomb), { code: BIG });
  // a 200 MiB entry of zeros (quadratic in the old scanner) is within the default: accepted
  const zeros = await write(
    dir,
    'zeros.tgz',
    zeroBomb(Buffer.concat([file('bundle.json', B), header('z', 200 << 20)]), 200),
  );
  await writeFile(zeros, Buffer.concat([await readFile(zeros), tgz([], { end: true })]));
  assert.deepEqual((await readThickBundle(zeros)).bundleJson, B);
});

test(
  'verify --thick: a signed archive with a duplicate is refused; a swapped bomb fails fast',
  { timeout: 120_000 },
  async (t) => {
    const dir = await tempDir(t);
    const dup = await write(dir, 'dup.tgz', tgz([file('bundle.json', B), file('bundle.json', EVIL)]));
    const good = await write(dir, 'good.tgz', tgz([file('bundle.json', B), file('img', 'x')]));
    const bomb = zeroBomb(Buffer.concat([file('bundle.json', B), header('z', 2 ** 33)]), 512);
    const sim = await Sim.create(t);
    for (const [tag, f] of [
      ['dup', dup],
      ['good', good],
    ]) {
      const { digest } = await scanThickBundle(f);
      addTarget(sim.repo, `${NAME}:${tag}`, { length: digest.length, hashes: { sha256: digest.sha256 } });
    }
    await sim.publish();
    const verify = async (tag, thick) =>
      verifyBundle({ target: `${NAME}:${tag}`, home: dir, thick, client: await sim.client() });
    await assert.rejects(verify('dup', dup), { code: DUP });
    assert.deepEqual((await verify('good', good)).bundle, JSON.parse(B));
    // swapped for a bomb (other length), and for a same-length file with a crafted prefix
    const swapped = await write(dir, 'swapped.tgz', bomb);
    await assert.rejects(verify('good', swapped), { code: 'BUNDLE_HASH_MISMATCH' });
    const goodBytes = await readFile(good);
    await writeFile(
      swapped,
      Buffer.concat([bomb.subarray(0, goodBytes.length - 10), Buffer.alloc(10)]).subarray(
        0,
        goodBytes.length,
      ),
    );
    await assert.rejects(verify('good', swapped), { code: 'BUNDLE_HASH_MISMATCH' });
  },
);

test(
  'a device or directory given as the bundle is refused, not read forever',
  { timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    for (const f of ['/dev/zero', dir]) {
      await assert.rejects(readThickBundle(f), { code: 'BUNDLE_NOT_FOUND' }, f);
      await assert.rejects(thinBundleDigest(f), { code: 'BUNDLE_NOT_FOUND' }, f);
    }
  },
);
