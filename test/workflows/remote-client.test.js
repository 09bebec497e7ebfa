// The HTTP client of a metadata repository server (src/workflows/remote.ts, issue 13 item 5)
// against a stub that answers as the HTTP contract says (or does not): the paths it calls,
// the multipart upload (parts `files` / `target`, file names the role and target path), the
// bearer token on every request, and the mapping of the server's error envelope, of 409, of
// oversized answers and of a server that is down. The real server: remote-e2e.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import {
  CONFLICT_MESSAGE,
  RemoteRepository,
  checkServerUrl,
  metadataUrlOf,
  resolveToken,
} from '../../dist/workflows/index.js';
import { fetcherFor } from '../../dist/tuf/index.js';
import { keyIdOf, toPublicKeyJson } from '../../dist/crypto/index.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';
const BASE = `/v2/${NAME}/_trust/tuf`;

/** A stub server: `handle(req, body)` → {status, json|body, headers}; every request is recorded. */
async function stub(t, handle) {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const a = await handle(req, body);
      const data = a.json === undefined ? (a.body ?? '') : JSON.stringify(a.json);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(data);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}`, seen };
}

const envelope = (code, message, detail) => ({ errors: [{ code, message, ...(detail ? { detail } : {}) }] });

const publicKey = () => toPublicKeyJson(generateKeyPairSync('ed25519').privateKey);

test('remote client: URLs and tokens are checked', async (t) => {
  assert.equal(checkServerUrl('http://127.0.0.1:4443/'), 'http://127.0.0.1:4443');
  assert.equal(metadataUrlOf('https://tuf.example.com', NAME), `https://tuf.example.com${BASE}`);
  for (const bad of ['ftp://x', 'https://u:p@x', 'https://x/?q=1', 'not a url'])
    assert.throws(() => checkServerUrl(bad), { code: 'INVALID_ARGUMENT' }, bad);
  assert.throws(() => metadataUrlOf('https://x', 'Not/A/Name'), { code: 'INVALID_NAME' });
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'tok'), 'secret-1\n', { mode: 0o600 });
  assert.equal(await resolveToken(path.join(dir, 'tok'), {}), 'secret-1');
  assert.equal(await resolveToken(path.join(dir, 'tok'), { CNABSEC_TOKEN: 'other' }), 'secret-1');
  assert.equal(await resolveToken(undefined, { CNABSEC_TOKEN: 'env-token' }), 'env-token');
  assert.equal(await resolveToken(undefined, {}), undefined);
  await writeFile(path.join(dir, 'two'), 'a b\n', { mode: 0o600 });
  await assert.rejects(resolveToken(path.join(dir, 'two'), {}), /is not a bearer token|one line/);
  // a token file others may read is refused, as a key file is; nothing of the token is printed
  await writeFile(path.join(dir, 'shared'), 'secret-2\n', { mode: 0o644 });
  await assert.rejects(resolveToken(path.join(dir, 'shared'), {}), (e) => {
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.message, /readable or writable by others \(mode 644\)/);
    assert.match(e.hint, /chmod 600/);
    assert.doesNotMatch(`${e.message} ${e.hint}`, /secret-2/);
    return true;
  });
  await assert.rejects(
    resolveToken(undefined, { CNABSEC_TOKEN: 'x\r\ny: z' }),
    /CNABSEC_TOKEN is not a bearer token/,
  );
  await assert.rejects(resolveToken(path.join(dir, 'none'), {}), /cannot read token file/);
});

test('remote client: server keys, with the key id checked against X-Cnabsec-Keyid', async (t) => {
  const key = publicKey();
  let keyid = keyIdOf(key);
  const s = await stub(t, () => ({ json: key, headers: { 'x-cnabsec-keyid': keyid } }));
  const remote = new RemoteRepository({ server: s.url, repo: NAME, token: 'tok-1' });
  assert.deepEqual(await remote.publicKey('timestamp'), { keyid, public: key });
  assert.equal((await remote.rotateKey('snapshot')).keyid, keyid);
  assert.deepEqual(
    s.seen.map((r) => `${r.method} ${r.url} ${r.headers.authorization}`),
    [`GET ${BASE}/timestamp.key Bearer tok-1`, `POST ${BASE}/snapshot.key Bearer tok-1`],
  );
  keyid = 'ab'.repeat(32);
  await assert.rejects(remote.publicKey('timestamp'), {
    code: 'REMOTE_BAD_RESPONSE',
    message: /X-Cnabsec-Keyid/,
  });
});

test('remote client: one multipart upload, parts files (role) and target (path), token sent', async (t) => {
  let parts;
  const s = await stub(t, async (req, body) => {
    const form = await new Request('http://x/', { method: 'POST', headers: req.headers, body }).formData();
    parts = [...form.entries()].map(([field, file]) => [field, file.name, file.size]);
    return {
      json: {
        repo: NAME,
        stored: [{ role: 'targets/releases', version: 2, sha256: 'x', length: 3, signedByServer: false }],
        targetFiles: [],
      },
    };
  });
  const remote = new RemoteRepository({ server: s.url, repo: NAME, token: 't' });
  const r = await remote.upload({
    roles: [
      { role: 'targets/releases', bytes: Buffer.from('{"a":1}') },
      { role: 'snapshot', bytes: Buffer.from('{}') },
    ],
    targetFiles: [{ path: `${NAME}/in-toto-metadata/root.layout`, bytes: Buffer.from('layout') }],
  });
  assert.equal(r.stored[0].version, 2);
  assert.equal(s.seen.length, 1);
  assert.equal(s.seen[0].url, `${BASE}/`);
  assert.equal(s.seen[0].headers.authorization, 'Bearer t');
  assert.match(s.seen[0].headers['content-type'], /^multipart\/form-data; boundary=/);
  assert.deepEqual(parts, [
    ['files', 'targets/releases', 7],
    ['files', 'snapshot', 2],
    ['target', `${NAME}/in-toto-metadata/root.layout`, 6],
  ]);
});

