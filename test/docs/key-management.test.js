// Runs every ```sh test block of docs/key-management.md, in order, as one bash script in a
// temporary directory (CI=true, CNABSEC_PASSPHRASE set, `cnabsec` = this build), so the
// guide's commands cannot go stale (issue 4, item 6; issue 12, item 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ROOT, blocksOf, runBlocks, untestedBlocks } from './blocks.js';

test('docs/key-management.md: every `sh test` block runs', async (t) => {
  const blocks = await blocksOf('docs/key-management.md');
  // The exact number, so that a block cannot silently drop out of the test (a typo in its fence).
  assert.equal(blocks.length, 10, `tested blocks of docs/key-management.md`);
  const text = await readFile(path.join(ROOT, 'docs/key-management.md'), 'utf8');
  assert.deepEqual(untestedBlocks(text), [], 'every shell block of docs/key-management.md is run');
  const r = await runBlocks(t, blocks, { timeout: 90_000 });
  assert.equal(r.status, 0, `the guide's commands failed:\n${r.out}`);
  assert.match(r.stdout, /dry run \(nothing written\): key change of timestamp/);
  assert.match(r.stdout, /re-pinned example\.com\/org\/app: root v\d+ -> v\d+/);
  assert.match(r.stdout, /cnabsec trust reset example\.com\/org\/app --root root\.json/);
  assert.match(await readFile(path.join(r.work, 'advisory.txt'), 'utf8'), /example\.com\/org\/app:v1/);
});
