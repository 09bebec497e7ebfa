// Files named on the command line (keys, PEM files, layouts, links, payloads) that are a
// directory, a FIFO or an endless device give a one-line typed error and exit 1: never an
// internal error (exit 70, stack trace), a writer blocked on a FIFO, or 2 GB read from /dev/zero.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test(
  'a directory, a FIFO or /dev/zero as a file argument: exit 1, one typed line',
  { timeout: 300_000 },
  async (t) => {
    const dir = await tempDir(t);
    const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'p', CI: 'true' };
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await mkdir(path.join(dir, 'adir'));
    const big = path.join(dir, 'big.pem');
    await writeFile(big, `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(200_000)}\n-----END PUBLIC KEY-----\n`);
    const commands = [
      [(f) => ['key', 'import', f], 'KEY_INVALID'],
      [(f) => ['intoto', 'sign', f, '--key', f], 'INTOTO_BAD_FORMAT'],
      [(f) => ['init', path.join(dir, 'r'), '--name', 'example.com/a/b', '--root-key', f], 'KEY_INVALID'],
    ];
    for (const f of [path.join(dir, 'adir'), fifo, '/dev/zero', big]) {
      for (const [args, code] of commands) {
        const r = runCli(args(f), { env, timeout: 60_000 });
        const what = `${args(f).join(' ')}`;
        assert.equal(r.signal, null, `${what}: finished`);
        assert.equal(r.status, 1, `${what}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^cnabsec: error \\[${code}\\]`), what);
        assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, what);
      }
    }
  },
);
