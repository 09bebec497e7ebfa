// docs/intoto.md runs as printed (issue 12, item 8): its ```sh test blocks are one story (keys,
// the source/build/package steps recorded into ./links, a layout from the cnab template signed
// by two owners, then `intoto verify` with its unpack inspection), run in order as one script
// in a temporary directory (test/docs/blocks.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ROOT, blocksOf, runBlocks, untestedBlocks } from './blocks.js';

test('docs/intoto.md: every `sh test` block runs as printed', async (t) => {
  const blocks = await blocksOf('docs/intoto.md');
  // The exact number, so that a block cannot silently drop out of the test (a typo in its fence).
  assert.equal(blocks.length, 4, 'tested blocks of docs/intoto.md: keys, record, layout, verify');
  // Hidden fixture: the source tree of the steps, a bundle.json that is not canonical yet.
  const fixture = async (work) => {
    await mkdir(path.join(work, 'src'));
    const bundle = JSON.parse(await readFile(path.join(ROOT, 'test', 'fixtures', 'bundle.json'), 'utf8'));
    await writeFile(path.join(work, 'src', 'bundle.json'), JSON.stringify(bundle, null, 2) + '\n');
  };
  const text = await readFile(path.join(ROOT, 'docs/intoto.md'), 'utf8');
  assert.deepEqual(untestedBlocks(text), [], 'every shell block of docs/intoto.md is run');
  const r = await runBlocks(t, blocks, { fixture });
  assert.equal(r.status, 0, `the guide's commands failed:\n${r.out}`);
  assert.equal((await stat(path.join(r.work, 'keys'))).mode & 0o777, 0o700, 'keygen made keys/ with 0700');
  assert.equal((await stat(path.join(r.work, 'owner'))).mode & 0o777, 0o600);
  assert.match(await readFile(path.join(r.work, 'owner'), 'utf8'), /ENCRYPTED/, 'owner is encrypted');
  for (const step of ['source', 'build', 'package'])
    assert.match(r.stdout, new RegExp(`^links/${step}\\.[0-9a-f]{8}\\.link$`, 'm'), `the ${step} link`);
  const layout = JSON.parse(await readFile(path.join(r.work, 'root.layout'), 'utf8'));
  assert.equal(layout.signatures.length, 2, 'signed by owner, then owner2 with --append');
  assert.match(r.stdout.split('### block 4')[1] ?? '', /\S/, 'intoto verify printed its verdict');
});
