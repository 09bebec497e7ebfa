// Where the registry credentials may go (ADR 0027 "Token realms", src/registry/auth.ts
// checkRealm): a Bearer realm on another https host gets them (as docker and containerd send
// them: Docker Hub's realm is auth.docker.io); a realm with userinfo, a plain-http realm of an
// https registry, a loopback or link-local realm of a registry that is not, get no request at
// all; a token request redirected to another origin loses them; an identity token is POSTed
// (OAuth2 refresh_token grant), never sent as a Basic password, and never redirected away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { checkRealm, isLocalHostname } from '../../dist/registry/auth.js';
import { openRegistry } from '../../dist/registry/index.js';

const CREDS = { username: 'alice', password: 'secret' };
const BASIC = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
const TOKEN_JSON = '{"token":"tok-1","expires_in":300}';

function record(seen, handler) {
  return (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
      handler(req, res, body);
    });
  };
}

async function listen(t, handler) {
  const seen = [];
  const s = createServer(record(seen, handler));
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    s.closeAllConnections();
    return new Promise((resolve) => s.close(resolve));
  });
  return { host: `127.0.0.1:${s.address().port}`, seen };
}

const fixture = (name) => readFileSync(new URL(`../fixtures/registry/${name}`, import.meta.url));

/** An https server with the self-signed 127.0.0.1 test certificate; TLS checks off for this test only. */
async function listenTls(t, handler) {
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  t.after(() => {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  });
  const seen = [];
  const s = createHttpsServer(
    { key: fixture('hostile-tls-key.pem'), cert: fixture('hostile-tls-cert.pem') },
    record(seen, handler),
  );
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    s.closeAllConnections();
    return new Promise((resolve) => s.close(resolve));
  });
  return { host: `127.0.0.1:${s.address().port}`, seen };
}

/** A registry answering 401 with `challenge` until it gets `Bearer tok-1`, then an empty tag list. */
function bearerRegistry(challenge) {
  return (req, res) => {
    if (req.headers.authorization === 'Bearer tok-1') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"org/b","tags":["v1"]}');
      return;
    }
    res.writeHead(401, { 'www-authenticate': challenge() }).end();
  };
}

