// The known-repositories registry ($CNABSEC_HOME/repositories.json) under concurrent writers:
// every `init` that succeeded stays recorded, else `key remove` could delete a key that a
// repository still lists (issue 12 item 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { knownRepositories, rememberRepository } from '../../dist/workflows/index.js';
import { tempDir } from '../helpers/tmp.js';

test('rememberRepository: 20 writers at once in one process all stay recorded', async (t) => {
  const home = path.join(await tempDir(t), 'home');
  const repos = Array.from({ length: 20 }, (_, i) => ({
    name: `example.com/org/r${i}`,
    location: `/srv/r${i}`,
  }));
  await Promise.all(repos.map((r) => rememberRepository(home, r)));
  const known = await knownRepositories(home);
  assert.deepEqual(known.map((r) => r.name).sort(), repos.map((r) => r.name).sort());
});

test('rememberRepository: three processes recording 10 repositories each lose none', async (t) => {
  const home = path.join(await tempDir(t), 'home');
  const mod = new URL('../../dist/workflows/index.js', import.meta.url).href;
  const script = `const { rememberRepository } = await import(${JSON.stringify(mod)});
const [home, p] = process.argv.slice(1);
for (let i = 0; i < 10; i++) await rememberRepository(home, { name: 'example.com/org/p' + p + '-' + i, location: '/srv/p' + p + '-' + i });`;
  await Promise.all(
    [0, 1, 2].map(
      (p) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, home, String(p)], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (d) => (err += d));
          child.on('error', reject);
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`writer ${p}: ${code}\n${err}`)),
          );
        }),
    ),
  );
  const known = await knownRepositories(home);
  assert.equal(known.length, 30);
  assert.equal(new Set(known.map((r) => r.location)).size, 30);
});
