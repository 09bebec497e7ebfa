// Review of issue 15 (ADR 0032): metadata answered to a bearer token must not be marked
// `public` (RFC 9111 §3.5: `public` lets a shared cache reuse an answer to an authorized
// request for anyone), or a CDN in front serves a private repository to anonymous clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tokenAuthenticator } from '../../dist/server/auth.js';
import { SqliteTokenStore } from '../../dist/server/sqlite-token-store.js';
import { createToken } from '../../dist/server/tokens-admin.js';
import { fullUpload, serverManagedRepo } from '../helpers/service.js';
import { startServerApp, trustBase, uploadForm } from '../helpers/server-app.js';
import { tempDir } from '../helpers/tmp.js';

const ACME = 'example.com/acme/app';
const PUBLIC = 'example.com/public/app';

test('metadata read with a token is Cache-Control private; anonymous-read metadata stays public', async (t) => {
  const dir = await tempDir(t, 'cnabsec-authc-');
  const tokens = SqliteTokenStore.open({ path: path.join(dir, 'trust.db') });
  t.after(() => tokens.close());
  const srv = await startServerApp(t, {
    dir,
    app: { authenticator: tokenAuthenticator(tokens, { anonymousRead: ['example.com/public/*'] }) },
  });
  const { token } = await createToken(tokens, { scope: 'admin', patterns: ['*'], now: srv.now() });
  const headers = { authorization: `Bearer ${token}` };
  for (const name of [ACME, PUBLIC]) {
    const parts = fullUpload(await serverManagedRepo(t, srv, { name }));
    const r = await fetch(`${trustBase(srv.url, name)}/`, {
      method: 'POST',
      headers,
      body: uploadForm(parts),
    });
    assert.equal(r.status, 200, await r.text());
  }
  for (const file of ['root.json', 'timestamp.json', '1.root.json']) {
    const r = await fetch(`${trustBase(srv.url, ACME)}/${file}`, { headers });
    await r.arrayBuffer();
    assert.equal(r.status, 200);
    const cc = r.headers.get('cache-control') ?? '';
    assert.ok(!/\bpublic\b/.test(cc), `${file}: ${cc}`);
    assert.match(cc, /\bprivate\b/, file);
  }
  const anon = await fetch(`${trustBase(srv.url, PUBLIC)}/root.json`);
  await anon.arrayBuffer();
  assert.equal(anon.status, 200);
  assert.match(anon.headers.get('cache-control') ?? '', /\bpublic\b/);
});
