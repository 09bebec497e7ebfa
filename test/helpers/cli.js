// Running the cnabsec CLI as a child process, and snapshots of directory trees, for CLI tests.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/bin/cnabsec.cjs', import.meta.url));

/**
 * The environment of a child: this process's, without any CNABSEC_* variable, CI or node:test
 * context, then `env` on top (a value of `undefined` removes the variable).
 */
export function childEnv(env = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('CNABSEC_') || k === 'CI' || k === 'NODE_TEST_CONTEXT') continue;
    out[k] = v;
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Run `node dist/bin/cnabsec.cjs ...args` and return {status, signal, stdout, stderr}.
 * stdin is a pipe (never a TTY), so the CLI can never stop at a passphrase prompt.
 */
export function runCli(args, { env = {}, cwd = process.cwd(), input = '', timeout = 60_000 } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: childEnv(env),
    cwd,
    input,
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Run the CLI and throw (with its output) unless it exits 0; returns stdout. */
export function cliOk(args, options) {
  const r = runCli(args, options);
  if (r.status !== 0) {
    throw new Error(
      `cnabsec ${args.join(' ')} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/**
 * Every file and directory under `dir`, relative path → "dir", "symlink:<target>" (not
 * followed) or the sha256 of the contents (missing `dir` → {}). Two equal snapshots mean nothing was created, removed or changed.
 */
export async function snapshotTree(dir) {
  const out = {};
  const walk = async (abs, rel) => {
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (e.code === 'ENOENT' && rel === '') return;
      throw e;
    }
    for (const d of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const a = path.join(abs, d.name);
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isSymbolicLink()) {
        out[r] = `symlink:${await readlink(a)}`;
      } else if (d.isDirectory()) {
        out[`${r}/`] = 'dir';
        await walk(a, r);
      } else {
        out[r] = createHash('sha256')
          .update(await readFile(a))
          .digest('hex');
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** The `roles` list of an `init --json` document as a map: role name → {role, keyids, threshold, ...}. */
export function rolesOf(initDoc) {
  if (!Array.isArray(initDoc.roles))
    throw new Error('init --json: `roles` is a list of {role, keyids, threshold}');
  return Object.fromEntries(initDoc.roles.map((r) => [r.role, r]));
}

/**
 * `runCli` without blocking this process: for a CLI that talks to a server running in this
 * test's own process (test/helpers/metadata-server.js). Resolves {status, signal, stdout, stderr}.
 */
export function runCliAsync(args, { env = {}, cwd = process.cwd(), input = '', timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), cwd, timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** `runCliAsync` that throws (with its output) unless the CLI exits 0; resolves stdout. */
export async function cliOkAsync(args, options) {
  const r = await runCliAsync(args, options);
  if (r.status !== 0) {
    throw new Error(
      `cnabsec ${args.join(' ')} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r.stdout;
}
