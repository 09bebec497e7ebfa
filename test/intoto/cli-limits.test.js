// The documented time limits of `intoto run` (3600 s) and `intoto verify` inspections (60 s)
// hold as documented: the defaults are seconds, explicit limits kill, bad values are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { makeKey, layout, writeLayout } from './helpers.js';

const CLI = fileURLToPath(new URL('../../dist/bin/cnabsec.cjs', import.meta.url));
const FINISHED = { timeout: 20_000 };

function cli(cwd, ...args) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env: { ...process.env, CI: 'true' } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}

const errorCode = (r) => JSON.parse(r.stdout).error.code;

/** A layout with one inspection running `run`, signed by owner (owner.pub in dir). */
async function inspectionLayout(dir, run) {
  const owner = await makeKey(dir, 'owner');
  const inspect = [{ _type: 'inspection', name: 'i', expected_materials: [], expected_products: [], run }];
  await writeLayout(path.join(dir, 'root.layout'), layout([], [], { inspect }), [owner]);
  return ['intoto', 'verify', '-l', 'root.layout', '-k', 'owner.pub', '--json'];
}

test('intoto run: the default limit is 3600 s, not 3.6 s (a 5 s command finishes)', FINISHED, async (t) => {
  const dir = await tempDir(t);
  await makeKey(dir, 'k');
  const r = await cli(dir, 'intoto', 'run', '-n', 's', '-k', 'k', '--json', '--', 'sh', '-c', 'sleep 5');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(JSON.parse(r.stdout).returnValue, 0);
});

test('intoto run: an explicit --timeout 1 kills a sleep 30', FINISHED, async (t) => {
  const dir = await tempDir(t);
  await makeKey(dir, 'k');
  const r = await cli(
    dir,
    'intoto',
    'run',
    '-n',
    's',
    '-k',
    'k',
    '--timeout',
    '1',
    '--json',
    '--',
    'sleep',
    '30',
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(errorCode(r), 'INTOTO_COMMAND_TIMEOUT');
});

test(
  'intoto verify: the default inspection limit is 60 s, not 60 ms (a 1 s inspection passes)',
  FINISHED,
  async (t) => {
    const dir = await tempDir(t);
    const r = await cli(dir, ...(await inspectionLayout(dir, ['sh', '-c', 'sleep 1'])));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).verified, true);
  },
);

test(
  'intoto verify: --inspection-timeout 1 with a detached 25 s sleeper ends in time',
  FINISHED,
  async (t) => {
    const dir = await tempDir(t);
    const args = await inspectionLayout(dir, ['sh', '-c', 'setsid sleep 25 & sleep 25']);
    const r = await cli(dir, ...args, '--inspection-timeout', '1');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(errorCode(r), 'INTOTO_INSPECTION_TIMEOUT');
  },
);

test('intoto: limits and other typed options that are not numbers are usage errors, exit 2', async (t) => {
  const dir = await tempDir(t);
  await makeKey(dir, 'k');
  const verify = await inspectionLayout(dir, ['true']);
  const cases = [
    ['intoto', 'run', '-n', 's', '-k', 'k', '--json', '--timeout', 'abc', '--', 'true'],
    ['intoto', 'run', '-n', 's', '-k', 'k', '--json', '--timeout', '0', '--', 'true'],
    [...verify, '--inspection-timeout', '-1'],
    [...verify, '--inspection-timeout', 'NaN'],
    [...verify, '--max-inspection-output', 'lots'],
    [...verify, '--max-inspection-output', '-5'],
    ['intoto', 'layout', 'new', '--json', '-o', 'x.layout', '--expires-in-days', 'abc'],
    ['intoto', 'layout', 'new', '--json', '-o', 'x.layout', '--expires-in-days', '1e308'],
    ['intoto', 'layout', 'new', '--json', '-o', 'x.layout', '--expires', 'abc'],
  ];
  for (const args of cases) {
    const r = await cli(dir, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(errorCode(r), 'CLI_USAGE', args.join(' '));
    const option = args[args.length - 2] === '--' ? '--timeout' : args[args.length - 2];
    assert.match(JSON.parse(r.stdout).error.message, new RegExp(`option '[^']*${option}`), args.join(' '));
  }
  await assert.rejects(stat(path.join(dir, 'x.layout')), { code: 'ENOENT' });
});
