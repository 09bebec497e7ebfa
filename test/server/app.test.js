// The metadata repository's HTTP app (src/server/app.ts, ADR 0023) through app.inject(), on the
// in-memory ServiceDouble: the read routes (current, by version, by checksum, delegated names
// encoded and decoded, target files), HEAD, ETag/304, Cache-Control, keys, delete, /v2/,
// /healthz, request ids, the Authorization header, and every error path in the envelope.
// Uploads and /metrics: ./app-upload.test.js; a real listening server: ./app-listen.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { keyIdOf } from '../../dist/crypto/index.js';
import { ServerError } from '../../dist/server/errors.js';
import { assertEnvelope, startApp, TRUST } from '../helpers/app.js';
import { storeBusy } from '../helpers/service-double.js';

const REPO = 'example.com/org/bundle';
const sha = (b) => createHash('sha256').update(b).digest('hex');
const ROOT1 = Buffer.from('{"signed":{"_type":"root","version":1}}');
const ROOT2 = Buffer.from('{"signed":{"_type":"root","version":2}}');
const REL1 = Buffer.from('{"signed":{"_type":"targets","version":1},"d":"releases"}');
const LAYOUT = Buffer.from('{"_type":"layout"}');
const LAYOUT_PATH = `${REPO}/in-toto-metadata/root.layout`;

/** An app whose repository holds root v1 and v2, targets/releases v1 and one target file. */
async function seeded(t, options) {
  const s = await startApp(t, options);
  s.service.seed(REPO, 'root', 1, ROOT1);
  s.service.seed(REPO, 'root', 2, ROOT2);
  s.service.seed(REPO, 'targets/releases', 1, REL1);
  s.service.repos
    .get(REPO)
    .files.push({ path: LAYOUT_PATH, sha256: sha(LAYOUT), bytes: LAYOUT, createdAt: new Date() });
  return s;
}

function assertBytes(res, bytes, cache, type = /^application\/json/) {
  assert.equal(res.statusCode, 200, res.body);
  assert.ok(res.rawPayload.equals(bytes), 'the body is exactly the stored bytes');
  assert.equal(res.headers.etag, `"${sha(bytes)}"`);
  assert.equal(res.headers['cache-control'], cache);
  assert.match(String(res.headers['content-type']), type);
}

const IMMUTABLE = 'public, max-age=2592000, immutable';

test('metadata: current, by version, by checksum, with their cache headers; one service read each', async (t) => {
  const { app, service } = await seeded(t);
  service.calls.length = 0;
  assertBytes(await app.inject(`${TRUST(REPO)}root.json`), ROOT2, 'public, max-age=300');
  assert.deepEqual(service.calls, [['current', REPO, 'root']]);
  assertBytes(await app.inject(`${TRUST(REPO)}1.root.json`), ROOT1, IMMUTABLE);
  assertBytes(await app.inject(`${TRUST(REPO)}root.${sha(ROOT1)}.json`), ROOT1, IMMUTABLE);
  assert.equal(service.calls.length, 3);
  // query strings are ignored
  assertBytes(await app.inject(`${TRUST(REPO)}2.root.json?x=1`), ROOT2, IMMUTABLE);
});

test('metadata: currentMaxAgeSeconds sets the current max-age', async (t) => {
  const { app } = await seeded(t, { currentMaxAgeSeconds: 7 });
  assertBytes(await app.inject(`${TRUST(REPO)}root.json`), ROOT2, 'public, max-age=7');
});

