// The metadata repository server of issue 13, in this test's process: TrustService on a
// SQLite store in a temporary directory, online keys in memory under a random master key, and
// the fastify app, listening on 127.0.0.1 port 0. Closed after the test. The CLI must then be
// run with runCliAsync (test/helpers/cli.js): a blocking child would stall the server.
import { startServerApp } from './server-app.js';

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
 * Start the server on the real clock with online keys in memory (./server-app.js); options:
 * `authenticator`, `now` (the service's clock), `expiry` ({timestamp, snapshot} seconds).
 * Returns {url, service, store, requests, close}; `requests` holds every request that reached
 * the server, whatever its route: {method, url, authorization}.
 */
export async function startMetadataServer(t, { authenticator, now = () => new Date(), expiry } = {}) {
  return startServerApp(t, {
    keys: 'memory',
    now,
    recordRequests: true,
    service: expiry === undefined ? {} : { expiry },
    app: authenticator === undefined ? {} : { authenticator },
  });
}
