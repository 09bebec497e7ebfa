// Crash safety × decoded delegated role copies (`metadata/N.targets/releases.json`, ADR 0012):
// a publish of a delegated role that fails at any rename leaves metadata/ exactly as it was
// (the decoded copy AND its new directory removed), and one killed at any rename leaves no
// temporary file in a decoded directory once the next publish ran (nor an empty directory).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';

const NAME = 'example.com/org/decoded-crash';
const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
const KILL = new URL('../helpers/kill-at-rename.js', import.meta.url).pathname;
const ctx = {};

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-decoded-crash-'));
  ctx.env = { CNABSEC_HOME: path.join(ctx.work, 'home'), CNABSEC_PASSPHRASE: 'pass', CI: 'true' };
  // a preload failing the Nth rename with EIO (disk error) instead of killing
  ctx.fail = path.join(ctx.work, 'fail-at-rename.mjs');
  await writeFile(
    ctx.fail,
    `import fs from 'node:fs';
const at = Number(process.env.FAIL_AT_RENAME); let n = 0;
const r = fs.promises.rename;
fs.promises.rename = (a, b) => (++n === at ? Promise.reject(Object.assign(new Error('injected EIO'), { code: 'EIO' })) : r(a, b));`,
  );
  const repo = path.join(ctx.work, 'template');
  const cli = (...a) => cliOk(a, { env: ctx.env });
  cli('init', repo, '--name', NAME);
  cli('delegation', 'add', repo, 'targets/releases', '--paths', `${NAME}:*`);
  cli('publish', repo);
  cli('bundle', 'add', repo, 'v1', '--thin', FIXTURE);
  ctx.template = repo;
});

async function copy(name) {
  const repo = path.join(ctx.work, name);
  await cp(ctx.template, repo, { recursive: true });
  return repo;
}

const publishWith = (repo, preload, env) =>
  runCli(['publish', repo], {
    env: { ...ctx.env, ...env, NODE_OPTIONS: `--import ${preload}` },
  });

const leftovers = (tree) =>
  Object.keys(tree).filter(
    (f) =>
      f.endsWith('.tmp') || (f.endsWith('/') && !Object.keys(tree).some((g) => g !== f && g.startsWith(f))),
  );

test(
  'a delegated publish failing at any rename: metadata/ unchanged, decoded directory removed',
  { timeout: 300_000 },
  async () => {
    const before = await snapshotTree(path.join(ctx.template, 'metadata'));
    for (let k = 1; k <= 3; k++) {
      const repo = await copy(`fail-${k}`);
      const r = publishWith(repo, ctx.fail, { FAIL_AT_RENAME: String(k) });
      assert.equal(r.status, 1, `rename ${k}: ${r.stderr}`);
      assert.match(r.stderr, /PUBLISH_FAILED/);
      assert.deepEqual(
        await snapshotTree(path.join(repo, 'metadata')),
        before,
        `rename ${k}: metadata/ as before`,
      );
      cliOk(['publish', repo], { env: ctx.env });
    }
  },
);

test(
  'a delegated publish killed at any rename: the next publish leaves no temp file or empty directory',
  { timeout: 300_000 },
  async () => {
    for (let k = 1; k <= 4; k++) {
      const repo = await copy(`kill-${k}`);
      const r = publishWith(repo, KILL, { KILL_AT_RENAME: String(k) });
      assert.equal(r.signal, 'SIGKILL', `rename ${k}: ${r.stderr}`);
      cliOk(['publish', repo], { env: ctx.env });
      const tree = await snapshotTree(path.join(repo, 'metadata'));
      assert.deepEqual(leftovers(tree), [], `rename ${k}: ${JSON.stringify(Object.keys(tree))}`);
      assert.ok(tree['2.targets/releases.json'] !== undefined, `rename ${k}: decoded copy written`);
    }
  },
);
