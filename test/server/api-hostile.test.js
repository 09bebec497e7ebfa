// The metadata repository as an attacker (or a careless client) meets it: the real stack
// (test/helpers/server-app.js) over HTTP. Each test here was a bug of the merged server (the
// commit that adds it says what was wrong), except those named "withstood:", attacks it held
// against as merged. Path tricks (encoded and double-encoded `..`, NUL, overlong names, repository
// names holding `_trust`) are app-listen.test.js's and app.test.js's.
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { ServerError } from '../../dist/server/errors.js';
import { NAME } from '../helpers/sim.js';
import { forge, roleSigners, stateOf } from '../helpers/upload.js';
import { addBundleUpload, fullUpload, serverManagedRepo } from '../helpers/service.js';
import { httpUpload, startServerApp, trustBase } from '../helpers/server-app.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');
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

test('an upload whose timestamp key another process retired while it signed is 409 VERSION_CONFLICT, not 500', async (t) => {
  const a = await startServerApp(t);
  const sim = await serverManagedRepo(t, asServer(a), { now: a.now() });
  assert.equal((await httpUpload(a.url, NAME, fullUpload(sim))).status, 200);
  const v1 = stateOf(sim);
  const next = await addBundleUpload(sim, 'v1', ['timestamp'], a.now());

  // process B: its upload has read the state (root v1 lists K) and waits before it signs
  const b = await startServerApp(t, { dir: a.dir, master: a.master, now: a.now });
  let reached;
  const atSigner = new Promise((resolve) => (reached = resolve));
  let open;
  const gate = new Promise((resolve) => (open = resolve));
  const realSigner = b.keys.signer.bind(b.keys);
  b.keys.signer = async (...args) => {
    reached();
    await gate;
    return realSigner(...args);
  };
  const stale = httpUpload(b.url, NAME, next);
  await atSigner;

  // process A: the owner rotates the timestamp key (root v2 lists K2 only); K is retired
  const posted = await fetch(`${trustBase(a.url, NAME)}/timestamp.key`, { method: 'POST' });
  const k2 = await posted.json();
  const k2id = posted.headers.get('x-cnabsec-keyid');
  const root2 = await forge(
    v1.root,
    (s) => {
      const old = s.roles.timestamp.keyids[0];
      delete s.keys[old];
      s.keys[k2id] = k2;
      s.roles.timestamp.keyids = [k2id];
      s.version = 2;
    },
    roleSigners(sim, 'root'),
  );
  const up = await httpUpload(a.url, NAME, [{ role: 'root', bytes: root2 }]);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  const after = await a.store.currentState(NAME);

  open();
  const r = await stale;
  assert.equal(r.status, 409, JSON.stringify(r.json));
  assert.equal(r.json.errors[0].code, 'VERSION_CONFLICT');
  assert.deepEqual(await a.store.currentState(NAME), after, 'the stale upload stored nothing');
});

test("a root listing the server's timestamp key as its snapshot key does not make snapshot server-held (400, not 500)", async (t) => {
  const srv = await startServerApp(t);
  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  assert.equal((await httpUpload(srv.url, NAME, fullUpload(sim))).status, 200);
  const before = await srv.store.currentState(NAME);
  const root2 = await forge(
    stateOf(sim).root,
    (s) => {
      s.roles.snapshot.keyids = [s.roles.timestamp.keyids[0]];
      s.version = 2;
    },
    roleSigners(sim, 'root'),
  );
  const r = await httpUpload(srv.url, NAME, [{ role: 'root', bytes: root2 }]);
  assert.equal(r.status, 400, JSON.stringify(r.json));
  const [e] = r.json.errors;
  assert.deepEqual(
    [e.code, e.detail.code, e.detail.role, e.detail.rule],
    ['UPLOAD_REFUSED', 'BAD_HIERARCHY', 'snapshot', 'snapshot-not-server-held'],
  );
  assert.deepEqual(await srv.store.currentState(NAME), before);
});

test('an accepted upload whose key activation fails after the commit is still answered 200 (it is stored); the key states are repaired later', async (t) => {
  const failures = [];
  const srv = await startServerApp(t, {
    service: { events: { activationFailed: (repo, e) => failures.push([repo, e.code]) } },
  });
  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  const activate = srv.keys.activate;
  srv.keys.activate = async () => {
    throw new ServerError('STORE_BUSY', 'the key table is locked');
  };
  const r = await httpUpload(srv.url, NAME, fullUpload(sim));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((await srv.store.getCurrent(NAME, 'timestamp')).version, 1);
  assert.deepEqual(failures, [[NAME, 'STORE_BUSY']]);
  srv.keys.activate = activate;
  const key = await (await fetch(`${trustBase(srv.url, NAME)}/timestamp.key`)).json();
  const listed = sim.repo.root.signed.roles.timestamp.keyIDs;
  assert.deepEqual(
    (await srv.keys.list(NAME, 'timestamp')).map((k) => [k.keyid, k.state]),
    [[listed[0], 'active']],
  );
  assert.deepEqual(key, sim.repo.root.signed.keys[listed[0]].toJSON());
});

test('withstood: concurrent uploads of competing next versions over HTTP: exactly one wins, the others are refused, no half state', async (t) => {
  const srv = await startServerApp(t);
  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  assert.equal((await httpUpload(srv.url, NAME, fullUpload(sim))).status, 200);
  const base = stateOf(sim);
  // five maintainers each sign a different release v2 from the same state
  const uploads = [];
  for (let i = 0; i < 5; i++) {
    const content = Buffer.from(`bundle r${i}`);
    const targets = await forge(
      base.targets,
      (s) => {
        s.version += 1;
        s.targets[`${NAME}:r${i}`] = { length: content.length, hashes: { sha256: sha(content) } };
      },
      roleSigners(sim, 'targets'),
    );
    const snapshot = await forge(
      base.snapshot,
      (s) => {
        s.version += 1;
        const meta = s.meta['targets.json'];
        meta.version += 1;
        if (meta.length !== undefined) meta.length = targets.length;
        if (meta.hashes !== undefined) meta.hashes = { sha256: sha(targets) };
      },
      roleSigners(sim, 'snapshot'),
    );
    uploads.push([
      { role: 'targets', bytes: targets },
      { role: 'snapshot', bytes: snapshot },
    ]);
  }
  const results = await Promise.all(uploads.map((u) => httpUpload(srv.url, NAME, u)));
  const won = results.filter((r) => r.status === 200);
  assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results.filter((x) => x.status !== 200)) {
    assert.ok([400, 409].includes(r.status), JSON.stringify(r.json));
    assert.ok(['UPLOAD_REFUSED', 'VERSION_CONFLICT'].includes(r.json.errors[0].code));
  }
  // what is current is one upload's roles and the timestamp the server signed over them
  const state = await srv.store.currentState(NAME);
  const winner = uploads[results.indexOf(won[0])];
  for (const p of winner) assert.ok(Buffer.from(state[p.role]).equals(p.bytes), p.role);
  const ts = JSON.parse(Buffer.from(state.timestamp).toString('utf8'));
  assert.equal(ts.signed.version, 2);
  assert.equal(
    ts.signed.meta['snapshot.json'].hashes.sha256,
    (await srv.store.getCurrent(NAME, 'snapshot')).sha256,
  );
});
