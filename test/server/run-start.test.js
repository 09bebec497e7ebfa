// startServer in this process (src/server/run.ts): JSON request logs with a request id and no
// Authorization header, an idempotent close that refuses new connections, the master key
// loaded before anything is opened, --no-online-keys, and TLS files that cannot be used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { loadServerConfig } from '../../dist/server/config.js';
import { serverLogger, startServer } from '../../dist/server/run.js';
import { tempDir } from '../helpers/tmp.js';
import { masterKeyHex } from '../helpers/server-process.js';

function capture() {
  const lines = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      );
      done();
    },
  });
  return { lines, logger: serverLogger('info', stream) };
}

async function config(dir, flags = {}) {
  return loadServerConfig({
    flags: { listen: '127.0.0.1:0', db: path.join(dir, 'server.db'), ...flags },
    env: {},
  });
}

test('startServer: request logs with a request id and without the token; close() is idempotent', async (t) => {
  const dir = await tempDir(t);
  const { lines, logger } = capture();
  const s = await startServer(await config(dir), {
    logger,
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() },
  });
  t.after(() => s.close());
  const r = await fetch(`${s.url}/v2/`, {
    headers: { authorization: 'Bearer s3cret-token', 'x-request-id': 'abc-1' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-request-id'), 'abc-1');
  const key = await fetch(`${s.url}/v2/example.com/org/app/_trust/tuf/timestamp.key`);
  assert.equal(key.status, 200);
  assert.equal((await key.json()).keytype, 'ed25519');
  const closing = s.close();
  assert.equal(s.close(), closing);
  await closing;
  await assert.rejects(fetch(`${s.url}/v2/`), /fetch failed/);
  const text = JSON.stringify(lines);
  assert.ok(!text.includes('s3cret-token'), text);
  assert.ok(
    lines.some((l) => l.reqId === 'abc-1' && l.status === 200),
    text,
  );
  assert.deepEqual(
    lines.filter((l) => l.reqId === undefined).map((l) => l.msg),
    ['listening', 'shutting down: no new connections, finishing requests in flight', 'stopped'],
  );
});

test('startServer: --no-online-keys needs no master key and holds no keys', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(await config(dir, { onlineKeys: false }), {
    logger: capture().logger,
    env: {},
  });
  t.after(() => s.close());
  const key = await fetch(`${s.url}/v2/example.com/org/app/_trust/tuf/timestamp.key`);
  assert.notEqual(key.status, 200);
  assert.equal((await key.json()).errors[0].code, 'ONLINE_KEYS_DISABLED');
});

test('startServer: the master key comes first: missing or unsafe, nothing is created', async (t) => {
  const dir = await tempDir(t);
  const opts = { logger: capture().logger, env: {} };
  await assert.rejects(startServer(await config(dir), opts), (e) => {
    assert.equal(e.code, 'MASTER_KEY_MISSING');
    assert.match(e.hint, /--no-online-keys/);
    return true;
  });
  const file = path.join(dir, 'master.key');
  await writeFile(file, masterKeyHex(), { mode: 0o644 });
  await assert.rejects(startServer(await config(dir, { masterKeyFile: file }), opts), {
    code: 'MASTER_KEY_UNSAFE',
  });
  assert.deepEqual(await readdir(dir), ['master.key']);
});

test('startServer: TLS files that cannot be read or used are SERVER_TLS naming them', async (t) => {
  const dir = await tempDir(t);
  const opts = { logger: capture().logger, env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() } };
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await assert.rejects(startServer(await config(dir, { tlsCert: cert, tlsKey: key }), opts), (e) => {
    assert.equal(e.code, 'SERVER_TLS');
    assert.ok(e.message.startsWith(`${cert}: cannot read the TLS certificate`), e.message);
    return true;
  });
  await writeFile(cert, 'not a certificate\n');
  await writeFile(key, 'not a key\n');
  await assert.rejects(startServer(await config(dir, { tlsCert: cert, tlsKey: key }), opts), (e) => {
    assert.equal(e.code, 'SERVER_TLS');
    assert.ok(e.message.startsWith(`${cert}, ${key}: not a usable certificate and key`), e.message);
    assert.ok(!e.message.includes('\n'), e.message);
    return true;
  });
});

test('startServer: a request that is not HTTP gets the JSON error envelope, 400', async (t) => {
  const dir = await tempDir(t);
  const s = await startServer(await config(dir, { onlineKeys: false }), {
    logger: capture().logger,
    env: {},
  });
  t.after(() => s.close());
  const answer = await new Promise((resolve, reject) => {
    const c = connect(s.address.port, '127.0.0.1');
    let text = '';
    c.on('data', (d) => (text += d));
    c.on('end', () => resolve(text));
    c.on('error', reject);
    c.write('NOT HTTP AT ALL\r\n\r\n');
  });
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const body = JSON.parse(answer.split('\r\n\r\n')[1]);
  assert.equal(body.errors[0].code, 'BAD_REQUEST');
});

test('startServer: restarted with its master key it keeps its keys; with another one it refuses to start', async (t) => {
  const dir = await tempDir(t);
  const k1 = { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() };
  const keyOf = async (s) =>
    (await fetch(`${s.url}/v2/example.com/org/app/_trust/tuf/timestamp.key`)).headers.get('x-cnabsec-keyid');
  const first = await startServer(await config(dir), { logger: capture().logger, env: k1 });
  const keyid = await keyOf(first);
  await first.close();
  const again = await startServer(await config(dir), { logger: capture().logger, env: k1 });
  assert.equal(await keyOf(again), keyid);
  await again.close();
  await assert.rejects(
    startServer(await config(dir), {
      logger: capture().logger,
      env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() },
    }),
    (e) => {
      assert.equal(e.code, 'KEK_UNKNOWN');
      assert.match(
        e.message,
        /server\.db: its online keys are sealed under master key [0-9a-f]{8}, not under the one given/,
      );
      return true;
    },
  );
  // nothing was left open: the first key still works
  const last = await startServer(await config(dir), { logger: capture().logger, env: k1 });
  t.after(() => last.close());
  assert.equal(await keyOf(last), keyid);
});
