// The HTTP app on a real socket (127.0.0.1, port 0) with fetch and node:http: an upload as a
// client sends it, GET/HEAD/304, request ids and Authorization over the wire, a raw `..` path
// (fetch and inject normalize it away), an unknown route and a malformed HTTP request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { startApp, TRUST } from '../helpers/app.js';
import { NAME, Sim } from '../helpers/sim.js';
import { stateOf } from '../helpers/upload.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** GET `path` without URL normalization (node:http sends it as written). */
function rawGet(port, path) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function rawSocket(port, text) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

test('a listening server: upload with fetch, read back, HEAD, 304, errors, ids, auth', async (t) => {
  const { app } = await startApp(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address();
  const base = `http://127.0.0.1:${port}`;

  const sim = await Sim.create(t);
  const state = stateOf(sim);
  const fd = new FormData();
  for (const [role, bytes] of Object.entries(state)) fd.append('files', new Blob([bytes]), `${role}.json`);
  const up = await fetch(`${base}${TRUST(NAME)}`, {
    method: 'POST',
    body: fd,
    headers: { authorization: 'Bearer dev-token', 'x-request-id': 'up-1' },
  });
  assert.equal(up.status, 200, await up.clone().text());
  assert.equal(up.headers.get('x-request-id'), 'up-1');
  assert.equal((await up.json()).stored.length, 4);

  const url = `${base}${TRUST(NAME)}root.json`;
  const got = await fetch(url);
  assert.equal(got.status, 200);
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(state.root));
  assert.equal(got.headers.get('etag'), `"${sha(state.root)}"`);
  assert.equal(got.headers.get('cache-control'), 'public, max-age=300');
  const head = await fetch(url, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(state.root.length));
  const cached = await fetch(url, { headers: { 'if-none-match': got.headers.get('etag') } });
  assert.equal(cached.status, 304);
  const versioned = await fetch(`${base}${TRUST(NAME)}1.snapshot.json`);
  assert.equal(versioned.headers.get('cache-control'), 'public, max-age=2592000, immutable');
  await versioned.arrayBuffer();

  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).errors[0].code, 'NOT_FOUND');
  const badAuth = await fetch(url, { headers: { authorization: 'Basic abc' } });
  assert.equal(badAuth.status, 401);
  assert.equal(badAuth.headers.get('www-authenticate'), 'Bearer realm="cnabsec"');
  assert.equal((await badAuth.json()).errors[0].code, 'UNAUTHORIZED');

  // `..` as sent on the wire, in the repository and in a target path
  for (const path of [`/v2/example.com/../etc/_trust/tuf/root.json`, `${TRUST(NAME)}targets/a/../b`]) {
    const r = await rawGet(port, path);
    assert.equal(r.status, 400, path);
    assert.equal(JSON.parse(r.body).errors[0].code, 'BAD_REQUEST');
  }
  // a request node cannot parse is answered in the envelope too
  const raw = await rawSocket(port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 400/);
  assert.match(raw, /"code":"BAD_REQUEST"/);
});

test('a listening server: an upload above the limits is answered 413 without reading it all', async (t) => {
  const { app } = await startApp(t, {
    limits: { role: 1000, targets: 1000, targetFile: 1000 },
    bodyLimit: 1 << 20,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  for (const size of [4 << 20, 200 << 10]) {
    // 4 MiB: above the body limit (refused on Content-Length); 200 KiB: above the part limit (cut while reading)
    const fd = new FormData();
    fd.append('files', new Blob([Buffer.alloc(size, 0x61)]), 'root');
    const res = await fetch(`${base}${TRUST(NAME)}`, { method: 'POST', body: fd }).catch((e) => e);
    if (res instanceof Error) {
      // the server may close before the client finished sending; that is a refusal too
      assert.match(
        String(res.cause?.code ?? res.message),
        /EPIPE|ECONNRESET|UND_ERR_SOCKET|other side closed/,
      );
      continue;
    }
    assert.equal(res.status, 413);
    assert.equal((await res.json()).errors[0].code, 'TOO_LARGE');
  }
  const ok = await fetch(`${base}/healthz`);
  assert.equal(ok.status, 200);
});
