// The lock file is whatever is on disk at `<dir>/.cnabsec.lock`: a directory, a FIFO, a
// symlink or a file in place of the repository directory give one-line typed errors
// (REPOSITORY_LOCKED, STORE_IO), never an internal error and never a writer blocked forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { acquireRepositoryLock, LOCK_FILE } from '../../dist/tuf/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from '../helpers/cli.js';

const kinds = {
  directory: (p) => mkdir(p),
  fifo: async (p) => execFileSync('mkfifo', [p]),
  'dangling symlink': (p) => symlink('/nonexistent/x', p),
  'symlink to a readable file': async (p) => {
    await writeFile(`${p}.target`, JSON.stringify({ pid: 1, hostname: 'elsewhere', nonce: 'n' }));
    await symlink(`${p}.target`, p);
  },
};

for (const [kind, make] of Object.entries(kinds)) {
  test(
    `a lock file that is a ${kind}: REPOSITORY_LOCKED, the lock path named`,
    { timeout: 60_000 },
    async (t) => {
      const dir = await tempDir(t);
      const lock = path.join(dir, LOCK_FILE);
      await make(lock);
      // in this process only when a regression cannot block it: a read of a FIFO never returns
      if (kind !== 'fifo')
        await assert.rejects(acquireRepositoryLock(dir, { waitMs: 0 }), (e) => {
          assert.equal(e.code, 'REPOSITORY_LOCKED', `${kind}: ${e.code} ${e.message}`);
          assert.ok(e.message.includes(lock), e.message);
          assert.ok(e.hint.includes('remove'), e.hint);
          return true;
        });
      // the CLI: exit 1 with the code, no stack trace (a FIFO would block a reader forever)
      const r = runCli(['publish', dir], {
        env: { CNABSEC_LOCK_WAIT: '0', CNABSEC_HOME: path.join(dir, 'home') },
        timeout: 30_000,
      });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /REPOSITORY_LOCKED|REPO_NOT_FOUND/);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      await rm(lock, { recursive: true, force: true });
    },
  );
}

test('a lock directory that cannot be created (a file in the way): STORE_IO naming it', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'file'), 'x');
  await assert.rejects(acquireRepositoryLock(path.join(dir, 'file', 'repo'), { create: true }), (e) => {
    assert.equal(e.code, 'STORE_IO', `${e.code} ${e.message}`);
    assert.match(e.message, /file\/repo/);
    return true;
  });
});

test('CNABSEC_LOCK_WAIT that is not a number of seconds is INVALID_ARGUMENT (was silently 10 s)', async (t) => {
  const dir = await tempDir(t);
  for (const v of ['abc', '-1', '1e400', '10s']) {
    const r = runCli(['publish', dir], {
      env: { CNABSEC_LOCK_WAIT: v, CNABSEC_HOME: path.join(dir, 'home') },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^cnabsec: error \[INVALID_ARGUMENT\]: CNABSEC_LOCK_WAIT=/, v);
  }
});
