// Tokens and scopes over real HTTP (issue 15 item 3, ADR 0032): the real stack
// (test/helpers/server-app.js) with tokenAuthenticator on the SQLite token table of its own
// database. Wrong or missing token 401 with WWW-Authenticate, valid token outside its scope or
// patterns 403, neither revealing whether the repository exists; `example.com/acme/*` never
// writes, deletes or rotates `example.com/acme-evil/x`; a revocation holds at the next request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tokenAuthenticator } from '../../dist/server/auth.js';
import { SqliteTokenStore } from '../../dist/server/sqlite-token-store.js';
import { createToken, revokeToken } from '../../dist/server/tokens-admin.js';
import { fullUpload, serverManagedRepo } from '../helpers/service.js';
import { startServerApp, trustBase, uploadForm } from '../helpers/server-app.js';
import { tempDir } from '../helpers/tmp.js';

const ACME = 'example.com/acme/app';
const EVIL = 'example.com/acme-evil/x';
const PUBLIC = 'example.com/public/app';

/** A server with tokens on its own database; `tokens` created before it starts. */
async function tokenServer(t, { anonymousRead = [], now } = {}) {
  const dir = await tempDir(t, 'cnabsec-auth-');
  const tokens = SqliteTokenStore.open({ path: path.join(dir, 'trust.db') });
  t.after(() => tokens.close());
  const srv = await startServerApp(t, {
    dir,
    ...(now === undefined ? {} : { now }),
    app: {
      authenticator: tokenAuthenticator(tokens, { anonymousRead, ...(now === undefined ? {} : { now }) }),
    },
  });
  const mint = async (scope, patterns, more = {}) =>
    (await createToken(tokens, { scope, patterns, now: srv.now(), ...more })).token;
  return { srv, tokens, mint };
}

const auth = (token) => (token === undefined ? {} : { authorization: `Bearer ${token}` });

async function call(url, { method = 'GET', token, body } = {}) {
  const res = await fetch(url, { method, headers: auth(token), ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, text, json: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

/** The parts of a first upload of repository `name` (server-managed timestamp). */
async function firstUpload(t, srv, name) {
  return fullUpload(await serverManagedRepo(t, srv, { name }));
}

const upload = (srv, name, parts, token) =>
  call(`${trustBase(srv.url, name)}/`, { method: 'POST', token, body: uploadForm(parts) });

function assertRefused(r, status, code, token) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.errors[0].code, code, r.text);
  if (status === 401) assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="cnabsec"');
  else assert.equal(r.headers.get('www-authenticate'), null);
  if (token !== undefined) assert.ok(!r.text.includes(token), 'the token is not echoed');
}

test('upload: write token on example.com/acme/* publishes acme/app, never acme-evil/x; read token 403; none 401', async (t) => {
  const { srv, mint } = await tokenServer(t);
  const write = await mint('write', ['example.com/acme/*']);
  const read = await mint('read', ['example.com/acme/*']);
  const evilParts = await firstUpload(t, srv, EVIL);
  assertRefused(await upload(srv, EVIL, evilParts, write), 403, 'FORBIDDEN', write);
  assertRefused(await upload(srv, EVIL, evilParts), 401, 'UNAUTHORIZED');
  assert.equal(await srv.store.getCurrent(EVIL, 'root'), undefined, 'nothing stored');
  const parts = await firstUpload(t, srv, ACME);
  assertRefused(await upload(srv, ACME, parts, read), 403, 'FORBIDDEN', read);
  assertRefused(await upload(srv, ACME, parts, 'cnabsec_' + 'A'.repeat(43)), 401, 'UNAUTHORIZED');
  assertRefused(await upload(srv, ACME, parts, 'not-a-cnabsec-token'), 401, 'UNAUTHORIZED');
  assert.equal(await srv.store.getCurrent(ACME, 'root'), undefined, 'nothing stored');
  const ok = await upload(srv, ACME, parts, write);
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await srv.store.getCurrent(ACME, 'root')).version, 1);
  // reading: the read token reads, the write token too, nobody else
  assert.equal((await call(`${trustBase(srv.url, ACME)}/root.json`, { token: read })).status, 200);
  assert.equal((await call(`${trustBase(srv.url, ACME)}/root.json`, { token: write })).status, 200);
  assertRefused(await call(`${trustBase(srv.url, ACME)}/root.json`), 401, 'UNAUTHORIZED');
});

