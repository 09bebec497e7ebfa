// The listener of `cnabsec server` (src/server/listener.ts): close() refuses new connections at
// once, lets a request in flight (a slow upload body) finish, ends keep-alive connections, and
// cuts only what is still open after the grace period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { connect } from 'node:net';
import { listen } from '../../dist/server/listener.js';

/** A handler that reads the whole body and answers its length; `arrived` resolves per request. */
function echoLength() {
  const waiting = [];
  const handler = (req, res) => {
    let n = 0;
    req.on('data', (d) => (n += d.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(String(n)));
    waiting.shift()?.();
  };
  const arrived = () => new Promise((resolve) => waiting.push(resolve));
  return { handler, arrived };
}

function request(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', ...options }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on('error', reject);
    request.last = req;
  });
}

function refusedConnection(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e) => resolve(e.code));
  });
}

test('listener: close() refuses new connections and lets the upload in flight finish', async (t) => {
  const { handler, arrived } = echoLength();
  const l = await listen(handler, { host: '127.0.0.1', port: 0 });
  t.after(() => l.close(0));
  assert.match(l.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const pending = request(`${l.url}/upload`, { agent, headers: { 'content-length': '10' } });
  const req = request.last;
  const here = arrived();
  req.write('12345');
  await here;
  assert.equal(l.inFlight(), 1);
  const closed = l.close(60_000);
  assert.equal(await refusedConnection(l.address.port), 'ECONNREFUSED');
  req.end('67890');
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(r.body, '10');
  assert.equal(r.headers.connection, 'close');
  assert.deepEqual(await closed, { cut: 0 });
  assert.equal(l.inFlight(), 0);
});

test('listener: a request still open after the grace period is cut and counted', async (t) => {
  const { handler, arrived } = echoLength();
  const l = await listen(handler, { host: '127.0.0.1', port: 0 });
  const pending = request(`${l.url}/upload`, { headers: { 'content-length': '10' } }).catch((e) => e);
  const req = request.last;
  const here = arrived();
  req.write('123');
  await here;
  t.after(() => req.destroy());
  assert.deepEqual(await l.close(20), { cut: 1 });
  const e = await pending;
  assert.ok(e instanceof Error, String(e));
});

test('listener: an address in use is SERVER_LISTEN_FAILED naming host:port', async (t) => {
  const first = await listen(() => {}, { host: '127.0.0.1', port: 0 });
  t.after(() => first.close(0));
  await assert.rejects(
    listen(() => {}, { host: '127.0.0.1', port: first.address.port }),
    (e) => {
      assert.equal(e.code, 'SERVER_LISTEN_FAILED');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${first.address.port}: EADDRINUSE`));
      return true;
    },
  );
});
