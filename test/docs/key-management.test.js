// Runs every ```sh test block of docs/key-management.md, in order, as one bash script in a
// temporary directory (CI=true, CNABSEC_PASSPHRASE set, `cnabsec` = this build), so the
// guide's commands cannot go stale (issue 4, item 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function testedBlocks(markdown) {
  return [...markdown.matchAll(/^```sh test\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

test('docs/key-management.md: every `sh test` block runs', async (t) => {
  const doc = await readFile(path.join(ROOT, 'docs', 'key-management.md'), 'utf8');
  const blocks = testedBlocks(doc);
  assert.ok(blocks.length >= 8, `found ${blocks.length} tested blocks`);
  const dir = await tempDir(t, 'cnabsec-doc-');
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await writeFile(
    path.join(bin, 'cnabsec'),
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist', 'cli', 'main.js')}" "$@"\n`,
  );
  await chmod(path.join(bin, 'cnabsec'), 0o755);
  const work = path.join(dir, 'work');
  await mkdir(work);
  const script = ['set -euo pipefail', ...blocks.map((b, i) => `echo "### block ${i + 1}"\n${b}`)].join('\n');
  const r = spawnSync('bash', ['-c', script], {
    cwd: work,
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: dir,
      CNABSEC_HOME: path.join(dir, 'home'),
      CNABSEC_PASSPHRASE: 'doc test passphrase',
      CI: 'true',
    },
    timeout: 90_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `the guide's commands failed:\n${out}`);
  assert.match(r.stdout, /dry run \(nothing written\): key change of timestamp/);
  assert.match(r.stdout, /re-pinned example\.com\/org\/app: root v\d+ -> v\d+/);
  assert.match(r.stdout, /cnabsec trust reset example\.com\/org\/app --root root\.json/);
  assert.match(await readFile(path.join(work, 'advisory.txt'), 'utf8'), /example\.com\/org\/app:v1/);
});