test('delete and key rotation need admin on the repository: acme/* admin never touches acme-evil/x', async (t) => {
  const { srv, mint } = await tokenServer(t);
  const adminAll = await mint('admin', ['*']);
  const admin = await mint('admin', ['example.com/acme/*']);
  const write = await mint('write', ['*']);
  for (const name of [ACME, EVIL]) {
    const r = await upload(srv, name, await firstUpload(t, srv, name), adminAll);
    assert.equal(r.status, 200, r.text);
  }
  for (const role of ['timestamp', 'snapshot']) {
    const key = `${trustBase(srv.url, EVIL)}/${role}.key`;
    assertRefused(await call(key, { method: 'POST', token: admin }), 403, 'FORBIDDEN', admin);
    assertRefused(await call(key, { method: 'POST', token: write }), 403, 'FORBIDDEN', write);
    assertRefused(await call(key, { method: 'POST' }), 401, 'UNAUTHORIZED');
    // GET of a key creates one when missing: a write (notary: push)
    assert.equal((await call(key, { token: write })).status, 200);
  }
  const pendingBefore = await srv.keys.list(EVIL, 'timestamp');
  const evilBase = `${trustBase(srv.url, EVIL)}/`;
  assertRefused(await call(evilBase, { method: 'DELETE', token: admin }), 403, 'FORBIDDEN', admin);
  assertRefused(await call(evilBase, { method: 'DELETE', token: write }), 403, 'FORBIDDEN', write);
  assert.equal((await srv.store.getCurrent(EVIL, 'root')).version, 1, 'still there');
  assert.deepEqual(await srv.keys.list(EVIL, 'timestamp'), pendingBefore, 'no key rotated');
  const rotated = await call(`${trustBase(srv.url, ACME)}/timestamp.key`, { method: 'POST', token: admin });
  assert.equal(rotated.status, 200, rotated.text);
  const deleted = await call(`${trustBase(srv.url, ACME)}/`, { method: 'DELETE', token: admin });
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal(await srv.store.getCurrent(ACME, 'root'), undefined);
});

test('401 and 403 are the same, status and body, for an existing and a missing repository', async (t) => {
  const { srv, mint } = await tokenServer(t);
  const admin = await mint('admin', ['*']);
  const read = await mint('read', ['example.com/other/*']);
  const EXISTS = 'example.com/team/exists';
  const MISSING = 'example.com/team/missing';
  assert.equal((await upload(srv, EXISTS, await firstUpload(t, srv, EXISTS), admin)).status, 200);
  const requests = (name) => [
    { url: `${trustBase(srv.url, name)}/root.json` },
    { url: `${trustBase(srv.url, name)}/1.root.json` },
    { url: `${trustBase(srv.url, name)}/targets/x` },
    { url: `${trustBase(srv.url, name)}/timestamp.key` },
    { url: `${trustBase(srv.url, name)}/timestamp.key`, method: 'POST' },
    { url: `${trustBase(srv.url, name)}/`, method: 'DELETE' },
    { url: `${trustBase(srv.url, name)}/`, method: 'POST', body: uploadForm([]) },
  ];
  for (const token of [undefined, 'cnabsec_' + 'B'.repeat(43), read]) {
    const a = requests(EXISTS);
    const b = requests(MISSING);
    for (let i = 0; i < a.length; i++) {
      const x = await call(a[i].url, { ...a[i], token });
      const y = await call(b[i].url, { ...b[i], token });
      assert.ok(x.status === 401 || x.status === 403, `${a[i].method ?? 'GET'} ${a[i].url}: ${x.status}`);
      assert.equal(x.status, y.status, a[i].url);
      assert.equal(x.text.replaceAll(EXISTS, 'R'), y.text.replaceAll(MISSING, 'R'), a[i].url);
      assert.equal(x.headers.get('www-authenticate'), y.headers.get('www-authenticate'));
    }
  }
});

