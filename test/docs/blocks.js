// Running the ```sh test blocks of a Markdown file exactly as printed (issue 12, item 8).
//
// A script is the blocks joined, each after an `echo "### block N"` marker, under
// `set -euo pipefail`, run by bash in a fresh work directory with `cnabsec` on PATH (this
// build), HOME and CNABSEC_HOME in a temporary directory, CI=true and CNABSEC_PASSPHRASE set.
// The commands are never rewritten: what a block needs beforehand (a bundle.json, a source
// tree) is made by the test's `fixture(work)` before the script starts. bash runs in a process
// group of its own, which is killed afterwards, so that a block's background server
// (`cnabsec serve ... &`) cannot outlive a failing block.
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PASSPHRASE = 'doc test passphrase';

/** The bodies of the ```sh test blocks of `markdown`, in order. */
export function testedBlocks(markdown) {
  return [...markdown.matchAll(/^```sh test\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The bodies of the ```sh blocks of `markdown` that are not tested (illustrative ones). */
export function untestedBlocks(markdown) {
  return [...markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The ```sh test blocks of a file of the repository (path relative to the root). */
export async function blocksOf(file) {
  return testedBlocks(await readFile(path.join(ROOT, file), 'utf8'));
}

/** The script of `blocks`: one bash script, failing at the first failing command. */
export function scriptOf(blocks, first = 1) {
  return ['set -euo pipefail', ...blocks.map((b, i) => `echo "### block ${first + i}"\n${b}`)].join('\n');
}

/**
 * Run `blocks` as one script in a fresh temporary directory; `fixture(work)` prepares the work
 * directory first. Resolves to {status, signal, stdout, stderr, work, home, out}.
 */
export async function runBlocks(t, blocks, { fixture, first = 1, timeout = 120_000 } = {}) {
  const dir = await tempDir(t, 'cnabsec-doc-');
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await writeFile(
    path.join(bin, 'cnabsec'),
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'dist', 'bin', 'cnabsec.cjs')}" "$@"\n`,
  );
  await chmod(path.join(bin, 'cnabsec'), 0o755);
  const work = path.join(dir, 'work');
  const home = path.join(dir, 'home');
  await mkdir(work);
  if (fixture !== undefined) await fixture(work);
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: dir,
    CNABSEC_HOME: home,
    CNABSEC_PASSPHRASE: PASSPHRASE,
    CI: 'true',
  };
  const r = await runScript(scriptOf(blocks, first), { cwd: work, env, timeout });
  return {
    ...r,
    work,
    home,
    dir,
    out: `--- status ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
  };
}

function runScript(script, { cwd, env, timeout }) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d) => (out.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out.stderr += d));
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => killGroup('SIGKILL'), timeout);
    child.on('error', reject);
    // Wait for 'close' (all output read), but after 'exit' at most 1 s: a leftover background
    // process may hold the pipes open until the group is killed.
    let exited;
    const done = () => {
      clearTimeout(timer);
      resolve({ ...exited, ...out });
    };
    child.on('exit', (status, signal) => {
      exited = { status, signal };
      killGroup('SIGTERM');
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 1000).unref();
    });
    child.on('close', (status, signal) => {
      exited ??= { status, signal };
      done();
    });
  });
}
