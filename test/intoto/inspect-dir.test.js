// Inspections never write into the user's directory: they run in a bounded copy of
// --inspection-dir, symlinks are not followed out of it, and the verdict is computed over
// what the inspection sees and leaves in its own working directory (in-toto semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { InspectionRunner, verifyLayout } from '../../dist/intoto/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeKey, layout, writeLayout } from './helpers.js';

/** Every entry under dir: type, content or link target (a snapshot to compare). */
async function snapshot(dir, rel = '') {
  const out = {};
  for (const name of (await readdir(path.join(dir, rel))).sort()) {
    const r = path.join(rel, name);
    const st = await lstat(path.join(dir, r));
    if (st.isSymbolicLink()) out[r] = `link:${await readlink(path.join(dir, r))}`;
    else if (st.isDirectory()) Object.assign(out, { [r]: 'dir' }, await snapshot(dir, r));
    else if (!st.isFile()) out[r] = 'special';
    else out[r] = `file:${st.mode.toString(8)}:${await readFile(path.join(dir, r), 'utf8')}`;
  }
  return out;
}

/** A user directory with a file, a subdirectory, a link inside and links leading out. */
async function userDir(t) {
  const root = await tempDir(t);
  const user = path.join(root, 'user');
  const outside = path.join(root, 'outside');
  await mkdir(path.join(user, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(user, 'keep.txt'), 'keep\n');
  await writeFile(path.join(user, 'sub', 'a'), 'a\n');
  await writeFile(path.join(user, 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
  await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
  await symlink('keep.txt', path.join(user, 'link'));
  await symlink(path.join(user, 'sub'), path.join(user, 'abs-sub'));
  await symlink(path.join(outside, 'secret.txt'), path.join(user, 'out'));
  await symlink(outside, path.join(user, 'out-dir'));
  await symlink('../outside/secret.txt', path.join(user, 'rel-out'));
  await symlink('.', path.join(user, 'loop'));
  execFileSync('mkfifo', [path.join(user, 'fifo')]);
  return { root, user, outside };
}

const WRITES = [
  'echo pwn > keep.txt',
  'mkdir -p sub && echo x > sub/x',
  'mkdir -p new && echo x > new/x',
  'echo pwn > link',
  'echo pwn > abs-sub/a',
  'echo pwn > out',
  'mkdir -p out-dir && echo pwn > out-dir/x',
  'echo pwn > rel-out',
  'echo pwn > loop/keep.txt',
  'rm -f sub/a',
  'chmod 600 run.sh',
].join('; ');

test('inspection: writes in its directory leave the user directory (and what it links to) unchanged', async (t) => {
  const { root, user } = await userDir(t);
  const before = await snapshot(root);
  const runner = new InspectionRunner({ sourceDir: user, timeoutMs: 15_000 });
  t.after(() => runner.close());
  const link = await runner.run({ name: 'w', run: ['sh', '-c', `./run.sh; ${WRITES}; true`] });
  assert.equal(link.byproducts.stdout, 'ran\n'); // the copy keeps the executable bit
  assert.deepEqual(await snapshot(root), before);
  // Links inside are kept (materials: the names python's inspection sees), links out are not.
  const m = Object.keys(link.materials);
  for (const p of ['keep.txt', 'sub/a', 'link', 'abs-sub/a', 'run.sh']) assert.ok(m.includes(p), p);
  for (const p of ['out', 'out-dir/secret.txt', 'rel-out', 'fifo']) assert.ok(!m.includes(p), p);
  // Products are what the inspection left in its own directory.
  const p = link.products;
  assert.ok('sub/x' in p && 'new/x' in p && 'out' in p && 'out-dir/x' in p);
  assert.ok(!('sub/a' in p));
  assert.notDeepEqual(p['keep.txt'], link.materials['keep.txt']);
});

test('verify: the verdict is over the inspection directory, the user directory stays as it was', async (t) => {
  const { user } = await userDir(t);
  const dir = await tempDir(t);
  const owner = await makeKey(dir, 'owner');
  const before = await snapshot(user);
  const inspection = (products) => ({
    _type: 'inspection',
    name: 'probe',
    expected_materials: [
      ['REQUIRE', 'keep.txt'],
      ['DISALLOW', 'out'],
      ['ALLOW', '*'],
    ],
    expected_products: products,
    run: ['sh', '-c', `${WRITES}; true`],
  });
  const verify = async (products) => {
    const mb = await writeLayout(
      path.join(dir, 'root.layout'),
      layout([], [], { inspect: [inspection(products)] }),
      [owner],
    );
    return verifyLayout(
      mb,
      { [owner.keyid]: owner.pub },
      {
        linkDir: dir,
        inspections: { sourceDir: user, timeoutMs: 15_000 },
      },
    );
  };
  await verify([
    ['REQUIRE', 'sub/x'],
    ['REQUIRE', 'new/x'],
    ['ALLOW', '*'],
  ]);
  await assert.rejects(
    verify([
      ['DISALLOW', 'sub/x'],
      ['ALLOW', '*'],
    ]),
    { code: 'INTOTO_RULE_FAILED' },
  );
  assert.deepEqual(await snapshot(user), before);
});

test('inspection directory: the copy is bounded in entries and bytes', async (t) => {
  const dir = await tempDir(t);
  for (let i = 0; i < 20; i++) await writeFile(path.join(dir, `f${i}`), 'x'.repeat(100));
  const run = async (limits) => {
    const runner = new InspectionRunner({ sourceDir: dir, timeoutMs: 15_000, ...limits });
    try {
      return await runner.run({ name: 'n', run: ['true'] });
    } finally {
      await runner.close();
    }
  };
  await assert.rejects(run({ maxEntries: 10 }), { code: 'INTOTO_INSPECTION_DIR_TOO_LARGE' });
  await assert.rejects(run({ maxBytes: 1000 }), { code: 'INTOTO_INSPECTION_DIR_TOO_LARGE' });
  assert.equal(Object.keys((await run({ maxEntries: 20, maxBytes: 2000 })).materials).length, 20);
  await assert.rejects(run({ sourceDir: path.join(dir, 'none') }), { code: 'INTOTO_IO' });
});

test('inspection: workDir runs the inspections in the caller-made directory as it is', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'bundle.tgz'), 'b');
  const runner = new InspectionRunner({ workDir: dir, timeoutMs: 15_000 });
  await runner.run({ name: 'n', run: ['sh', '-c', 'echo made > made'] });
  await runner.close();
  assert.equal(await readFile(path.join(dir, 'made'), 'utf8'), 'made\n'); // not removed: the caller's
});
