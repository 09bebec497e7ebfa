// `cnabsec bundle add --thick` and `cnabsec verify --thick -o` on crafted archives: refusals
// are exit 1 with the ARCHIVE_* code; `-o` writes the bundle.json that tar extracts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliOk, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { file, header, tgz, zeroBomb } from './tar-craft.js';

const NAME = 'example.com/org/thick';
const B = await readFile(new URL('../fixtures/bundle.json', import.meta.url).pathname);
const EVIL = Buffer.from(B.toString('utf8').replace('"helloworld"', '"evilworld"'));

/** A temp dir (`w(name)` paths in it), a CLI environment and an initialised repository. */
async function newRepo(t) {
  const dir = await tempDir(t);
  const w = (name) => path.join(dir, name);
  const env = { CNABSEC_HOME: w('home'), CNABSEC_PASSPHRASE: 'pass phrase', CI: 'true' };
  const repo = w('repo');
  cliOk(['init', repo, '--name', NAME], { env });
  return { w, env, repo };
}

/** Pin the repository's first root and read it over file://. */
function trustRepo(repo, env) {
  const url = pathToFileURL(path.join(repo, 'metadata')).href;
  cliOk(['trust', 'add', NAME, '--root', path.join(repo, 'metadata', '1.root.json'), '--url', url], { env });
}

test(
  'CLI: bundle add refuses crafted archives; verify -o writes the verified bundle.json',
  { timeout: 180_000 },
  async (t) => {
    const { w, env, repo } = await newRepo(t);
    const archives = {
      dup: tgz([file('bundle.json', B), file('./bundle.json', EVIL)]),
      dotdot: tgz([file('bundle.json', B), file('../x', 'x')]),
      garbage: tgz([file('bundle.json', B, { size: '0000000zzzz\0' })]),
      bomb: zeroBomb(Buffer.concat([file('bundle.json', B), header('z', 2 ** 32)]), 512),
    };
    for (const [name, bytes] of Object.entries(archives)) await writeFile(w(`${name}.tgz`), bytes);
    for (const [name, code] of [
      ['dup', 'ARCHIVE_DUPLICATE_ENTRY'],
      ['dotdot', 'ARCHIVE_BAD_ENTRY'],
      ['garbage', 'ARCHIVE_BAD_ENTRY'],
      ['bomb', 'ARCHIVE_TOO_LARGE'],
    ]) {
      const r = runCli(['bundle', 'add', repo, name, '--thick', w(`${name}.tgz`)], { env });
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`\\[${code}\\]`), name);
    }
    // a good archive, made by GNU tar
    const src = w('src');
    await mkdir(src);
    await writeFile(path.join(src, 'bundle.json'), B);
    await writeFile(path.join(src, 'img.tar'), Buffer.alloc(100_000, 1));
    execFileSync('tar', ['-czf', w('good.tgz'), '-C', src, '.']);
    cliOk(['bundle', 'add', repo, 'v1', '--thick', w('good.tgz')], { env });
    cliOk(['publish', repo], { env });
    trustRepo(repo, env);
    cliOk(['verify', `${NAME}:v1`, '--thick', w('good.tgz'), '-o', w('out.json')], { env });
    assert.deepEqual(await readFile(w('out.json')), B);
    // swapped for the bomb: a hash mismatch, found before decompressing
    const r = runCli(['verify', `${NAME}:v1`, '--thick', w('bomb.tgz'), '-o', w('out2.json')], { env });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\[BUNDLE_HASH_MISMATCH\]/);
    await assert.rejects(readFile(w('out2.json')), { code: 'ENOENT' });
  },
);

test(
  'CLI: a genuine bundle that compresses better than 10:1 is refused by default, accepted with --max-unpacked',
  { timeout: 180_000 },
  async (t) => {
    const { w, env, repo } = await newRepo(t);
    // bundle.json + 300 MiB of zeros, made by GNU tar: a few hundred KiB compressed
    const src = w('src');
    await mkdir(src);
    await writeFile(path.join(src, 'bundle.json'), B);
    execFileSync('sh', ['-c', `head -c ${300 * 2 ** 20} /dev/zero > "${path.join(src, 'zeros.img')}"`]);
    execFileSync('tar', ['-czf', w('z.tgz'), '-C', src, 'bundle.json', 'zeros.img']);
    const r = runCli(['bundle', 'add', repo, 'v1', '--thick', w('z.tgz')], { env });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\[ARCHIVE_TOO_LARGE\].*--max-unpacked/);
    for (const bad of ['0', 'abc', '-5']) {
      const u = runCli(['bundle', 'add', repo, 'v1', '--thick', w('z.tgz'), '--max-unpacked', bad], { env });
      assert.equal(u.status, 2, `${bad}: ${u.stderr}`);
    }
    cliOk(['bundle', 'add', repo, 'v1', '--thick', w('z.tgz'), '--max-unpacked', '400'], { env });
    cliOk(['publish', repo], { env });
    trustRepo(repo, env);
    const v = runCli(['verify', `${NAME}:v1`, '--thick', w('z.tgz')], { env });
    assert.equal(v.status, 1, v.stderr);
    assert.match(v.stderr, /\[ARCHIVE_TOO_LARGE\]/);
    cliOk(['verify', `${NAME}:v1`, '--thick', w('z.tgz'), '--max-unpacked', '400'], { env });
  },
);
