// Hostile review of issue 13 (server and CLI flows): secrets that reach the server's log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { loadServerConfig } from '../../dist/server/config.js';
import { serverLogger, startServer } from '../../dist/server/run.js';
import { tempDir } from '../helpers/tmp.js';
import { masterKeyHex } from '../helpers/server-process.js';

test('server --log-level trace: the bearer token of an upload is not in the log', async (t) => {
  const dir = await tempDir(t);
  const lines = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const config = await loadServerConfig({
    flags: { listen: '127.0.0.1:0', db: path.join(dir, 'server.db') },
    env: {},
  });
  const s = await startServer(config, {
    logger: serverLogger('trace', stream),
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() },
  });
  t.after(() => s.close());
  const form = new FormData();
  form.append('files', new Blob(['{}'], { type: 'application/json' }), 'root');
  const r = await fetch(`${s.url}/v2/example.com/org/app/_trust/tuf/`, {
    method: 'POST',
    headers: { authorization: 'Bearer s3cret-upload-token', cookie: 'c=s3cret-cookie' },
    body: form,
  });
  assert.equal(r.status, 400);
  await s.close();
  const text = lines.join('');
  // @fastify/multipart logs the busboy options, request headers included, at trace level
  assert.match(text, /busboy/);
  assert.ok(!text.includes('s3cret-upload-token'), 'token in the log');
  assert.ok(!text.includes('s3cret-cookie'), 'cookie in the log');
});
