// `cnabsec intoto run` of a command that fails: a loud warning, the link records the failure;
// `--fail-on-error` exits 1 with INTOTO_COMMAND_FAILED and writes no link (issue 12 item 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

async function setup(t) {
  const dir = await tempDir(t);
  const key = path.join(dir, 'build.key');
  const keyid = cliOk(['intoto', 'keygen', key]).trim();
  const links = path.join(dir, 'links');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(links);
  const run = (extra, command) =>
    runCli(['intoto', 'run', '-n', 'build', '-k', key, '-d', links, ...extra, '--', 'sh', '-c', command], {
      cwd: dir,
    });
  return { dir, keyid, links, run };
}

test('a command exiting 2: warned on stderr, the link is written and records return-value 2', async (t) => {
  const { keyid, links, run } = await setup(t);
  const r = run([], 'echo out; exit 2');
  assert.equal(r.status, 0, r.stderr);
  const file = path.join(links, `build.${keyid.slice(0, 8)}.link`);
  assert.equal(r.stdout, `out\n${file}\n`);
  assert.equal(
    r.stderr,
    'cnabsec: warning: step build: command exited 2; the link records the failure (byproducts return-value 2); use --fail-on-error to fail the step instead\n',
  );
  const link = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(link.signed.byproducts['return-value'], 2);
});

test('a command killed by a signal: the warning names the signal', async (t) => {
  const { run } = await setup(t);
  const r = run([], 'kill -TERM $$');
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^cnabsec: warning: step build: command was killed by signal SIGTERM; .*return-value -15\)/,
  );
});

test('--fail-on-error: exit 1, INTOTO_COMMAND_FAILED naming the step and status, no link', async (t) => {
  const { links, run } = await setup(t);
  const r = run(['--fail-on-error'], 'exit 3');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    /^cnabsec: error \[INTOTO_COMMAND_FAILED\]: step "build": command "sh -c exit 3" exited 3; no link written \(--fail-on-error\)\n {2}hint: /,
  );
  assert.deepEqual(await readdir(links), []);
  const j = run(['--fail-on-error', '--json'], 'exit 4');
  assert.equal(j.status, 1);
  const e = JSON.parse(j.stdout).error;
  assert.equal(e.code, 'INTOTO_COMMAND_FAILED');
  assert.equal(e.details.returnValue, 4);
  assert.deepEqual(await readdir(links), []);
});

test('--fail-on-error with a command that succeeds writes the link without a warning', async (t) => {
  const { keyid, links, run } = await setup(t);
  const r = run(['--fail-on-error'], 'true');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(await readdir(links), [`build.${keyid.slice(0, 8)}.link`]);
});
