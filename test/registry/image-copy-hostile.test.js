// A hostile source registry against copyImage's streamed blobs (blob-stream.ts): a layer
// served with a Content-Length other than its descriptor's size, with more bytes than it
// (chunked, no Content-Length), or with the right size and other bytes. Each is refused as
// REGISTRY_DIGEST_MISMATCH and the real docker-registry destination never commits the blob
// nor stores the manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { copyImage, openRegistry } from '../../dist/registry/index.js';
import { startRegistry } from '../helpers/registry.js';
import { clientFor, digestOf, OCI_MANIFEST } from '../helpers/registry-images.js';

/** A fake registry serving one manifest and its blobs; `serveLayer(res, bytes)` answers the layer GET. */
async function fakeSource(t, serveLayer) {
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = randomBytes(3000);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length },
      ],
    }),
  );
  const s = createServer((req, res) => {
    if (req.url === `/v2/org/src/manifests/${digestOf(manifest)}`) {
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }).end(manifest);
    } else if (req.url === `/v2/org/src/blobs/${digestOf(config)}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(config);
    } else if (req.url === `/v2/org/src/blobs/${digestOf(layer)}`) {
      serveLayer(res, layer);
    } else res.writeHead(404).end();
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  const client = openRegistry({
    registry: `127.0.0.1:${s.address().port}`,
    insecure: true,
    credentials: () => undefined,
  });
  return { client, manifest: digestOf(manifest), layer: digestOf(layer) };
}

const CASES = {
  'a Content-Length larger than the descriptor size': [
    (res, layer) =>
      res
        .writeHead(200, { 'content-length': layer.length + 1 })
        .end(Buffer.concat([layer, Buffer.from('x')])),
    /3001 bytes, its descriptor says 3000/,
  ],
  'more bytes than the descriptor size, chunked': [
    (res, layer) => {
      res.writeHead(200);
      res.write(layer);
      res.end(Buffer.from('more'));
    },
    /more than 3000 bytes/,
  ],
  'the right size, other bytes, chunked': [
    (res, layer) => {
      const other = Buffer.from(layer);
      other[2999] ^= 1;
      res.writeHead(200);
      res.write(other.subarray(0, 1500));
      res.end(other.subarray(1500));
    },
    /hash to sha256:/,
  ],
  'fewer bytes than the descriptor size': [
    (res, layer) => {
      res.writeHead(200);
      res.end(layer.subarray(0, 100));
    },
    /100 bytes, its descriptor says 3000/,
  ],
};

for (const [title, [serve, words]] of Object.entries(CASES)) {
  for (const chunkBytes of [undefined, 1000]) {
    test(`image copy from a hostile source: ${title} (chunkBytes ${chunkBytes ?? 'default'}) is refused, nothing committed`, async (t) => {
      const src = await fakeSource(t, serve);
      const reg = await startRegistry(t);
      const dst = clientFor(reg, chunkBytes === undefined ? {} : { chunkBytes });
      await assert.rejects(
        copyImage(
          { client: src.client, repository: 'org/src' },
          { client: dst, repository: 'org/dst' },
          src.manifest,
        ),
        (e) =>
          e.code === 'REGISTRY_DIGEST_MISMATCH' && words.test(e.message) && e.message.includes(src.layer),
      );
      assert.equal(await dst.hasBlob('org/dst', src.layer), false);
      assert.equal(await dst.headManifest('org/dst', src.manifest), undefined);
    });
  }
}
