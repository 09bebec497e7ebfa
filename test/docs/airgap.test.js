// docs/airgap.md runs as printed (issue 14 item 5): export at a "connected" home, the
// repository moved away, import at another home (--home site-b), verify offline with the
// bundle from the archive (test/docs/blocks.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ROOT, blocksOf, runBlocks, untestedBlocks } from './blocks.js';

test('docs/airgap.md: every `sh test` block runs as printed', async (t) => {
  const blocks = await blocksOf('docs/airgap.md');
  assert.equal(blocks.length, 5, 'tested blocks of docs/airgap.md: repo, export, root, import, verify');
  const text = await readFile(path.join(ROOT, 'docs/airgap.md'), 'utf8');
  assert.deepEqual(untestedBlocks(text), [], 'every shell block of docs/airgap.md is run');
  const fixture = (work) =>
    copyFile(path.join(ROOT, 'test', 'fixtures', 'bundle.json'), path.join(work, 'bundle.json'));
  const r = await runBlocks(t, blocks, { fixture });
  assert.equal(r.status, 0, `the guide's commands failed:\n${r.out}`);
  assert.match(r.stdout, /\(offline, imported /);
  assert.match(r.stdout, /^verified example\.com\/org\/app:v1: /m);
});
