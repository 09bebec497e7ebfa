// Thick bundles: an entry written through an earlier link entry (`a` → `.`, then
// `a/bundle.json`) is where GNU tar and python tarfile (even with filter='data') put the
// root bundle.json, so the archive is refused: the scanner would have verified another one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readThickBundle } from '../../dist/cnab/index.js';
import { tempDir } from '../helpers/tmp.js';
import { file, header, tgz } from './tar-craft.js';

const B = await readFile(new URL('../fixtures/bundle.json', import.meta.url).pathname);
const EVIL = Buffer.from(B.toString('utf8').replace('"helloworld"', '"evilworld"'));
assert.notDeepEqual(B, EVIL);

const symlink = (name, target) => header(name, 0, { type: '2', linkname: target });
const hardlink = (name, target) => header(name, 0, { type: '1', linkname: target });

/** The root bundle.json GNU tar leaves (undefined when tar fails or leaves none). */
function gnuTarBundle(dir, f) {
  const out = path.join(dir, `x-${path.basename(f)}`);
  execFileSync('mkdir', ['-p', out]);
  try {
    execFileSync('tar', ['-xzf', f, '-C', out], { stdio: 'ignore' });
    return execFileSync('cat', [path.join(out, 'bundle.json')], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

const through = [
  [
    'symlink a -> . then a/bundle.json',
    [file('bundle.json', B), symlink('a', '.'), file('a/bundle.json', EVIL)],
  ],
  [
    'nested: d/ then symlink d/up -> .. then d/up/bundle.json',
    [
      file('bundle.json', B),
      file('d/', '', { type: '5' }),
      symlink('d/up', '..'),
      file('d/up/bundle.json', EVIL),
    ],
  ],
  [
    'hard link h to a symlink, then h/bundle.json',
    [file('bundle.json', B), symlink('s', '.'), hardlink('h', 's'), file('h/bundle.json', EVIL)],
  ],
  [
    'symlink ./a then a//bundle.json (normalized)',
    [file('bundle.json', B), symlink('./a', '.'), file('a//bundle.json', EVIL)],
  ],
];

test('an entry inside an earlier link entry is refused (tar would write through the link)', async (t) => {
  const dir = await tempDir(t);
  for (const [i, [what, parts]] of through.entries()) {
    const f = path.join(dir, `l${i}.tgz`);
    await writeFile(f, tgz(parts));
    await assert.rejects(readThickBundle(f), (e) => {
      assert.equal(e.code, 'ARCHIVE_BAD_ENTRY', `${what}: ${e.code} ${e.message}`);
      assert.match(e.message, /inside the link entry/, what);
      assert.ok(e.hint, what);
      return true;
    });
  }
  // the attack is real: GNU tar gives the EVIL bundle.json for the first case
  const first = path.join(dir, 'l0.tgz');
  assert.deepEqual(gnuTarBundle(dir, first), EVIL, 'GNU tar follows the link');
});

test('links elsewhere in the archive are accepted', async (t) => {
  const dir = await tempDir(t);
  const parts = [
    file('bundle.json', B),
    symlink('latest', 'bundle.json'),
    hardlink('copy.json', 'bundle.json'),
    file('img/', '', { type: '5' }),
    symlink('img/cur', 'v1'),
    file('img/cur2/x', 'data'),
  ];
  const f = path.join(dir, 'ok.tgz');
  await writeFile(f, tgz(parts));
  assert.deepEqual((await readThickBundle(f)).bundleJson, B);
  assert.deepEqual(gnuTarBundle(dir, f), B);
});

test(
  'many links and deep entries: scanned to the end, never refused by accident',
  { timeout: 120_000 },
  async (t) => {
    const dir = await tempDir(t);
    const deep = Array.from({ length: 45 }, (_, i) => `d${i}`).join('/'); // ~180 bytes
    const parts = [file('bundle.json', B)];
    for (let i = 0; i < 3000; i++) {
      parts.push(symlink(`l${i}`, '.'));
      parts.push(file(`x${i}`, '', { prefix: deep }));
    }
    const f = path.join(dir, 'many.tgz');
    await writeFile(f, tgz(parts));
    assert.deepEqual((await readThickBundle(f)).bundleJson, B);
  },
);