test('an https realm on another host gets the Basic credentials (as docker does); the registry gets only the token', async (t) => {
  const realm = await listenTls(t, (req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(TOKEN_JSON),
  );
  const reg = await listenTls(
    t,
    bearerRegistry(() => `Bearer realm="https://${realm.host}/token",service="svc"`),
  );
  const c = openRegistry({ registry: reg.host, credentials: () => CREDS });
  assert.deepEqual(await c.listTags('org/b'), ['v1']);
  assert.equal(realm.seen.length, 1);
  assert.equal(realm.seen[0].authorization, BASIC);
  assert.ok(reg.seen.every((r) => r.authorization === undefined || r.authorization === 'Bearer tok-1'));
});

test('an https registry naming a plain-http realm, or a realm with userinfo, is refused before any token request', async (t) => {
  const realm = await listen(t, (req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(TOKEN_JSON),
  );
  let challenge = `Bearer realm="http://${realm.host}/token"`;
  const reg = await listenTls(
    t,
    bearerRegistry(() => challenge),
  );
  const c = openRegistry({ registry: reg.host, credentials: () => CREDS });
  await assert.rejects(c.listTags('org/b'), (e) => {
    assert.equal(e.code, 'REGISTRY_AUTH_FAILED');
    assert.match(e.message, /is not https/);
    assert.ok(e.message.startsWith(reg.host), e.message);
    return !e.message.includes('\n');
  });
  // userinfo: refused even over https and on an insecure (plain-http) registry
  challenge = `Bearer realm="https://evil:pw@${realm.host}/token"`;
  const c2 = openRegistry({ registry: reg.host, credentials: () => CREDS });
  await assert.rejects(
    c2.listTags('org/b'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /user name or password/.test(e.message),
  );
  const plainReg = await listen(
    t,
    bearerRegistry(() => `Bearer realm="http://evil:pw@${realm.host}/token"`),
  );
  const c3 = openRegistry({ registry: plainReg.host, insecure: true, credentials: () => CREDS });
  await assert.rejects(
    c3.listTags('org/b'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /user name or password/.test(e.message),
  );
  assert.equal(realm.seen.length, 0);
});

test('checkRealm: loopback, link-local and unspecified realms only for a registry that is one itself', () => {
  const refused = (realm, registry, insecure = false) =>
    assert.throws(
      () => checkRealm(realm, registry, insecure),
      (e) => e.code === 'REGISTRY_AUTH_FAILED' && e.message.includes(registry),
      `${realm} for ${registry}`,
    );
  refused('https://127.0.0.1:8080/token', 'registry.example.com');
  refused('https://localhost/token', 'ghcr.io');
  refused('https://169.254.169.254/latest/meta-data/', 'ghcr.io');
  refused('https://[::1]:9000/token', 'ghcr.io');
  refused('https://[::ffff:127.0.0.1]/token', 'ghcr.io');
  refused('https://0.0.0.0/token', 'ghcr.io');
  refused('https://[fe80::1]/token', 'ghcr.io');
  refused('http://127.0.0.1:5001/token', 'registry.lan:5000', true);
  refused('http://auth.example/token', 'ghcr.io'); // https registry, http realm
  refused('ftp://auth.example/token', 'reg.lan:5000', true);
  refused('https://u@auth.example/token', 'ghcr.io');
  refused('', 'ghcr.io');
  // allowed: another https host (Docker Hub), an IP realm for an IP registry, loopback for loopback
  assert.equal(checkRealm('https://auth.docker.io/token', 'docker.io', false).host, 'auth.docker.io');
  assert.equal(checkRealm('https://10.1.2.3/token', 'harbor.lan', false).host, '10.1.2.3');
  assert.ok(checkRealm('http://127.0.0.1:5001/token', '127.0.0.1:5000', true));
  assert.ok(checkRealm('https://localhost:5001/token', '[::1]:5000', false));
  assert.ok(checkRealm('https://[::1]:5001/token', 'localhost:5000', false));
  assert.equal(isLocalHostname('127.8.9.10'), true);
  assert.equal(isLocalHostname('app.localhost'), true);
  assert.equal(isLocalHostname('128.0.0.1'), false);
  assert.equal(isLocalHostname('[2001:db8::1]'), false);
});

test('a token request redirected to another origin arrives there without the credentials', async (t) => {
  const other = await listen(t, (req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(TOKEN_JSON),
  );
  const realm = await listen(t, (req, res) =>
    res.writeHead(307, { location: `http://${other.host}/token${req.url.slice('/token'.length)}` }).end(),
  );
  const reg = await listen(
    t,
    bearerRegistry(() => `Bearer realm="http://${realm.host}/token"`),
  );
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => CREDS });
  assert.deepEqual(await c.listTags('org/b'), ['v1']);
  assert.equal(realm.seen[0].authorization, BASIC);
  assert.equal(other.seen.length, 1);
  assert.equal(other.seen[0].authorization, undefined);
});

test('an identity token is POSTed as an OAuth2 refresh token, never as a Basic password, never redirected away', async (t) => {
  const ID = { username: '<token>', password: '', identityToken: 'refresh-me' };
  const realm = await listen(t, (req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"tok-1"}'),
  );
  const reg = await listen(
    t,
    bearerRegistry(
      () => `Bearer realm="http://${realm.host}/token",service="svc",scope="repository:org/b:pull"`,
    ),
  );
  const c = openRegistry({ registry: reg.host, insecure: true, credentials: () => ID });
  assert.deepEqual(await c.listTags('org/b'), ['v1']);
  assert.equal(realm.seen.length, 1);
  const [asked] = realm.seen;
  assert.equal(asked.method, 'POST');
  assert.equal(asked.authorization, undefined);
  const form = new URLSearchParams(asked.body);
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.equal(form.get('refresh_token'), 'refresh-me');
  assert.equal(form.get('service'), 'svc');
  assert.equal(form.get('scope'), 'repository:org/b:pull');
  assert.ok(reg.seen.every((r) => !String(r.authorization).startsWith('Basic')));

  // a Basic registry: refused with a clear message, and nothing like a password is sent
  const basic = await listen(t, (req, res) =>
    res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end(),
  );
  const b = openRegistry({ registry: basic.host, insecure: true, credentials: () => ID });
  await assert.rejects(
    b.listTags('org/b'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /identity token/.test(e.message),
  );
  assert.ok(basic.seen.every((r) => r.authorization === undefined));

  // the POST redirected to another origin: refused, the other origin sees nothing
  const away = await listen(t, (req, res) => res.writeHead(200).end(TOKEN_JSON));
  const redirecting = await listen(t, (req, res) =>
    res.writeHead(307, { location: `http://${away.host}/token` }).end(),
  );
  const reg2 = await listen(
    t,
    bearerRegistry(() => `Bearer realm="http://${redirecting.host}/token"`),
  );
  const r = openRegistry({ registry: reg2.host, insecure: true, credentials: () => ID });
  await assert.rejects(r.listTags('org/b'), (e) => e.code === 'REGISTRY_PROTOCOL' && /token/.test(e.message));
  assert.equal(away.seen.length, 0);
});

const outside = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

test(
  'a registry on a non-loopback address cannot point the client at loopback: realm refused, redirect refused',
  { skip: outside === undefined && 'no non-loopback IPv4 address' },
  async (t) => {
    const local = await listen(t, (req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(TOKEN_JSON),
    );
    const seen = [];
    let answer = (req, res) =>
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${local.host}/t"` }).end();
    const s = createServer(record(seen, (req, res) => answer(req, res)));
    await new Promise((resolve) => s.listen(0, outside, resolve));
    t.after(() => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    });
    const host = `${outside}:${s.address().port}`;
    const c = openRegistry({ registry: host, insecure: true, credentials: () => CREDS });
    await assert.rejects(
      c.listTags('org/b'),
      (e) => e.code === 'REGISTRY_AUTH_FAILED' && /loopback or link-local/.test(e.message),
    );
    answer = (req, res) => res.writeHead(307, { location: `http://${local.host}/blob` }).end();
    const fresh = openRegistry({ registry: host, insecure: true, credentials: () => CREDS });
    await assert.rejects(
      fresh.getBlob('org/b', `sha256:${'0'.repeat(64)}`, 10),
      (e) =>
        e.code === 'REGISTRY_PROTOCOL' && /redirected to a loopback or link-local address/.test(e.message),
    );
    assert.equal(local.seen.length, 0);
    assert.ok(seen.length >= 2);
  },
);
