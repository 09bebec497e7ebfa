// Runs every ```sh test block of docs/server.md, in order, as one bash script in a temporary
// directory (`cnabsec` = this build): a master key, servers on one file (plain, from a config
// file, HTTPS), /v2/, /healthz, /metrics, an online backup, SIGTERM and a restore. Servers left
// running by a failing block die with the script's process group (./blocks.js).
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ROOT, blocksOf, runBlocks, untestedBlocks } from './blocks.js';

/** Whether `tool` is on PATH (the guide's blocks need openssl and curl, as its reader does). */
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = ['openssl', 'curl'].filter((tool) => !have(tool));

test(
  'docs/server.md: every `sh test` block runs',
  { skip: missing.length > 0 && `no ${missing.join(', ')}` },
  async (t) => {
    const blocks = await blocksOf('docs/server.md');
    assert.equal(blocks.length, 6, 'tested blocks of docs/server.md');
    const text = await readFile(path.join(ROOT, 'docs/server.md'), 'utf8');
    assert.deepEqual(untestedBlocks(text), [], 'every shell block of docs/server.md is run');
    const r = await runBlocks(t, blocks, { timeout: 90_000 });
    assert.equal(r.status, 0, `the guide's commands failed:\n${r.out}`);
    assert.match(r.stdout, /^\{\}$/m); // GET /v2/
    assert.equal((r.stdout.match(/^\{"status":"ok"\}$/gm) ?? []).length, 3); // plain, config, TLS
    assert.match(r.stdout, /^# TYPE http_requests_total counter$/m);
    assert.equal((await stat(path.join(r.work, 'master.key'))).mode & 0o777, 0o600);
    // the three servers stopped gracefully before the restore
    assert.equal((r.stderr.match(/^cnabsec server: stopped$/gm) ?? []).length, 3, r.out);
    // the restored file is a database the server wrote
    const db = new Database(path.join(r.work, 'server.db'), { readonly: true, fileMustExist: true });
    t.after(() => db.close());
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  },
);

test('docs/server.md: the settings table lists exactly the settings of src/server/config.ts', async () => {
  const { SETTINGS, ENV_PREFIX } = await import('../../dist/server/config.js');
  const text = await readFile(path.join(ROOT, 'docs/server.md'), 'utf8');
  const rows = [
    ...text.matchAll(/^\| `([a-zA-Z.]+)` \| `(CNABSEC_SERVER_[A-Z_]+)` \| *(`--[a-z-]+`)? *\|/gm),
  ].map((m) => [m[1], m[2], m[3]?.slice(1, -1)]);
  assert.deepEqual(
    rows,
    SETTINGS.map((s) => [s.key, ENV_PREFIX + s.env, s.flag?.text]),
  );
});
