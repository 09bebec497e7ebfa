// Every refusal family of an upload (ADR 0019, src/server/errors.ts UploadRefusalCode) over
// real HTTP against the real stack (test/helpers/server-app.js), and a lost race between two
// server processes on one database (409 VERSION_CONFLICT): each answers the error envelope with
// the refusal (code, role, version, rule) and leaves the stored state and every served file
// byte-identical. validate*.test.js proves each rule on validateUpload alone; this proves the
// HTTP layer carries them and the store commits nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { NAME, newSigners } from '../helpers/sim.js';
import { LAYOUT, forge, part, roleSigners, stateOf } from '../helpers/upload.js';
import { addBundleUpload, fullUpload, parseJson, serverManagedRepo } from '../helpers/service.js';
import { httpUpload, startServerApp, trustBase } from '../helpers/server-app.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const LAYOUT_BYTES = Buffer.from('{"_type":"layout","steps":[]}');
const asServer = (srv) => ({ service: srv.service, keys: srv.keys, now: srv.now });

/** Status and sha256 of every file a client could ask for (current, each version and one more, targets). */
async function servedFiles(srv) {
  const base = trustBase(srv.url, NAME);
  const state = await srv.store.currentState(NAME);
  const names = ['root.json', '1.root.json', 'timestamp.key', `targets/${LAYOUT}`];
  const dir = LAYOUT.slice(0, LAYOUT.lastIndexOf('/'));
  names.push(`targets/${dir}/${sha(LAYOUT_BYTES)}.root.layout`);
  for (const [role, bytes] of Object.entries(state)) {
    const enc = encodeURIComponent(role);
    const v = parseJson(bytes).signed.version;
    names.push(`${enc}.json`, `${enc}.${sha(bytes)}.json`);
    for (let n = 1; n <= v + 1; n++) names.push(`${n}.${enc}.json`);
  }
  const out = {};
  for (const name of names) {
    const res = await fetch(`${base}/${name}`);
    const body = Buffer.from(await res.arrayBuffer());
    out[name] = `${res.status} ${sha(body)}`;
  }
  return { state, out };
}

/** The upload is refused over HTTP with `code`/`role`/`rule` and nothing served changed. */
async function assertRefusedOverHttp(srv, files, { status = 400, code, role, rule, version }) {
  const before = await servedFiles(srv);
  const res = await httpUpload(srv.url, NAME, files);
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.deepEqual(Object.keys(res.json), ['errors']);
  const [e] = res.json.errors;
  if (status === 400) {
    assert.equal(e.code, 'UPLOAD_REFUSED', e.message);
    assert.equal(e.detail.code, code, e.message);
    assert.equal(e.detail.role, role, e.message);
    if (rule !== undefined) assert.equal(e.detail.rule, rule, e.message);
    if (version !== undefined) assert.equal(e.detail.version, version, e.message);
    assert.equal(typeof e.detail.rule, 'string');
    assert.equal(e.detail.message, e.message);
  } else assert.equal(e.code, code, e.message);
  assert.doesNotMatch(e.message, /\n/);
  const after = await servedFiles(srv);
  assert.deepEqual(after.state, before.state, `${code}: the stored state changed`);
  assert.deepEqual(after.out, before.out, `${code}: a served file changed`);
  return e;
}

/** A server-managed-timestamp repository with one accepted upload (a layout), and the next release. */
async function published(t, options = {}) {
  const srv = await startServerApp(t, options);
  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  sim.addFile(LAYOUT, LAYOUT_BYTES);
  await sim.publish({ now: srv.now() });
  const first = fullUpload(sim);
  const up = await httpUpload(srv.url, NAME, [...first, { path: LAYOUT, bytes: LAYOUT_BYTES }]);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  const next = await addBundleUpload(sim, 'v1', ['timestamp'], srv.now());
  return { srv, sim, first, next };
}

const replace = (files, role, bytes) => files.map((p) => (p.role === role ? { role, bytes } : p));

