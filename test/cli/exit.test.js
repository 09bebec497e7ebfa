// The CLI exits as soon as its command is done (src/cli/main.ts): all its output must still
// reach a slow reader, and the exit code must be the command's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CLI, childEnv } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Run the CLI with its stdout piped; `onStdout(stream)` may pause or close it.
 * Resolves to {code, stdout, stderr} when the child has exited.
 */
function spawnCli(args, onStdout = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    let err = '';
    child.stdout.on('data', (c) => out.push(c));
    onStdout(child.stdout);
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: err }));
  });
}

/** A valid bundle.json with `n` parameters in `dir`: canonicalizing it prints ~70 bytes each. */
async function bigBundle(dir, n) {
  const parameters = {};
  for (let i = 0; i < n; i++) parameters[`p${i}`] = { definition: 'string', destination: { env: `P${i}` } };
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'big',
    version: '0.1.0',
    invocationImages: [{ imageType: 'docker', image: 'example.com/big:0.1.0' }],
    definitions: { string: { type: 'string' } },
    parameters,
  };
  const file = path.join(dir, 'bundle.json');
  await writeFile(file, JSON.stringify(bundle));
  return { file, bundle };
}

test('cli exit: a large output reaches a slow reader whole, then the process exits 0', async (t) => {
  const { file, bundle } = await bigBundle(await tempDir(t), 20_000);
  const r = await spawnCli(['bundle', 'canonicalize', file], (stdout) => {
    stdout.pause();
    setTimeout(() => stdout.resume(), 300);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.length > 1_000_000, `${r.stdout.length} bytes`);
  assert.deepEqual(JSON.parse(r.stdout), bundle);
});

test('cli exit: the exit code is the command result (1 user error, 2 usage error)', async () => {
  const missing = await spawnCli(['bundle', 'canonicalize', '/nonexistent/bundle.json']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^cnabsec: error \[[A-Z_]+\]/);
  const usage = await spawnCli(['bundle', 'canonicalize']);
  assert.equal(usage.code, 2);
});

test('cli exit: a reader that closes early (| head) ends the CLI quietly, no stack trace', async (t) => {
  const { file } = await bigBundle(await tempDir(t), 50_000);
  const r = await spawnCli(['bundle', 'canonicalize', file], (stdout) => {
    stdout.once('data', () => stdout.destroy());
  });
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
});
