// A published repository for client-side CLI tests (trust, lookup, list): the in-memory
// simulator (./sim.js) written out to a directory, served over file:// or a loopback HTTP
// server, and a CNABSEC_HOME that trusts it through the real `cnabsec trust add`.
import { mkdir, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Sim, NAME } from './sim.js';
import { cliOk } from './cli.js';
import { tempDir } from './tmp.js';

export { NAME };

const SERVER = fileURLToPath(new URL('./static-server.js', import.meta.url));

/** Write the sim's published metadata to `<dir>/metadata`; returns that directory. */
export async function writeMetadata(sim, dir) {
  const out = path.join(dir, 'metadata');
  await mkdir(out, { recursive: true });
  for (const [file, bytes] of sim.store.files) {
    if (!file.startsWith('metadata/') || file.slice(9).includes('/')) continue;
    await writeFile(path.join(out, file.slice(9)), bytes);
  }
  return out;
}

/**
 * Serve `dir` over HTTP on 127.0.0.1 from a child process (404 for anything missing; mode
 * `silent`: accept and never answer); stopped after the test. Returns its base URL.
 */
export async function serveDir(t, dir, mode = 'files') {
  const child = spawn(process.execPath, [SERVER, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`static server exited ${code}`)));
  });
}

/**
 * A repository with tags signed by `targets` and by `targets/releases`, published, on disk,
 * and a home trusting it. `build(sim)` may stage more before the publish.
 */
export async function trustedRepository(t, { build, http = false } = {}) {
  const sim = await Sim.create(t);
  if (build !== undefined) await build(sim);
  await sim.publish();
  const dir = await tempDir(t, 'cnabsec-client-repo-');
  const metadata = await writeMetadata(sim, dir);
  const url = http ? `${await serveDir(t, dir)}/metadata` : pathToFileURL(metadata).href;
  const home = path.join(dir, 'home');
  const env = { CNABSEC_HOME: home, CI: 'true' };
  cliOk(['trust', 'add', NAME, '--root', path.join(metadata, '1.root.json'), '--url', url], { env });
  return { sim, dir, metadata, url, home, env };
}
