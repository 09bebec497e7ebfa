// The repository writer lock (src/tuf/lock.ts): exclusive, names its owner, stale locks of
// dead processes are taken over by exactly one of several racing processes, a lock of
// another host is never taken over, and waiting is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { acquireRepositoryLock, withRepositoryLock, LOCK_FILE } from '../../dist/tuf/index.js';
import { tempDir } from '../helpers/tmp.js';

const LOCK_JS = new URL('../../dist/tuf/lock.js', import.meta.url).href;

function deadPid() {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

async function writeLock(dir, owner) {
  await writeFile(path.join(dir, LOCK_FILE), JSON.stringify(owner));
}

test('a held lock refuses a second writer with REPOSITORY_LOCKED naming pid and path; released → free', async (t) => {
  const dir = await tempDir(t);
  const release = await acquireRepositoryLock(dir);
  await assert.rejects(acquireRepositoryLock(dir), (e) => {
    assert.equal(e.code, 'REPOSITORY_LOCKED');
    assert.match(e.message, new RegExp(`pid ${process.pid} on .*\\(lock ${dir}/\\.cnabsec\\.lock\\)`));
    assert.equal(e.details.pid, process.pid);
    assert.match(e.hint, /retry/);
    return true;
  });
  await release();
  assert.deepEqual(await readdir(dir), []);
  assert.equal(await withRepositoryLock(dir, async () => 42), 42);
});

test('waiting is bounded: a lock held by a live process is still refused after waitMs', async (t) => {
  const dir = await tempDir(t);
  const release = await acquireRepositoryLock(dir);
  await assert.rejects(acquireRepositoryLock(dir, { waitMs: 300 }), { code: 'REPOSITORY_LOCKED' });
  setTimeout(() => void release(), 200);
  const again = await acquireRepositoryLock(dir, { waitMs: 30_000 }); // got it once released
  await again();
});

test('a lock of another host is never taken over; an unreadable lock is refused', async (t) => {
  const dir = await tempDir(t);
  await writeLock(dir, { pid: deadPid(), hostname: `not-${hostname()}`, startedAt: 'x', nonce: 'n' });
  await assert.rejects(acquireRepositoryLock(dir), (e) => {
    assert.equal(e.code, 'REPOSITORY_LOCKED');
    assert.match(e.hint, /another host/);
    return true;
  });
  await writeFile(path.join(dir, LOCK_FILE), '{"pid":');
  await assert.rejects(acquireRepositoryLock(dir), /unreadable lock file/);
});

test('a stale lock (dead pid) is taken over by exactly one of 6 racing processes', async (t) => {
  for (let round = 0; round < 3; round++) {
    const dir = await tempDir(t);
    const log = path.join(dir, 'holders.log');
    await writeLock(dir, { pid: deadPid(), hostname: hostname(), startedAt: 'then', nonce: `stale${round}` });
    const script = `
      import { acquireRepositoryLock } from ${JSON.stringify(LOCK_JS)};
      import { appendFileSync } from 'node:fs';
      try {
        const release = await acquireRepositoryLock(${JSON.stringify(dir)});
        appendFileSync(${JSON.stringify(log)}, 'enter ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 300));
        appendFileSync(${JSON.stringify(log)}, 'leave ' + process.pid + '\\n');
        await release();
        process.stdout.write('got');
      } catch (e) {
        process.stdout.write(e.code);
      }`;
    const outs = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise((resolve) => {
            const c = spawn(process.execPath, ['--input-type=module', '-e', script], {
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let out = '';
            c.stdout.on('data', (d) => (out += d));
            c.once('exit', () => resolve(out));
          }),
      ),
    );
    for (const o of outs) assert.ok(o === 'got' || o === 'REPOSITORY_LOCKED', o);
    assert.ok(outs.includes('got'), 'someone took over the stale lock');
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    for (let i = 0; i < lines.length; i += 2) {
      const [enter, leave] = [lines[i], lines[i + 1]];
      assert.match(enter, /^enter /);
      assert.equal(leave, enter.replace('enter', 'leave'), `holders never overlap: ${lines.join(', ')}`);
    }
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('.cnabsec')),
      [],
      'nothing left behind',
    );
  }
});