test('remote client: the error envelope is one line with the server code; stale is PUBLISH_CONFLICT', async (t) => {
  let answer;
  const s = await stub(t, () => answer);
  const remote = new RemoteRepository({ server: s.url, repo: NAME });
  const upload = () =>
    remote.upload({ roles: [{ role: 'targets', bytes: Buffer.from('{}') }], targetFiles: [] });

  answer = { status: 409, json: envelope('VERSION_CONFLICT', 'targets v2 was taken first') };
  await assert.rejects(upload(), (e) => {
    assert.equal(e.code, 'PUBLISH_CONFLICT');
    assert.equal(e.message, `${NAME}: ${CONFLICT_MESSAGE}`);
    assert.equal(e.details.serverCode, 'VERSION_CONFLICT');
    return true;
  });
  answer = {
    status: 400,
    json: envelope('UPLOAD_REFUSED', "'targets' v2 refused (old-version): v2 is current", {
      code: 'OLD_VERSION',
      role: 'targets',
      version: 2,
      rule: 'old-version',
    }),
  };
  await assert.rejects(upload(), {
    code: 'PUBLISH_CONFLICT',
    message: /someone published first: run `cnabsec pull <dir>` and retry/,
  });

  const refusal = { code: 'BAD_TARGETS', role: 'targets', version: 2, rule: 'threshold' };
  answer = {
    status: 400,
    json: envelope('UPLOAD_REFUSED', "'targets' v2 refused (threshold):\n1/2 signatures", refusal),
  };
  await assert.rejects(upload(), (e) => {
    assert.equal(e.code, 'REMOTE_REFUSED');
    assert.equal(e.details.serverCode, 'UPLOAD_REFUSED');
    assert.deepEqual(e.details.detail, refusal);
    assert.equal(e.details.status, 400);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, /HTTP 400 UPLOAD_REFUSED: 'targets' v2 refused \(threshold\): 1\/2 signatures/);
    return true;
  });
  answer = { status: 401, json: envelope('UNAUTHORIZED', 'no token') };
  await assert.rejects(upload(), (e) => e.code === 'REMOTE_REFUSED' && /CNABSEC_TOKEN/.test(e.hint));
  answer = { status: 502, body: '<html>bad gateway</html>' };
  await assert.rejects(upload(), { code: 'REMOTE_REFUSED', message: /HTTP 502$/ });
  answer = { status: 200, body: 'not json' };
  await assert.rejects(upload(), { code: 'REMOTE_BAD_RESPONSE', message: /not JSON/ });
  answer = { status: 200, body: `"${'x'.repeat(1 << 21)}"` };
  await assert.rejects(upload(), { code: 'REMOTE_BAD_RESPONSE', message: /over 1048576 bytes/ });
  answer = { status: 404, json: envelope('NOT_FOUND', 'no such repository') };
  assert.equal(await remote.metadataFile('timestamp.json'), undefined);
});

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort() {
  const server = netServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('remote client: a server that is down is TUF_SERVER_UNREACHABLE naming the URL and the reason', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const remote = new RemoteRepository({ server: url, repo: NAME });
  await assert.rejects(remote.publicKey('timestamp'), (e) => {
    assert.equal(e.code, 'TUF_SERVER_UNREACHABLE');
    assert.equal(e.message, `cannot reach "${url}${BASE}/timestamp.key": connection refused`);
    return true;
  });
});

test('remote client: the TUF fetcher sends CNABSEC_TOKEN, and only over http(s)', async (t) => {
  const s = await stub(t, () => ({ status: 404, json: envelope('NOT_FOUND', 'none') }));
  const fetcher = fetcherFor(`${s.url}${BASE}`, { CNABSEC_TOKEN: 'tuf-token' });
  await assert.rejects(fetcher.downloadBytes(`${s.url}${BASE}/1.root.json`, 1000));
  assert.equal(s.seen[0].headers.authorization, 'Bearer tuf-token');
  const none = fetcherFor(`${s.url}${BASE}`, {});
  await assert.rejects(none.downloadBytes(`${s.url}${BASE}/1.root.json`, 1000));
  assert.equal(s.seen[1].headers.authorization, undefined);
  assert.throws(() => fetcherFor(`${s.url}${BASE}`, { CNABSEC_TOKEN: 'a b' }), /not a bearer token/);
});

test('remote client: a server that never answers is TUF_SERVER_UNREACHABLE after the timeout', async (t) => {
  const sockets = [];
  const server = netServer((s) => sockets.push(s)); // accepts, never answers
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const remote = new RemoteRepository({ server: url, repo: NAME, timeoutMs: 300 });
  await assert.rejects(remote.metadataFile('timestamp.json'), {
    code: 'TUF_SERVER_UNREACHABLE',
    message: `cannot reach "${url}${BASE}/timestamp.json": timed out after 0.3 s`,
  });
});