test('delegated role names: URL-encoded (as tuf-js asks) and decoded', async (t) => {
  const { app } = await seeded(t);
  for (const name of ['1.targets%2Freleases.json', '1.targets/releases.json'])
    assertBytes(await app.inject(`${TRUST(REPO)}${name}`), REL1, IMMUTABLE);
  for (const name of [`targets%2Freleases.${sha(REL1)}.json`, `targets/releases.${sha(REL1)}.json`])
    assertBytes(await app.inject(`${TRUST(REPO)}${name}`), REL1, IMMUTABLE);
  for (const name of ['targets%2Freleases.json', 'targets/releases.json'])
    assertBytes(await app.inject(`${TRUST(REPO)}${name}`), REL1, 'public, max-age=300');
  // the repository name may be URL-encoded too
  assertBytes(await app.inject(`/v2/example.com%2Forg%2Fbundle/_trust/tuf/1.root.json`), ROOT1, IMMUTABLE);
});

test('target files: by path and by hash (immutable); unknown ones 404', async (t) => {
  const { app } = await seeded(t);
  const octet = /^application\/octet-stream/;
  assertBytes(await app.inject(`${TRUST(REPO)}targets/${LAYOUT_PATH}`), LAYOUT, 'public, max-age=300', octet);
  const byHash = `${TRUST(REPO)}targets/${REPO}/in-toto-metadata/${sha(LAYOUT)}.root.layout`;
  assertBytes(await app.inject(byHash), LAYOUT, IMMUTABLE, octet);
  const e = assertEnvelope(
    await app.inject(`${TRUST(REPO)}targets/${REPO}/in-toto-metadata/x.link`),
    404,
    'NOT_FOUND',
  );
  assert.equal(e.detail.path, `${REPO}/in-toto-metadata/x.link`);
  const wrongHash = `${TRUST(REPO)}targets/${REPO}/in-toto-metadata/${sha(ROOT1)}.root.layout`;
  assertEnvelope(await app.inject(wrongHash), 404, 'NOT_FOUND');
});

test('HEAD: headers and length of GET, no body; ETag and If-None-Match → 304', async (t) => {
  const { app } = await seeded(t);
  const head = await app.inject({ method: 'HEAD', url: `${TRUST(REPO)}root.json` });
  assert.equal(head.statusCode, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], String(ROOT2.length));
  assert.equal(head.headers.etag, `"${sha(ROOT2)}"`);
  assert.equal(head.headers['cache-control'], 'public, max-age=300');
  for (const inm of [`"${sha(ROOT2)}"`, `W/"${sha(ROOT2)}"`, `"other", "${sha(ROOT2)}"`, '*']) {
    const r = await app.inject({ url: `${TRUST(REPO)}root.json`, headers: { 'if-none-match': inm } });
    assert.equal(r.statusCode, 304, inm);
    assert.equal(r.body, '');
    assert.equal(r.headers.etag, `"${sha(ROOT2)}"`);
  }
  const stale = await app.inject({
    url: `${TRUST(REPO)}root.json`,
    headers: { 'if-none-match': `"${sha(ROOT1)}"` },
  });
  assertBytes(stale, ROOT2, 'public, max-age=300');
  const headMissing = await app.inject({ method: 'HEAD', url: `${TRUST(REPO)}snapshot.json` });
  assert.equal(headMissing.statusCode, 404);
});

test('unknown repository, role, version, checksum: 404 NOT_FOUND naming them', async (t) => {
  const { app } = await seeded(t);
  const cases = [
    ['other.example/app/_trust/tuf/root.json', { repo: 'other.example/app', role: 'root' }],
    [`${REPO}/_trust/tuf/targets.json`, { role: 'targets' }],
    [`${REPO}/_trust/tuf/targets%2Fother.json`, { role: 'targets/other' }],
    [`${REPO}/_trust/tuf/3.root.json`, { version: 3 }],
    [`${REPO}/_trust/tuf/root.${sha(REL1)}.json`, { sha256: sha(REL1) }],
  ];
  for (const [path, detail] of cases) {
    const e = assertEnvelope(await app.inject(`/v2/${path}`), 404, 'NOT_FOUND');
    for (const [k, v] of Object.entries(detail)) assert.equal(e.detail[k], v, `${path}: ${k}`);
  }
});

