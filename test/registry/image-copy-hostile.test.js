// A hostile source registry against copyImage's streamed blobs (blob-stream.ts): a layer
// served with a Content-Length other than its descriptor's size, with more bytes than it
// (chunked, no Content-Length), or with the right size and other bytes. Each is refused as
// REGISTRY_DIGEST_MISMATCH and the real docker-registry destination never commits the blob
// nor stores the manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyImage } from '../../dist/registry/index.js';
import { startRegistry } from '../helpers/registry.js';
import { clientFor, fakeImageSource } from '../helpers/registry-images.js';

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
      const src = await fakeImageSource(t, { serveLayer: serve });
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
