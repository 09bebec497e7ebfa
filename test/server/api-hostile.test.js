// The metadata repository as an attacker (or a careless client) meets it: the real stack
// (test/helpers/server-app.js) over HTTP. Each test here was a bug of the merged server; the
// commit that adds it says what was wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME } from '../helpers/sim.js';
import { addBundleUpload, fullUpload, serverManagedRepo } from '../helpers/service.js';
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

/** `obj.deleteRepo` held after it ran until `open()`; `ran` resolves when it did. */
function holdAfter(obj) {
  let done;
  const ran = new Promise((resolve) => (done = resolve));
  let open;
  const gate = new Promise((resolve) => (open = resolve));
  const real = obj.deleteRepo.bind(obj);
  obj.deleteRepo = async (repo) => {
    const r = await real(repo);
    done();
    await gate;
    return r;
  };
  return { ran, open };
}

/** The service's upload observer: the next upload's outcome ('accepted' or the refusal code). */
function outcomes() {
  let decide = () => {};
  return {
    events: { uploadAccepted: () => decide('accepted'), uploadRefused: (_r, why) => decide(why) },
    next: () => new Promise((resolve) => (decide = resolve)),
  };
}

for (const held of ['store', 'keys'])
  test(`DELETE racing an upload (held after its ${held} step) never leaves metadata whose server-held keys are gone`, async (t) => {
    const seen = outcomes();
    const srv = await startServerApp(t, { service: { events: seen.events } });
    const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
    const first = fullUpload(sim);
    assert.equal((await httpUpload(srv.url, NAME, first)).status, 200);
    const next = await addBundleUpload(sim, 'v1', ['timestamp'], srv.now());
    // the DELETE stops between its steps; meanwhile the owner re-creates the repository (root
    // v1 listing the timestamp key the server held) or uploads the next release
    const hold = holdAfter(held === 'store' ? srv.store : srv.keys);
    const del = fetch(`${trustBase(srv.url, NAME)}/`, { method: 'DELETE' });
    await hold.ran;
    const decided = seen.next();
    const raced = httpUpload(srv.url, NAME, held === 'store' ? first : next);
    await decided;
    hold.open();
    assert.equal((await del).status, 200);
    const r = await raced;
    assert.ok([200, 400].includes(r.status), JSON.stringify(r.json));
    const root = await srv.store.getCurrent(NAME, 'root');
    if (root === undefined) {
      assert.deepEqual(await srv.store.currentState(NAME), {});
      return;
    }
    // the repository exists: the server still holds the timestamp key its root lists
    const listed = JSON.parse(Buffer.from(root.bytes).toString('utf8')).signed.roles.timestamp.keyids;
    const key = await srv.service.publicKey(NAME, 'timestamp');
    assert.ok(listed.includes(key.keyid), 'GET timestamp.key answers a key the root does not list');
    const refreshed = await srv.service.refresh(NAME, { force: true });
    assert.deepEqual(
      refreshed.signed.map((s) => s.role),
      ['timestamp'],
    );
  });