test('bad paths: 400 BAD_REQUEST naming the part', async (t) => {
  const { app, service, metrics } = await seeded(t);
  service.calls.length = 0;
  const cases = [
    ['/v2/Example/_trust/tuf/root.json', 'repo'],
    ['/v2/example.com/Org/_trust/tuf/root.json', 'repo'],
    ['/v2/a%00b/_trust/tuf/root.json', 'repo'],
    ['/v2/a%2F..%2Fb/_trust/tuf/root.json', 'repo'],
    ['/v2//_trust/tuf/root.json', 'repo'],
    [`${TRUST(REPO)}releases.json`, 'role'],
    [`${TRUST(REPO)}targets%2F..%2Fx.json`, 'role'],
    [`${TRUST(REPO)}1.targets%2Fa%00b.json`, 'role'],
    [`${TRUST(REPO)}1.targets%2F%2Fx.json`, 'role'],
    [`${TRUST(REPO)}root.key`, 'role'],
    [`${TRUST(REPO)}0.root.json`, 'version'],
    [`${TRUST(REPO)}01.root.json`, 'version'],
    [`${TRUST(REPO)}9007199254740993.root.json`, 'version'],
    [`${TRUST(REPO)}root.abc.json`, 'checksum'],
    [`${TRUST(REPO)}root.${sha(ROOT1).toUpperCase()}.json`, 'checksum'],
    [`${TRUST(REPO)}targets%2Freleases.${sha(ROOT1).slice(1)}.json`, 'checksum'],
    [`${TRUST(REPO)}targets/a%5Cb`, 'path'],
    [`${TRUST(REPO)}targets/a/..%2Fb`, 'path'],
    [`${TRUST(REPO)}targets/a//b`, 'path'],
    [`${TRUST(REPO)}targets/`, 'path'],
  ];
  for (const [url, part] of cases) {
    const e = assertEnvelope(await app.inject(url), 400, 'BAD_REQUEST');
    assert.equal(e.detail.part, part, `${url}: ${e.message}`);
  }
  // nothing bad reached the service
  assert.deepEqual(service.calls, []);
  // a URL the router cannot decode is the envelope too, with the request id, and counted
  const undecodable = await app.inject({
    url: '/v2/a%ZZ/_trust/tuf/root.json',
    headers: { 'x-request-id': 'fw-1' },
  });
  assertEnvelope(undecodable, 400, 'BAD_REQUEST');
  assert.equal(undecodable.headers['x-request-id'], 'fw-1');
  assert.match(
    (await metrics.render()).body,
    /http_requests_total\{route="unmatched",method="GET",status="400"\} 1/,
  );
});

test('unknown routes and methods: 404 NOT_FOUND in the envelope', async (t) => {
  const { app } = await seeded(t);
  for (const [method, url] of [
    ['GET', '/nope'],
    ['GET', '/v2'],
    ['GET', `/v2/${REPO}`],
    ['GET', TRUST(REPO)],
    ['GET', `${TRUST(REPO)}root.txt`],
    ['PUT', `${TRUST(REPO)}root.json`],
    ['POST', `${TRUST(REPO)}root.json`],
    ['DELETE', `${TRUST(REPO)}root.json`],
  ])
    assertEnvelope(await app.inject({ method, url }), 404, 'NOT_FOUND');
});

test('GET /v2/ and /healthz; /healthz is 503 when the store does not answer', async (t) => {
  const { app, service } = await startApp(t);
  const probe = await app.inject('/v2/');
  assert.equal(probe.statusCode, 200);
  assert.deepEqual(probe.json(), {});
  const ok = await app.inject('/healthz');
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { status: 'ok' });
  service.failWith('ping', new ServerError('STORE_IO', 'SQLITE_IOERR on /secret/path/cnabsec.db'));
  const down = await app.inject('/healthz');
  assert.equal(down.statusCode, 503);
  assert.equal(down.json().status, 'unavailable');
  assert.equal(down.json().errors[0].code, 'STORE_IO');
  assert.doesNotMatch(down.body, /secret/);
  assert.equal((await app.inject('/healthz')).statusCode, 200);
});

