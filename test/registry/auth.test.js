// Registry auth details (src/registry/auth.ts, session.ts) against small node servers: the
// WWW-Authenticate parser, a token service answering `access_token` only, several scopes in
// one challenge sent as separate `scope` parameters, re-auth on `insufficient_scope`, tokens
// cached per scope set, and a registry that never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { parseChallenge } from '../../dist/registry/auth.js';
import { openRegistry } from '../../dist/registry/index.js';

test('parseChallenge reads Basic and Bearer challenges with quoted and bare values', () => {
  assert.deepEqual(parseChallenge('Basic realm="cnabsec-test"'), {
    scheme: 'basic',
    params: { realm: 'cnabsec-test' },
  });
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push repository:c:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'reg',
        scope: 'repository:a/b:pull,push repository:c:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm=x, Bearer realm="r", error=insufficient_scope'), {
    scheme: 'bearer',
    params: { realm: 'r', error: 'insufficient_scope' },
  });
  assert.deepEqual(parseChallenge('bearer realm="a\\"b"'), { scheme: 'bearer', params: { realm: 'a"b' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(null), undefined);
});

async function listen(t, handler) {
  const s = createServer(handler);
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    s.closeAllConnections();
    return new Promise((resolve) => s.close(resolve));
  });
  return `127.0.0.1:${s.address().port}`;
}

test('bearer: access_token answers, split scopes, insufficient_scope widens the token, cache per scope set', async (t) => {
  const asked = [];
  const tokenHost = await listen(t, (req, res) => {
    const url = new URL(req.url, 'http://x');
    const scopes = url.searchParams.getAll('scope');
    asked.push({
      scopes,
      service: url.searchParams.get('service'),
      authorization: req.headers.authorization,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ access_token: `tok.${Buffer.from(scopes.sort().join(' ')).toString('base64url')}` }),
    );
  });
  const realm = `http://${tokenHost}/token`;
  const granted = (req) => {
    const m = /^Bearer tok\.(.*)$/.exec(req.headers.authorization ?? '');
    return m === null ? undefined : Buffer.from(m[1], 'base64url').toString().split(' ');
  };
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [],
  });
  const regHost = await listen(t, (req, res) => {
    const have = granted(req);
    const need =
      req.method === 'PUT'
        ? ['repository:r/x:pull,push', 'repository:r/extra:pull']
        : ['repository:r/x:pull'];
    if (have === undefined || !need.every((s) => have.includes(s))) {
      const error = have === undefined ? '' : ',error="insufficient_scope"';
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${realm}",service="svc",scope="${need.join(' ')}"${error}`,
      });
      res.end();
      return;
    }
    if (req.method === 'PUT') {
      req.resume();
      req.on('end', () => res.writeHead(201).end());
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(body);
  });
  const c = openRegistry({
    registry: regHost,
    insecure: true,
    credentials: { username: 'u', password: 'p' },
  });
  await c.getManifest('r/x', 'v1');
  await c.getManifest('r/x', 'v2'); // cached: no new token
  assert.equal(asked.length, 1);
  assert.deepEqual(asked[0].scopes, ['repository:r/x:pull']);
  assert.equal(asked[0].service, 'svc');
  assert.equal(asked[0].authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);

  // the push token (pull,push on r/x) is not enough: the registry asks for two scopes in one
  // challenge, which go to the token service as two scope parameters
  await c.putManifest('r/x', 'v3', 'application/vnd.oci.image.index.v1+json', new TextEncoder().encode(body));
  assert.deepEqual(asked[1].scopes, ['repository:r/x:pull,push']);
  assert.deepEqual(asked[2].scopes.sort(), ['repository:r/extra:pull', 'repository:r/x:pull,push']);
  assert.equal(asked.length, 3);
});

test('a Bearer realm that is not a URL is REGISTRY_AUTH_FAILED; a token service down is REGISTRY_UNREACHABLE', async (t) => {
  const regHost = await listen(t, (req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="svc"' }).end();
  });
  const bad = await listen(t, (req, res) =>
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="::nope"' }).end(),
  );
  const c = openRegistry({ registry: bad, insecure: true, credentials: () => undefined });
  await assert.rejects(
    c.listTags('r/x'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /realm/.test(e.message),
  );
  const d = openRegistry({ registry: regHost, insecure: true, credentials: () => undefined });
  await assert.rejects(d.listTags('r/x'), (e) => e.code === 'REGISTRY_UNREACHABLE');
});

test('a registry that never answers is REGISTRY_UNREACHABLE after the timeout', async (t) => {
  const host = await listen(t, () => {}); // accepts, never answers
  const c = openRegistry({ registry: host, insecure: true, credentials: () => undefined, timeoutMs: 300 });
  await assert.rejects(c.hasBlob('r/x', `sha256:${'0'.repeat(64)}`), (e) => {
    assert.equal(e.code, 'REGISTRY_UNREACHABLE');
    assert.ok(
      e.message.includes(`http://${host}/v2/r/x/blobs/`) && e.message.includes('no answer within'),
      e.message,
    );
    return true;
  });
  assert.throws(
    () => openRegistry({ registry: host, env: { CNABSEC_HTTP_TIMEOUT: 'soon' } }),
    (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('CNABSEC_HTTP_TIMEOUT'),
  );
  assert.throws(
    () => openRegistry({ registry: 'https://ghcr.io' }),
    (e) => e.code === 'REGISTRY_BAD_REFERENCE',
  );
});

test('a cached token the registry no longer takes is fetched again once, then refused', async (t) => {
  let issued = 0;
  let accept = 'tok-1';
  const tokenHost = await listen(t, (req, res) => {
    issued++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `tok-${issued}` }));
  });
  const regHost = await listen(t, (req, res) => {
    if (req.headers.authorization === `Bearer ${accept}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"tags":["a"]}');
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenHost}/t",service="s"` }).end();
  });
  const c = openRegistry({ registry: regHost, insecure: true, credentials: () => undefined });
  assert.deepEqual(await c.listTags('r/x'), ['a']);
  assert.deepEqual(await c.listTags('r/x'), ['a']);
  assert.equal(issued, 1);
  accept = 'tok-2'; // the registry revoked tok-1
  assert.deepEqual(await c.listTags('r/x'), ['a']);
  assert.equal(issued, 2);
  accept = 'never';
  await assert.rejects(
    c.listTags('r/x'),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /refused/.test(e.message),
  );
  assert.equal(issued, 3);
});
