// Slow-loris (issue 15 item 5): a client that drips its headers, drips its body, or opens a
// connection and sends nothing is cut by the server's explicit time bounds (listener.ts
// TimeBounds: timeouts.headers, timeouts.request, timeouts.keepAlive), answered 408
// REQUEST_TIMEOUT in the error envelope when nothing was answered yet, and nothing is stored.
// Both listeners: `cnabsec server`'s (startServer → listener.ts, settings from the
// environment) and fastify's own (buildApp's `timeouts`, the test stack). Bounds are 1 s;
// the assertions allow 20 s, so no timing is asserted beyond "it ends".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as path from 'node:path';
import { loadServerConfig } from '../../../dist/server/config.js';
import { serverLogger, startServer } from '../../../dist/server/run.js';
import { startServerApp } from '../../helpers/server-app.js';
import { masterKeyHex } from '../../helpers/server-process.js';
import { tempDir } from '../../helpers/tmp.js';
import { NAME } from '../../helpers/sim.js';

const GENEROUS_MS = 20_000;
const UPLOAD_HEAD = (length) =>
  `POST /v2/${NAME}/_trust/tuf/ HTTP/1.1\r\nHost: x\r\n` +
  `Content-Type: multipart/form-data; boundary=b\r\nContent-Length: ${length}\r\n\r\n`;

/**
 * Open a connection to `port`, run `drip(write)` (it writes slowly until the socket closes),
 * and resolve with everything the server sent once it closed the connection; fails when the
 * server has not closed it within GENEROUS_MS.
 */
function slowClient(port, drip) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks = [];
    let closed = false;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept a slow connection open for ${GENEROUS_MS} ms`));
    }, GENEROUS_MS);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(guard);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('connect', async () => {
      const write = (s) => (closed ? false : socket.write(s));
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      await drip(write, sleep, () => closed);
    });
  });
}

const ATTACKS = {
  'headers dripped one byte every 300 ms': async (write, sleep, closed) => {
    const head = `GET /v2/${NAME}/_trust/tuf/root.json HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
    for (const ch of head) {
      if (closed()) return;
      write(ch);
      await sleep(300);
    }
  },
  'an upload body dripped one byte every 300 ms': async (write, sleep, closed) => {
    const body = `--b\r\nContent-Disposition: form-data; name="files"; filename="root"\r\n\r\n${'x'.repeat(500)}`;
    write(UPLOAD_HEAD(body.length + 100));
    for (const ch of body) {
      if (closed()) return;
      write(ch);
      await sleep(300);
    }
  },
  'a connection that sends nothing': async () => {},
};

/** The answer is a 408 REQUEST_TIMEOUT envelope, then the connection closed. */
function assertTimedOut(answer, name) {
  assert.match(answer, /^HTTP\/1\.1 408 /, `${name}: ${answer.slice(0, 200)}`);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.equal(body.errors[0].code, 'REQUEST_TIMEOUT', name);
  assert.match(body.errors[0].message, /timeouts\.headers/);
}

async function cnabsecServer(t) {
  const dir = await tempDir(t);
  const config = await loadServerConfig({
    flags: { listen: '127.0.0.1:0', db: path.join(dir, 'server.db') },
    env: {
      CNABSEC_SERVER_HEADERS_TIMEOUT: '1s',
      CNABSEC_SERVER_REQUEST_TIMEOUT: '2s',
      CNABSEC_SERVER_KEEP_ALIVE_TIMEOUT: '1s',
    },
  });
  assert.deepEqual(config.timeouts, { headersSeconds: 1, requestSeconds: 2, keepAliveSeconds: 1 });
  const s = await startServer(config, {
    logger: serverLogger('silent'),
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() },
  });
  t.after(() => s.close());
  return { port: s.address.port, stored: undefined };
}

async function fastifyServer(t) {
  const srv = await startServerApp(t, {
    app: { timeouts: { headersMs: 1000, requestMs: 2000, keepAliveMs: 1000 } },
  });
  return { port: srv.port, stored: () => srv.store.currentState(NAME) };
}

for (const [listener, start] of [
  ['cnabsec server (listener.ts)', cnabsecServer],
  ['fastify listen (buildApp timeouts)', fastifyServer],
])
  test(`slow-loris on ${listener}: dripped headers, a dripped body and a silent connection are each cut by the 1 s bounds`, async (t) => {
    const srv = await start(t);
    const answers = await Promise.all(
      Object.entries(ATTACKS).map(async ([name, drip]) => [name, await slowClient(srv.port, drip)]),
    );
    for (const [name, answer] of answers) assertTimedOut(answer, name);
    if (srv.stored !== undefined) assert.deepEqual(await srv.stored(), {});
    // an ordinary request still works afterwards
    const res = await fetch(`http://127.0.0.1:${srv.port}/healthz`);
    assert.equal(res.status, 200);
  });

test('slow-loris: an idle keep-alive connection is closed after timeouts.keepAlive', async (t) => {
  const srv = await cnabsecServer(t);
  const answer = await slowClient(srv.port, async (write) => {
    write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.equal(answer.match(/HTTP\/1\.1 /g).length, 1);
});

test('timeouts: a headers bound above the request bound is SERVER_CONFIG naming both', async () => {
  await assert.rejects(
    loadServerConfig({
      env: { CNABSEC_SERVER_HEADERS_TIMEOUT: '5m', CNABSEC_SERVER_REQUEST_TIMEOUT: '1m' },
    }),
    (e) => e.code === 'SERVER_CONFIG' && /timeouts\.headers .* timeouts\.request/.test(e.message),
  );
});
