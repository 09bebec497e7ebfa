// The metadata repository server of issue 13, in this test's process: TrustService on a
// SQLite store in a temporary directory, online keys in memory under a random master key, and
// the fastify app, listening on 127.0.0.1 port 0. Closed after the test. The CLI must then be
// run with runCliAsync (test/helpers/cli.js): a blocking child would stall the server.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { tempDir } from './tmp.js';

/**
 * An Authenticator (src/server/app-types.ts) that accepts every caller and records what each
 * request sent: `calls[i]` = {method, repo, action, authorization}.
 */
export function recordingAuthenticator() {
  const calls = [];
  return {
    calls,
    async authenticate(input) {
      calls.push({ ...input });
      return input.authorization === undefined ? {} : { token: input.authorization };
    },
  };
}

/**
 * Start the server; options: `authenticator`, `now` (the service's clock), `expiry`
 * ({timestamp, snapshot} seconds). Returns {url, service, store, requests, close}.
 */
export async function startMetadataServer(t, options = {}) {
  const dir = await tempDir(t, 'cnabsec-server-');
  const { openSqliteStore } = await import('../../dist/server/sqlite-store.js');
  const { memoryOnlineKeys } = await import('../../dist/server/online-keys.js');
  const { MasterKey } = await import('../../dist/server/master-key.js');
  const { TrustService } = await import('../../dist/server/service.js');
  const { buildApp } = await import('../../dist/server/app.js');
  const { createMetrics } = await import('../../dist/server/metrics.js');
  const store = await openSqliteStore({ path: path.join(dir, 'cnabsec.db') });
  const metrics = createMetrics();
  const service = new TrustService({
    store,
    keys: memoryOnlineKeys({ master: { current: MasterKey.fromBytes(randomBytes(32)) } }),
    events: metrics.events,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.expiry === undefined ? {} : { expiry: options.expiry }),
  });
  const app = await buildApp({
    service,
    metrics,
    logger: false,
    ...(options.authenticator === undefined ? {} : { authenticator: options.authenticator }),
  });
  // every request that reaches the server, whatever its route: {method, url, authorization}
  const requests = [];
  app.addHook('onRequest', async (request) => {
    requests.push({ method: request.method, url: request.url, authorization: request.headers.authorization });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    await store.close();
  };
  t.after(close);
  return { url: `http://127.0.0.1:${port}`, service, store, requests, close };
}
