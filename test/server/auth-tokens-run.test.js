// startServer with `auth: tokens` (run.ts wiring, ADR 0032): the token table of the server's
// own database, tokens created beside it after it started, GET /v2/ open with anonymousRead, and the
// logs at trace level holding neither a token nor its hash, whatever the request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { loadServerConfig } from '../../dist/server/config.js';
import { serverLogger, startServer } from '../../dist/server/run.js';
import { SqliteTokenStore } from '../../dist/server/sqlite-token-store.js';
import { createToken } from '../../dist/server/tokens-admin.js';
import { hashToken } from '../../dist/server/tokens.js';
import { masterKeyHex } from '../helpers/server-process.js';
import { uploadForm } from '../helpers/server-app.js';
import { tempDir } from '../helpers/tmp.js';

test('startServer auth: tokens: /v2/ with anonymousRead, tokens made beside it work, logs never hold one', async (t) => {
  const dir = await tempDir(t, 'cnabsec-auth-run-');
  let log = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  const db = path.join(dir, 'server.db');
  const config = await loadServerConfig({
    flags: { listen: '127.0.0.1:0', db, auth: 'tokens' },
    env: { CNABSEC_SERVER_ANONYMOUS_READ: 'example.com/open/*' },
  });
  const s = await startServer(config, {
    logger: serverLogger('trace', stream),
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() },
  });
  t.after(() => s.close());
  const tokens = SqliteTokenStore.open({ path: db });
  t.after(() => tokens.close());
  const read = (await createToken(tokens, { scope: 'read', patterns: ['example.com/acme/*'] })).token;
  const bogus = `cnabsec_${'Z'.repeat(43)}`;
  const get = (p, token) =>
    fetch(`${s.url}${p}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  // with anonymousRead set, the API check /v2/ is open; a bad token is still refused
  assert.equal((await get('/v2/')).status, 200);
  const ping = await get('/v2/', bogus);
  assert.equal(ping.status, 401);
  assert.equal(ping.headers.get('www-authenticate'), 'Bearer realm="cnabsec"');
  assert.equal((await get('/v2/', read)).status, 200);
  assert.equal((await get('/v2/example.com/acme/app/_trust/tuf/root.json', read)).status, 404);
  assert.equal((await get('/v2/example.com/acme/app/_trust/tuf/root.json', bogus)).status, 401);
  assert.equal((await get('/v2/example.com/open/app/_trust/tuf/root.json')).status, 404);
  assert.equal((await get('/v2/example.com/acme/app/_trust/tuf/timestamp.key', read)).status, 403);
  const up = await fetch(`${s.url}/v2/example.com/acme/app/_trust/tuf/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${read}` },
    body: uploadForm([{ role: 'root', bytes: Buffer.from('{}') }]),
  });
  assert.equal(up.status, 403);
  assert.equal((await up.json()).errors[0].code, 'FORBIDDEN');
  await s.close();
  assert.ok((log.match(/"msg":"request"/g) ?? []).length >= 7, 'a log line per request');
  for (const secret of [read, bogus, hashToken(read), read.slice(8)])
    assert.ok(!log.includes(secret), `the log holds ${secret.slice(0, 12)}…`);
});