test('anonymous read per pattern: public/* is read without a token, nothing else, and never written', async (t) => {
  const { srv, mint } = await tokenServer(t, { anonymousRead: ['example.com/public/*'] });
  const admin = await mint('admin', ['*']);
  for (const name of [PUBLIC, ACME])
    assert.equal((await upload(srv, name, await firstUpload(t, srv, name), admin)).status, 200);
  assert.equal((await call(`${trustBase(srv.url, PUBLIC)}/root.json`)).status, 200);
  assert.equal((await call(`${trustBase(srv.url, PUBLIC)}/timestamp.json`)).status, 200);
  assertRefused(await call(`${trustBase(srv.url, ACME)}/root.json`), 401, 'UNAUTHORIZED');
  assertRefused(await call(`${trustBase(srv.url, 'example.com/public/a/b')}/root.json`), 401, 'UNAUTHORIZED');
  // a key GET is a write: not anonymous even where reads are
  assertRefused(await call(`${trustBase(srv.url, PUBLIC)}/timestamp.key`), 401, 'UNAUTHORIZED');
  assertRefused(await call(`${trustBase(srv.url, PUBLIC)}/`, { method: 'DELETE' }), 401, 'UNAUTHORIZED');
  // a bad token is refused, not taken for anonymous
  assertRefused(
    await call(`${trustBase(srv.url, PUBLIC)}/root.json`, { token: 'cnabsec_' + 'C'.repeat(43) }),
    401,
    'UNAUTHORIZED',
  );
});

test('revoked and expired tokens are 401 at the next request of the running server', async (t) => {
  let at = new Date('2026-06-01T00:00:00Z').getTime();
  const now = () => new Date(at);
  const { srv, tokens } = await tokenServer(t, { now });
  const c = await createToken(tokens, { scope: 'read', patterns: ['*'], now: now() });
  const short = await createToken(tokens, {
    scope: 'read',
    patterns: ['*'],
    expiresInSeconds: 60,
    now: now(),
  });
  const url = `${trustBase(srv.url, ACME)}/root.json`;
  assert.equal((await call(url, { token: c.token })).status, 404);
  assert.equal((await call(url, { token: short.token })).status, 404);
  // another connection (the CLI beside the server) revokes
  const cli = SqliteTokenStore.open({ path: path.join(srv.dir, 'trust.db') });
  await revokeToken(cli, c.id);
  await cli.close();
  assertRefused(await call(url, { token: c.token }), 401, 'UNAUTHORIZED', c.token);
  at += 60_000;
  assertRefused(await call(url, { token: short.token }), 401, 'UNAUTHORIZED', short.token);
});

test('1,000 repositories created by one anonymous client, or with a read token: all refused, nothing stored', async (t) => {
  const { srv, mint } = await tokenServer(t, { anonymousRead: ['*'] });
  const read = await mint('read', ['*']);
  const parts = await firstUpload(t, srv, 'example.com/flood/r0');
  const statuses = new Map();
  for (let i = 0; i < 1000; i++) {
    const name = `example.com/flood/r${i}`;
    const r = await upload(srv, name, parts, i % 2 === 0 ? undefined : read);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(statuses), { 401: 500, 403: 500 });
  for (const i of [0, 1, 499, 999])
    assert.equal(await srv.store.getCurrent(`example.com/flood/r${i}`, 'root'), undefined);
});
