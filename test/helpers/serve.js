// Start `cnabsec serve <repo>` as a child process on a free loopback port; stop it after use.
import { spawn } from 'node:child_process';
import { CLI, childEnv } from './cli.js';

export async function startServe(repoDir, env = {}) {
  const child = spawn(process.execPath, [CLI, 'serve', repoDir], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cnabsec serve did not start: ${err}`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cnabsec serve exited ${code}: ${err}`));
    });
  });
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
