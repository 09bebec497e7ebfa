// Commands stay in their box: at the time limit (and, for inspections, at their exit) every
// process they started is killed, also children that left the process group, and the caller
// does not wait on a leftover child that holds stdout/stderr. Each attack below is a real
// process tree; its sleeper writes its own pid, and the test checks that pid is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { execCommand, InspectionRunner, runStep, IntotoError } from '../../dist/intoto/index.js';
import { killBox, BOX_MARKER_VAR } from '../../dist/intoto/proctree.js';
import { tempDir } from '../helpers/tmp.js';
import { makeKey } from './helpers.js';

/** Finished within this (the limits under test are 1-3 s, the sleepers 25-30 s). */
const FINISHED = { timeout: 20_000 };

function alive(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = s.slice(s.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pid in `file`; the process is killed after the test whatever happens. */
function pidIn(t, file) {
  assert.ok(existsSync(file), `the sleeper did not start (no ${file})`);
  const pid = Number(readFileSync(file, 'utf8').trim());
  assert.ok(Number.isInteger(pid) && pid > 1, `bad pid in ${file}`);
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  return pid;
}

/** Wait (up to 5 s, for init to reap it) until `pid` is gone; false if it is still alive. */
async function gone(pid) {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** `sh -c`: start `spawner` (which must run `SLEEPER`), wait for its pid file, then sleep. */
const sleeper = (pidFile) => `sh -c 'echo $$ > ${pidFile}; exec sleep 25'`;
const script = (spawner, pidFile) =>
  `${spawner.replaceAll('SLEEPER', () => sleeper(pidFile))}\nwhile [ ! -s ${pidFile} ]; do sleep 0.05; done\nsleep 30`;

const ATTACKS = {
  'a child in a new session (setsid), holding stdout/stderr': 'setsid SLEEPER &',
  'a child in a new session with its output redirected': 'setsid SLEEPER >/dev/null 2>&1 </dev/null &',
  'a nohup child': 'nohup SLEEPER >/dev/null 2>&1 &',
  'a double fork (reparented to init)': '( SLEEPER & ) ',
  'a double fork in a new session': '( setsid SLEEPER & ) ',
  'a child that closes stdout and stderr': 'SLEEPER >&- 2>&- &',
  'a child that inherits stdout and stderr': 'SLEEPER &',
};

for (const [what, spawner] of Object.entries(ATTACKS)) {
  test(`exec: ${what} is killed at the limit and does not hold the caller`, FINISHED, async (t) => {
    const dir = await tempDir(t);
    const pidFile = path.join(dir, 'pid');
    const r = await execCommand(['sh', '-c', script(spawner, pidFile)], { timeoutMs: 3000 });
    assert.equal(r.timedOut, true);
    assert.equal(r.returnValue, -9);
    assert.ok(await gone(pidIn(t, pidFile)), 'the detached child survived the limit');
  });
}

test('run: a step command with a detached child is killed with it at --timeout', FINISHED, async (t) => {
  const dir = await tempDir(t);
  const key = await makeKey(dir, 'k');
  const pidFile = path.join(dir, 'pid');
  const command = ['sh', '-c', script('setsid SLEEPER &', pidFile)];
  await assert.rejects(
    runStep('build', command, key.signer, { timeoutMs: 3000, tee: false, metadataDirectory: dir }),
    (e) => e instanceof IntotoError && e.code === 'INTOTO_COMMAND_TIMEOUT',
  );
  assert.ok(await gone(pidIn(t, pidFile)));
  assert.equal(existsSync(path.join(dir, `build.${key.keyid.slice(0, 8)}.link`)), false);
});

test('run: the captured output of a step is capped', FINISHED, async (t) => {
  const dir = await tempDir(t);
  const key = await makeKey(dir, 'k');
  const r = await runStep(
    'big',
    ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x; echo e >&2'],
    key.signer,
    {
      tee: false,
      maxOutputBytes: 1000,
      metadataDirectory: dir,
    },
  );
  assert.equal(r.link.signed.byproducts.stdout.length, 1000);
  assert.equal(r.link.signed.byproducts.stderr, 'e\n');
});

test('inspection: a detached child it leaves behind is killed when it exits', FINISHED, async (t) => {
  const dir = await tempDir(t);
  const pidFile = path.join(dir, 'pid');
  const runner = new InspectionRunner({ sourceDir: dir, timeoutMs: 15_000 });
  t.after(() => runner.close());
  const run = `cd / && setsid ${sleeper(pidFile)} & while [ ! -s ${pidFile} ]; do sleep 0.05; done`;
  const link = await runner.run({ name: 'bg', run: ['sh', '-c', run] });
  assert.equal(link.byproducts['return-value'], 0);
  assert.ok(await gone(pidIn(t, pidFile)), 'the inspection left a process running');
});

test(
  'inspection: a detached sleeper is killed at the limit, a timeout error, bounded wait',
  FINISHED,
  async (t) => {
    const dir = await tempDir(t);
    const pidFile = path.join(dir, 'pid');
    const runner = new InspectionRunner({ sourceDir: dir, timeoutMs: 3000 });
    t.after(() => runner.close());
    await assert.rejects(
      runner.run({ name: 'stuck', run: ['sh', '-c', script('setsid SLEEPER &', pidFile)] }),
      {
        code: 'INTOTO_INSPECTION_TIMEOUT',
      },
    );
    assert.ok(await gone(pidIn(t, pidFile)));
  },
);

test('killBox: without a process group of its own, the box is found by its marker', FINISHED, async (t) => {
  const dir = await tempDir(t);
  const pidFile = path.join(dir, 'pid');
  const marker = 'f'.repeat(32);
  const child = spawn('sh', ['-c', script('( setsid SLEEPER & )', pidFile)], {
    env: { ...process.env, [BOX_MARKER_VAR]: marker },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.on('exit', r));
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = pidIn(t, pidFile);
  await new Promise((r) => setTimeout(r, 100)); // the pid file is written before the exec
  const killed = killBox({ leader: child.pid, ownGroup: false, marker });
  assert.ok(killed.includes(pid) && killed.includes(child.pid));
  await exited;
  assert.ok(await gone(pid));
  assert.ok(alive(process.pid));
});

test('exec: limits that would disable the bounds are refused', async () => {
  for (const timeoutMs of [NaN, 0, -1, undefined])
    await assert.rejects(execCommand(['true'], { timeoutMs }), { code: 'INTOTO_BAD_FORMAT' });
  await assert.rejects(execCommand(['true'], { timeoutMs: 1000, maxOutputBytes: NaN }), {
    code: 'INTOTO_BAD_FORMAT',
  });
  // A limit beyond setTimeout's range (which would fire at once) is the longest one.
  const r = await execCommand(['sh', '-c', 'sleep 1; echo ok'], { timeoutMs: 1e12 });
  assert.equal(r.timedOut, false);
  assert.equal(r.stdout, 'ok\n');
});

test('run: a background child that keeps stdout open does not hold a finished step', FINISHED, async (t) => {
  const dir = await tempDir(t);
  const key = await makeKey(dir, 'k');
  const pidFile = path.join(dir, 'pid');
  const run = `setsid ${sleeper(pidFile)} & while [ ! -s ${pidFile} ]; do sleep 0.05; done; echo built`;
  const r = await runStep('build', ['sh', '-c', run], key.signer, {
    timeoutMs: 60_000,
    tee: false,
    metadataDirectory: dir,
  });
  pidIn(t, pidFile); // left running by design (a step may start daemons); killed after the test
  assert.equal(r.link.signed.byproducts['return-value'], 0);
  assert.equal(r.link.signed.byproducts.stdout, 'built\n');
});