test('keys: GET creates the key once (TUF key object, X-Cnabsec-Keyid), POST rotates', async (t) => {
  const { app } = await startApp(t);
  const url = `${TRUST(REPO)}timestamp.key`;
  const first = await app.inject(url);
  assert.equal(first.statusCode, 200, first.body);
  assert.equal(first.headers['cache-control'], 'no-store');
  const key = first.json();
  assert.deepEqual(Object.keys(key).sort(), ['keytype', 'keyval', 'scheme']);
  assert.equal(typeof key.keyval.public, 'string');
  assert.equal(first.headers['x-cnabsec-keyid'], keyIdOf(key));
  const again = await app.inject(url);
  assert.equal(again.headers['x-cnabsec-keyid'], first.headers['x-cnabsec-keyid']);
  const rotated = await app.inject({ method: 'POST', url });
  assert.equal(rotated.statusCode, 200);
  assert.notEqual(rotated.headers['x-cnabsec-keyid'], first.headers['x-cnabsec-keyid']);
  assert.equal(rotated.headers['x-cnabsec-keyid'], keyIdOf(rotated.json()));
  const snap = await app.inject(`${TRUST(REPO)}snapshot.key`);
  assert.equal(snap.statusCode, 200);
  assert.notEqual(snap.headers['x-cnabsec-keyid'], first.headers['x-cnabsec-keyid']);
});

test('DELETE the repository: 200 {deleted:true}, then 404', async (t) => {
  const { app } = await seeded(t);
  const del = await app.inject({ method: 'DELETE', url: TRUST(REPO) });
  assert.equal(del.statusCode, 200);
  assert.deepEqual(del.json(), { deleted: true });
  assert.equal(del.headers['cache-control'], 'no-store');
  assertEnvelope(await app.inject({ method: 'DELETE', url: TRUST(REPO) }), 404, 'NOT_FOUND');
  assertEnvelope(await app.inject(`${TRUST(REPO)}root.json`), 404, 'NOT_FOUND');
});

test('service errors map to statuses; unknown errors are 500 INTERNAL, logged, not sent', async (t) => {
  const { app, service, lines } = await seeded(t);
  const url = `${TRUST(REPO)}root.json`;
  service.failWith('current', storeBusy());
  const busy = await app.inject(url);
  assertEnvelope(busy, 503, 'STORE_BUSY');
  assert.equal(busy.headers['retry-after'], '1');
  const cases = [
    [new ServerError('VERSION_CONFLICT', 'root v3 was taken'), 409],
    [new ServerError('STORE_TOO_LARGE', 'too big'), 413],
    [new ServerError('ONLINE_KEYS_DISABLED', 'no online keys'), 404],
    [new ServerError('NOT_FOUND', 'gone'), 404],
  ];
  for (const [err, status] of cases) {
    service.failWith('current', err);
    const e = assertEnvelope(await app.inject(url), status, err.code);
    assert.equal(e.message, err.message);
  }
  service.failWith('current', new Error('boom: secret detail\n    at fake (x.js:1:1)'));
  const res = await app.inject({ url, headers: { 'x-request-id': 'req-500' } });
  const e = assertEnvelope(res, 500, 'INTERNAL');
  assert.doesNotMatch(res.body, /boom|secret/);
  assert.deepEqual(e.detail, {});
  const logged = lines.map((l) => JSON.parse(l)).find((l) => l.err?.message?.startsWith('boom'));
  assert.ok(logged, 'the cause is logged');
  assert.equal(logged.reqId, 'req-500');
  // another cnabsec error the HTTP layer has no status for is INTERNAL too
  service.failWith('current', new ServerError('UNSEAL_FAILED', 'sealed key does not open'));
  assertEnvelope(await app.inject(url), 500, 'INTERNAL');
});

