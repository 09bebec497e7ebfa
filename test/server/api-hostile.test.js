// The metadata repository as an attacker (or a careless client) meets it: the real stack
// (test/helpers/server-app.js) over HTTP. Each test here was a bug of the merged server; the
// commit that adds it says what was wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME } from '../helpers/sim.js';
import { fullUpload, serverManagedRepo } from '../helpers/service.js';
import { httpUpload, startServerApp, trustBase } from '../helpers/server-app.js';

const asServer = (srv) => ({ service: srv.service, keys: srv.keys, now: srv.now });

/** POST a raw multipart body (boundary `b`). */
async function postRaw(srv, repo, body) {
  const res = await fetch(`${trustBase(srv.url, repo)}/`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  });
  return { status: res.status, json: await res.json() };
}

test('a file part without a file name (busboy: a file because of its Content-Type) is 400 BAD_REQUEST, not 500', async (t) => {
  const srv = await startServerApp(t);
  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  assert.equal((await httpUpload(srv.url, NAME, fullUpload(sim))).status, 200);
  const before = await srv.store.currentState(NAME);
  for (const field of ['target', 'files']) {
    // what FormData sends for append(field, blob, ''): no filename parameter at all
    const body = `--b\r\nContent-Disposition: form-data; name="${field}"\r\nContent-Type: application/octet-stream\r\n\r\n{}\r\n--b--\r\n`;
    const r = await postRaw(srv, NAME, body);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    const [e] = r.json.errors;
    assert.equal(e.code, 'BAD_REQUEST', e.message);
    assert.equal(e.detail.part, 'filename', e.message);
    assert.match(e.message, new RegExp(`${field} part has no file name`));
  }
  assert.deepEqual(await srv.store.currentState(NAME), before);
});
