// `cnabsec server` as a process (src/server/run.ts, src/cli/commands/server.ts, ADR 0024): it
// answers /v2/ and /healthz once its ready line is out, refuses to start without a master key
// (one error line, exit 1, no file created), and on SIGTERM during an upload refuses new
// connections, finishes and stores the upload, then exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { connect } from 'node:net';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import {
  developerRepo,
  fullUpload,
  masterKeyHex,
  multipart,
  startServerProcess,
} from '../helpers/server-process.js';

test('run: the server answers /v2/ and /healthz, with --json one ready line on stdout', async (t) => {
  const dir = await tempDir(t);
  const db = path.join(dir, 'data', 'server.db');
  const s = await startServerProcess(t, ['--db', db, '--json'], {
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() },
  });
  assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s.db, db);
  const v2 = await fetch(`${s.url}/v2/`);
  assert.equal(v2.status, 200);
  assert.deepEqual(await v2.json(), {});
  const health = await fetch(`${s.url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = JSON.parse(s.stdout().split('\n')[0]);
  assert.equal(ready.url, s.url);
  assert.equal(ready.db, db);
  assert.deepEqual([ready.tls, ready.onlineKeys], [false, true]);
  s.child.kill('SIGTERM');
  assert.deepEqual(await s.exited, { code: 0, signal: null });
  assert.match(s.stderr(), /cnabsec server: stopped\n$/);
});

test('run: without a master key it refuses to start: one error line, exit 1, no database', async (t) => {
  const dir = await tempDir(t);
  const r = runCli(['server', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'server.db')]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  const [line, hint, ...rest] = r.stderr.trimEnd().split('\n');
  assert.match(
    line,
    /^cnabsec: error \[MASTER_KEY_MISSING\]: no master key: CNABSEC_SERVER_MASTER_KEY is not set/,
  );
  assert.match(hint, /^ {2}hint: .*--no-online-keys/);
  assert.deepEqual(rest, []);
  assert.deepEqual(await readdir(dir), []);
  // --no-online-keys: no master key needed
  const s = await startServerProcess(t, ['--db', path.join(dir, 'server.db'), '--no-online-keys']);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
});

/** Connect attempts until one fails other than by a reset (the listener is closed): its error code. */
async function untilRefused(url) {
  const { port } = new URL(url);
  for (;;) {
    const code = await new Promise((resolve) => {
      const c = connect(Number(port), '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve('connected');
      });
      c.once('error', (e) => resolve(e.code));
    });
    // a connection still in the backlog when the listener closes is reset: try again
    if (code !== 'connected' && code !== 'ECONNRESET') return code;
  }
}

test('run: SIGTERM during an upload: new connections refused, the upload finishes (200, stored), exit 0', async (t) => {
  const dir = await tempDir(t);
  const db = path.join(dir, 'server.db');
  const s = await startServerProcess(t, ['--db', db], { env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() } });
  const sim = await developerRepo(t, 'example.com/org/slow');
  const files = fullUpload(sim);
  const { body, type } = await multipart(files);
  const answer = new Promise((resolve, reject) => {
    const req = http.request(`${s.url}/v2/example.com/org/slow/_trust/tuf/`, {
      method: 'POST',
      // the server's 100 Continue proves it has the request before the signal
      headers: { 'content-type': type, 'content-length': body.length, expect: '100-continue' },
    });
    req.once('continue', async () => {
      req.write(body.subarray(0, body.length >> 1));
      s.child.kill('SIGTERM');
      try {
        assert.equal(await untilRefused(s.url), 'ECONNREFUSED');
      } catch (e) {
        reject(e);
      }
      req.end(body.subarray(body.length >> 1));
    });
    req.once('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.once('error', reject);
  });
  const r = await answer;
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json.stored.map((m) => m.role).sort(), files.map((f) => f.role).sort());
  assert.deepEqual(await s.exited, { code: 0, signal: null });
  assert.match(s.stderr(), /shutting down/);
  const store = await openSqliteStore({ path: db });
  t.after(() => store.close());
  for (const f of files) {
    const stored = await store.getCurrent('example.com/org/slow', f.role);
    assert.ok(stored !== undefined && Buffer.from(stored.bytes).equals(f.bytes), f.role);
  }
});

test('run: a bad setting stops it before anything is opened (SERVER_CONFIG naming the variable)', async (t) => {
  const dir = await tempDir(t);
  const r = runCli(['server', '--db', path.join(dir, 'x.db')], {
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex(), CNABSEC_SERVER_MAX_ROLE_SIZE: '1MB' },
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^cnabsec: error \[SERVER_CONFIG\]: CNABSEC_SERVER_MAX_ROLE_SIZE: "1MB" is not a size/,
  );
  assert.deepEqual(await readdir(dir), []);
});

test('run: a second signal exits at once, while an upload still holds the first shutdown', async (t) => {
  const dir = await tempDir(t);
  const s = await startServerProcess(t, ['--db', path.join(dir, 'server.db')], {
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex(), CNABSEC_SERVER_SHUTDOWN_GRACE: '1h' },
  });
  const { body, type } = await multipart(fullUpload(await developerRepo(t, 'example.com/org/held')));
  const req = http.request(`${s.url}/v2/example.com/org/held/_trust/tuf/`, {
    method: 'POST',
    headers: { 'content-type': type, 'content-length': body.length, expect: '100-continue' },
  });
  req.on('error', () => {}); // cut by the exit
  t.after(() => req.destroy());
  await new Promise((resolve) => req.once('continue', resolve));
  req.write(body.subarray(0, 100)); // and never the rest
  s.child.kill('SIGTERM');
  assert.equal(await untilRefused(s.url), 'ECONNREFUSED');
  s.child.kill('SIGTERM');
  assert.deepEqual(await s.exited, { code: 143, signal: null });
  assert.match(s.stderr(), /a second signal stops at once/);
});
