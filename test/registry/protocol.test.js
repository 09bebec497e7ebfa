// Distribution API details the real docker-registry 2.8 does not show (src/registry/tags.ts,
// upload.ts, http.ts), against small node servers: tag pages by Link header and a next link to
// another origin refused; a chunked upload's PATCH Content-Ranges and relative Locations; a
// redirect loop; a manifest with a media type that was not asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { openRegistry } from '../../dist/registry/index.js';

const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function listen(t, handler) {
  const seen = [];
  const s = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  return { host: `127.0.0.1:${s.address().port}`, seen };
}

const client = (host, extra = {}) =>
  openRegistry({ registry: host, insecure: true, credentials: () => undefined, ...extra });

test('tags: pages followed by Link rel="next"; a next link to another origin is refused', async (t) => {
  const pages = { '': ['a', 'b'], b: ['c'], c: [] };
  const reg = await listen(t, (req, res) => {
    const url = new URL(req.url, 'http://x');
    const last = url.searchParams.get('last') ?? '';
    const headers = { 'content-type': 'application/json' };
    if (last === '') headers.link = '</v2/org/b/tags/list?n=2&last=b>; rel="next"';
    if (last === 'b') headers.link = `<http://${reg.host}/v2/org/b/tags/list?n=2&last=c>; rel="next"`;
    res
      .writeHead(200, headers)
      .end(JSON.stringify({ name: 'org/b', tags: last === 'c' ? null : pages[last] }));
  });
  assert.deepEqual(await client(reg.host).listTags('org/b'), ['a', 'b', 'c']);
  assert.equal(reg.seen.length, 3);

  const evil = await listen(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', link: '<http://127.0.0.1:1/v2/x>; rel="next"' });
    res.end('{"tags":["a"]}');
  });
  await assert.rejects(
    client(evil.host).listTags('org/b'),
    (e) => e.code === 'REGISTRY_PROTOCOL' && /another origin/.test(e.message),
  );
});

test('a chunked upload sends inclusive Content-Ranges and follows relative Locations', async (t) => {
  const received = [];
  const reg = await listen(t, (req, res, body) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: '/upload/0' }).end();
    if (req.method === 'PATCH') {
      received.push(body);
      return void res.writeHead(202, { location: `/upload/${received.length}?_state=x` }).end();
    }
    const all = Buffer.concat(received);
    const ok = url.searchParams.get('digest') === digestOf(all) && body.length === 0;
    res.writeHead(ok ? 201 : 400, { 'docker-content-digest': digestOf(all) }).end();
  });
  const blob = new Uint8Array(10_000).map((_, i) => i % 256);
  assert.equal(await client(reg.host, { chunkBytes: 4096 }).pushBlob('org/b', blob), digestOf(blob));
  const patches = reg.seen.filter((r) => r.method === 'PATCH');
  assert.deepEqual(
    patches.map((r) => [r.url, r.headers['content-range']]),
    [
      ['/upload/0', '0-4095'],
      ['/upload/1?_state=x', '4096-8191'],
      ['/upload/2?_state=x', '8192-9999'],
    ],
  );
  const put = reg.seen.find((r) => r.method === 'PUT');
  assert.equal(put.url, `/upload/3?_state=x&digest=${encodeURIComponent(digestOf(blob))}`);
});

test('a redirect loop ends as REGISTRY_PROTOCOL; an unasked media type is REGISTRY_BAD_MEDIA_TYPE', async (t) => {
  const loop = await listen(t, (req, res) => res.writeHead(302, { location: req.url }).end());
  await assert.rejects(
    client(loop.host).getManifest('org/b', 'v1'),
    (e) => e.code === 'REGISTRY_PROTOCOL' && /redirected more than 5/.test(e.message),
  );
  assert.equal(loop.seen.length, 6);

  const other = await listen(t, (req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
  );
  await assert.rejects(
    client(other.host).getManifest('org/b', 'v1'),
    (e) => e.code === 'REGISTRY_BAD_MEDIA_TYPE' && e.message.includes('text/html'),
  );
  const lying = await listen(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
    res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json' }));
  });
  await assert.rejects(
    client(lying.host).getManifest('org/b', 'v1'),
    (e) => e.code === 'REGISTRY_BAD_MEDIA_TYPE',
  );
});
