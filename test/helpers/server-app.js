// The REAL metadata repository stack in-process (test/server/api-*.test.js): a SQLite store on a
// temp dir (migrated), sealed online keys under a random master key (SqliteOnlineKeys, or
// memoryOnlineKeys), TrustService with an injectable clock, createMetrics, buildApp, listening
// on 127.0.0.1 port 0. Closed by the test (t.after), app first, then keys and store.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { buildApp } from '../../dist/server/app.js';
import { MasterKey } from '../../dist/server/master-key.js';
import { createMetrics } from '../../dist/server/metrics.js';
import { memoryOnlineKeys } from '../../dist/server/online-keys.js';
import { TrustService } from '../../dist/server/service.js';
import { SqliteOnlineKeys } from '../../dist/server/sqlite-online-keys.js';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { clock } from './service.js';
import { tempDir } from './tmp.js';

/**
 * Start the stack; `keys`: 'sqlite' (default), 'memory' or 'none'; `service`: more
 * TrustService options; `dir` and `master` to share another server's database (a second process);
 * `wrapStore` to interpose on the service's store; `recordRequests` to collect every request that
 * reaches the server, whatever its route, as `requests` ({method, url, authorization}). Returns
 * {url, port, app, service, store, keys, metrics, now, dir, master, requests, close}.
 */
export async function startServerApp(
  t,
  {
    keys = 'sqlite',
    now = clock(),
    service = {},
    app = {},
    dir,
    master,
    wrapStore = (s) => s,
    recordRequests = false,
  } = {},
) {
  const d = dir ?? (await tempDir(t, 'cnabsec-api-'));
  const file = path.join(d, 'trust.db');
  const realStore = await openSqliteStore({ path: file, now });
  const store = wrapStore(realStore);
  const ring = { current: master ?? MasterKey.fromBytes(randomBytes(32)) };
  let online;
  if (keys === 'sqlite') online = SqliteOnlineKeys.open({ path: file, master: ring, now });
  else if (keys === 'memory') online = memoryOnlineKeys({ master: ring, now });
  const metrics = createMetrics();
  const svc = new TrustService({ store, keys: online, now, events: metrics.events, ...service });
  const fastify = await buildApp({ service: svc, metrics, logger: false, ...app });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fastify.close();
    online?.close?.();
    await realStore.close();
  };
  t.after(close);
  const requests = [];
  if (recordRequests)
    fastify.addHook('onRequest', async (request) => {
      requests.push({
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
      });
    });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const { port } = fastify.server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    app: fastify,
    service: svc,
    store: realStore,
    keys: online,
    metrics,
    dir: d,
    master: ring.current,
    now,
    requests,
    close,
  };
}

/** The base of a repository's trust paths on `url` (`<url>/v2/<repo>/_trust/tuf`). */
export const trustBase = (url, repo) => `${url}/v2/${repo}/_trust/tuf`;

/** A multipart body as Notary sends it: `{role, bytes}` as `files`, `{path, bytes}` as `target`. */
export function uploadForm(parts) {
  const fd = new FormData();
  for (const p of parts) {
    if (p.role !== undefined) fd.append('files', new Blob([p.bytes]), p.role);
    else fd.append('target', new Blob([p.bytes]), p.path);
  }
  return fd;
}

/** POST an upload over HTTP; {status, json}. */
export async function httpUpload(url, repo, parts) {
  const res = await fetch(`${trustBase(url, repo)}/`, { method: 'POST', body: uploadForm(parts) });
  return { status: res.status, json: await res.json() };
}
