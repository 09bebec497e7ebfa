import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, symlink, readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import {
  recordArtifacts,
  hashFile,
  pyNormpath,
  runStep,
  recordStart,
  recordStop,
  parseMetablock,
  verifyMetablockSignature,
} from '../../dist/intoto/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeKey } from './helpers.js';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

async function tree(t) {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'src/sub'), { recursive: true });
  await mkdir(path.join(dir, '.git'));
  await mkdir(path.join(dir, 'other'));
  await writeFile(path.join(dir, 'src/a.txt'), 'a');
  await writeFile(path.join(dir, 'src/sub/b.txt'), 'b');
  await writeFile(path.join(dir, 'src/x.pyc'), 'c');
  await writeFile(path.join(dir, 'src/old~'), 'd');
  await writeFile(path.join(dir, 'src/s.link'), 'e');
  await writeFile(path.join(dir, '.git/HEAD'), 'f');
  await writeFile(path.join(dir, 'other/o.txt'), 'o');
  await symlink('a.txt', path.join(dir, 'src/link-to-file'));
  await symlink('../other', path.join(dir, 'src/link-to-dir'));
  await symlink('missing', path.join(dir, 'src/broken'));
  await symlink('..', path.join(dir, 'src/sub/loop'));
  return dir;
}

test('record: walk, default excludes, symlinked files and dirs followed, broken links skipped', async (t) => {
  const dir = await tree(t);
  const got = await recordArtifacts(['.'], { basePath: dir });
  assert.deepEqual(Object.keys(got).sort(), [
    'other/o.txt',
    'src/a.txt',
    'src/link-to-dir/o.txt',
    'src/link-to-file',
    'src/sub/b.txt',
  ]); // src/sub/loop points back to src: a cycle is walked once (python would recurse)
  assert.equal(got['src/link-to-file'].sha256, sha256('a'));
});

test('record: explicit excludes replace the defaults and prune directories; paths are normalized', async (t) => {
  const dir = await tree(t);
  const got = await recordArtifacts(['./src/../src', 'other/o.txt', 'nope'], {
    basePath: dir,
    excludePatterns: ['sub', 'link-*'],
  });
  assert.deepEqual(Object.keys(got).sort(), [
    'other/o.txt',
    'src/a.txt',
    'src/old~',
    'src/s.link',
    'src/x.pyc',
  ]);
  const stripped = await recordArtifacts(['src/a.txt', 'other'], {
    basePath: dir,
    lstripPaths: ['src/', 'other/'],
  });
  assert.deepEqual(Object.keys(stripped).sort(), ['a.txt', 'o.txt']);
  await assert.rejects(recordArtifacts(['src'], { basePath: dir, lstripPaths: ['src', 'src/sub'] }), {
    code: 'INTOTO_PREFIX_CONFLICT',
  });
  assert.equal(pyNormpath('//a/./b/../c/'), '//a/c');
  assert.equal(pyNormpath('../x/..'), '..');
  assert.equal(pyNormpath(''), '.');
});

test('hashing streams and normalizes CRLF/CR to LF across chunk boundaries', async (t) => {
  const dir = await tempDir(t);
  const f = path.join(dir, 'f');
  // 65536-byte chunks: put a CR as the last byte of the first chunk and LF first in the next.
  const body = Buffer.alloc(65535, 'x');
  const data = Buffer.concat([body, Buffer.from('\r\nline\rmac\r\r\nend\r')]);
  await writeFile(f, data);
  const normalized = data.toString('latin1').replace(/\r\n/g, '\n').replace(/\r/g, '\n');
  assert.equal((await hashFile(f, true)).sha256, sha256(Buffer.from(normalized, 'latin1')));
  assert.equal((await hashFile(f)).sha256, sha256(data));
});

test('run: materials, command output and return value, products, signed link file', async (t) => {
  const dir = await tempDir(t);
  const key = await makeKey(dir, 'k');
  await writeFile(path.join(dir, 'in.txt'), 'hello');
  // As python: the command runs in the current directory; --base-path only anchors recording.
  const r = await runStep(
    'build',
    ['sh', '-c', `cat in.txt > out.txt; echo done; echo warn >&2; exit 2`],
    key.signer,
    {
      basePath: dir,
      materials: ['in.txt'],
      products: ['in.txt'],
      metadataDirectory: dir,
      tee: false,
      cwd: dir,
    },
  );
  const mb = parseMetablock(await readFile(r.file), r.file);
  assert.equal(path.basename(r.file), `build.${key.keyid.slice(0, 8)}.link`);
  assert.deepEqual(mb.signed.byproducts, { stdout: 'done\n', stderr: 'warn\n', 'return-value': 2 });
  assert.equal(mb.signed.materials['in.txt'].sha256, sha256('hello'));
  verifyMetablockSignature(mb, key.pub);
  await assert.rejects(
    runStep('x', ['no-such-command-xyz'], key.signer, { metadataDirectory: dir, tee: false }),
    {
      code: 'INTOTO_COMMAND_FAILED',
    },
  );
  await assert.rejects(
    runStep('x', ['sleep', '5'], key.signer, { metadataDirectory: dir, tee: false, timeoutMs: 200 }),
    {
      code: 'INTOTO_COMMAND_TIMEOUT',
    },
  );
});

test('record start/stop: preliminary link, products added, re-signed, preliminary removed', async (t) => {
  const dir = await tempDir(t);
  const key = await makeKey(dir, 'k', 'ecdsa');
  await writeFile(path.join(dir, 'a'), 'A');
  const pre = await recordStart('edit', key.signer, { basePath: dir, materials: ['a'], dir });
  assert.equal(path.basename(pre), `.edit.${key.keyid.slice(0, 8)}.link-unfinished`);
  await writeFile(path.join(dir, 'a'), 'B');
  const r = await recordStop('edit', key.signer, {
    basePath: dir,
    products: ['a'],
    dir,
    metadataDirectory: dir,
  });
  const mb = parseMetablock(await readFile(r.file));
  assert.equal(mb.signed.materials.a.sha256, sha256('A'));
  assert.equal(mb.signed.products.a.sha256, sha256('B'));
  verifyMetablockSignature(mb, key.pub);
  assert.ok(!(await readdir(dir)).some((n) => n.endsWith('link-unfinished')));
  await assert.rejects(recordStop('edit', key.signer, { dir }), { code: 'INTOTO_RECORD_NOT_STARTED' });
});