test('every refusal family over HTTP: the envelope with code/role/version/rule, nothing stored or served changed', async (t) => {
  const { srv, sim, first, next } = await published(t, { service: { limits: { role: 64 << 10 } } });
  const state = stateOf(sim);
  const targets = part(next, 'targets');
  const tv = parseJson(targets.bytes).signed.version;

  const [stranger] = newSigners(1);
  const root2 = await forge(state.root, (s) => (s.version = 2), [stranger]);
  await assertRefusedOverHttp(srv, [{ role: 'root', bytes: root2 }], {
    code: 'BAD_ROOT',
    role: 'root',
    version: 2,
  });

  const edited = parseJson(targets.bytes);
  edited.signed.targets[`${NAME}:evil`] = { length: 1, hashes: { sha256: 'ab'.repeat(32) } };
  await assertRefusedOverHttp(srv, replace(next, 'targets', Buffer.from(JSON.stringify(edited))), {
    code: 'BAD_TARGETS',
    role: 'targets',
    version: tv,
    rule: 'threshold',
  });

  const snap = await forge(
    part(next, 'snapshot').bytes,
    (s) => (s.meta['targets.json'].version = 99),
    roleSigners(sim, 'snapshot'),
  );
  await assertRefusedOverHttp(srv, replace(next, 'snapshot', snap), {
    code: 'BAD_SNAPSHOT',
    role: 'snapshot',
    rule: 'snapshot-meta',
  });

  const tsKey = sim.repo.root.signed.roles.timestamp.keyIDs[0];
  const tsSigner = await srv.keys.signer(NAME, 'timestamp', tsKey);
  const ts = await forge(state.timestamp, (s) => (s.meta['snapshot.json'].version = 9), [tsSigner]);
  await assertRefusedOverHttp(srv, [...next, { role: 'timestamp', bytes: ts }], {
    code: 'BAD_TIMESTAMP',
    role: 'timestamp',
  });

  await assertRefusedOverHttp(srv, [targets], {
    code: 'BAD_HIERARCHY',
    role: 'snapshot',
    rule: 'snapshot-not-server-held',
  });
  await assertRefusedOverHttp(srv, [...next, { role: 'targets/nobody', bytes: targets.bytes }], {
    code: 'BAD_HIERARCHY',
    role: 'targets/nobody',
  });

  // a version below the stored one is OLD_VERSION; the stored version again is a lost race (409)
  await assertRefusedOverHttp(srv, [{ role: 'targets', bytes: sim.file('1.targets.json') }], {
    code: 'OLD_VERSION',
    role: 'targets',
    version: 1,
  });
  await assertRefusedOverHttp(srv, first, { status: 409, code: 'VERSION_CONFLICT' });

  await assertRefusedOverHttp(
    srv,
    [...next, { path: `${NAME}/in-toto-metadata/other.link`, bytes: Buffer.from('x') }],
    {
      code: 'BAD_TARGET_FILE',
      role: `${NAME}/in-toto-metadata/other.link`,
      rule: 'not-listed',
    },
  );
  await assertRefusedOverHttp(
    srv,
    [...next, { path: LAYOUT, bytes: Buffer.from('{"_type":"LAYOUT","steps":[]}') }],
    {
      code: 'BAD_TARGET_FILE',
      role: LAYOUT,
      rule: 'sha256',
    },
  );

  await assertRefusedOverHttp(srv, replace(next, 'snapshot', Buffer.from('{not json')), {
    code: 'MALFORMED',
    role: 'snapshot',
  });
  await assertRefusedOverHttp(srv, [...next, targets], {
    code: 'MALFORMED',
    role: 'targets',
    rule: 'duplicate-part',
  });

  // a role part above its limit is cut while it is read: 413 TOO_LARGE naming the part
  const big = Buffer.alloc((64 << 10) + 1, 0x20);
  const e = await assertRefusedOverHttp(srv, replace(next, 'snapshot', big), {
    status: 413,
    code: 'TOO_LARGE',
  });
  assert.equal(e.detail.part, 'snapshot');

  // and after all of them the next release is still accepted as it was
  const ok = await httpUpload(srv.url, NAME, next);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));

  // EXPIRED: 40 days on, the next targets (30 days) has expired
  const later = await addBundleUpload(sim, 'v2', ['timestamp'], srv.now());
  srv.now.advance(40 * 86_400);
  await assertRefusedOverHttp(srv, later, {
    code: 'EXPIRED',
    role: 'targets',
    rule: 'expires',
    version: tv + 1,
  });
});

test('two server processes on one database, one upload each: one wins, the other is 409 VERSION_CONFLICT and stores nothing', async (t) => {
  const { srv, next } = await published(t);
  let reached;
  const atGate = new Promise((resolve) => (reached = resolve));
  let open;
  const gate = new Promise((resolve) => (open = resolve));
  // process B: its transaction reads and signs, then waits (before its commit) until A has won
  const wrapStore = (store) =>
    new Proxy(store, {
      get(target, prop) {
        if (prop === 'transact')
          return (repo, work) =>
            target.transact(repo, async (tx) => {
              const value = await work(tx);
              reached();
              await gate;
              return value;
            });
        const v = target[prop];
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  const b = await startServerApp(t, { dir: srv.dir, master: srv.master, now: srv.now, wrapStore });
  const lost = httpUpload(b.url, NAME, next);
  await atGate;
  const won = await httpUpload(srv.url, NAME, next);
  assert.equal(won.status, 200, JSON.stringify(won.json));
  const before = await servedFiles(srv);
  open();
  const res = await lost;
  assert.equal(res.status, 409, JSON.stringify(res.json));
  assert.equal(res.json.errors[0].code, 'VERSION_CONFLICT');
  assert.doesNotMatch(res.json.errors[0].message, /\n/);
  const after = await servedFiles(srv);
  assert.deepEqual(after, before, 'the lost upload changed nothing');
  assert.equal((await srv.store.getCurrent(NAME, 'timestamp')).version, 2);
});