test('request ids: a sane X-Request-Id is echoed, anything else replaced by a random one', async (t) => {
  const { app, lines } = await seeded(t);
  const sane = await app.inject({ url: '/v2/', headers: { 'x-request-id': 'abc.DEF_123-x' } });
  assert.equal(sane.headers['x-request-id'], 'abc.DEF_123-x');
  for (const bad of ['a b', 'x'.repeat(65), 'a\u00e9', '']) {
    const r = await app.inject({ url: '/v2/', headers: { 'x-request-id': bad } });
    assert.notEqual(r.headers['x-request-id'], bad);
    assert.match(r.headers['x-request-id'], /^[A-Za-z0-9._-]{1,64}$/);
  }
  const two = [await app.inject('/v2/'), await app.inject('/v2/')].map((r) => r.headers['x-request-id']);
  assert.notEqual(two[0], two[1]);
  // errors carry it too, and the log line of a request names it, its route pattern, no query string
  const err = await app.inject({ url: '/nope?token=hunter2', headers: { 'x-request-id': 'e-1' } });
  assert.equal(err.headers['x-request-id'], 'e-1');
  await app.inject({ url: `${TRUST(REPO)}1.root.json?sig=hunter2`, headers: { 'x-request-id': 'q-1' } });
  const line = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'q-1' && l.msg === 'request');
  assert.equal(line.route, '/v2/:repo/_trust/tuf/:version.:role.json');
  assert.equal(line.status, 200);
  assert.doesNotMatch(lines.join('\n'), /hunter2/);
});

test('Authorization: Bearer tokens accepted and passed to the authenticator; malformed → 401', async (t) => {
  const seen = [];
  const authenticator = {
    async authenticate(input) {
      seen.push(input);
      if (input.authorization === 'Bearer refused') throw new ServerError('UNAUTHORIZED', 'token refused');
      return {};
    },
  };
  const { app: custom } = await seeded(t, { authenticator });
  const ok = await custom.inject({
    url: `${TRUST(REPO)}root.json`,
    headers: { authorization: 'Bearer abc.def' },
  });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(seen.at(-1), {
    method: 'GET',
    repo: REPO,
    action: 'read',
    authorization: 'Bearer abc.def',
  });
  await custom.inject({ method: 'POST', url: `${TRUST(REPO)}timestamp.key` });
  assert.deepEqual(seen.at(-1), { method: 'POST', repo: REPO, action: 'rotate', authorization: undefined });
  await custom.inject({ method: 'DELETE', url: TRUST(REPO) });
  assert.equal(seen.at(-1).action, 'delete');
  const refused = await custom.inject({ url: '/v2/', headers: { authorization: 'Bearer refused' } });
  assertEnvelope(refused, 401, 'UNAUTHORIZED');
  assert.equal(refused.headers['www-authenticate'], 'Bearer realm="cnabsec"');

  // the default authenticator: any bearer token, or none; a malformed header is refused
  const { app, lines } = await seeded(t);
  for (const h of ['Bearer tok-123', 'bearer abc==', 'Bearer a.b.c~+/']) {
    const r = await app.inject({ url: `${TRUST(REPO)}root.json`, headers: { authorization: h } });
    assert.equal(r.statusCode, 200, h);
  }
  for (const h of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words', 'Bearer a=b', 'tok-123']) {
    const r = await app.inject({ url: `${TRUST(REPO)}root.json`, headers: { authorization: h } });
    assertEnvelope(r, 401, 'UNAUTHORIZED');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="cnabsec"');
    assert.doesNotMatch(r.body, /dXNlcjpwYXNz|two words/);
  }
  assert.doesNotMatch(lines.join('\n'), /tok-123|dXNlcjpwYXNz/);
});
