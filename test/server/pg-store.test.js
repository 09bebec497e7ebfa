// The TrustStore contract (test/helpers/store-contract.js, ADR 0026) on the PostgreSQL store
// (src/server/pg-store.ts, ADR 0031): a private cluster for this file (test/helpers/postgres.js),
// a fresh database per test, a second PgTrustStore on the same database standing for another
// server process. Skipped, with the reason, where PostgreSQL cannot run.
import { test } from 'node:test';
import { openPgStore } from '../../dist/server/pg-store.js';
import { postgresUnavailable, startPostgres } from '../helpers/postgres.js';
import { storeContract } from '../helpers/store-contract.js';

const why = postgresUnavailable();
if (why !== undefined) {
  test('postgres: the TrustStore contract', (t) => t.skip(`PostgreSQL not available: ${why}`));
} else {
  /** The URL each store was opened on, for its peer. */
  const urls = new WeakMap();
  storeContract(
    'postgres',
    async (t, options) => {
      const { url } = await startPostgres(t);
      const store = await openPgStore({ url, ...options });
      urls.set(store, url);
      return store;
    },
    {
      peer: async (t, store) => {
        const other = await openPgStore({ url: urls.get(store) });
        t.after(() => other.close());
        return other;
      },
    },
  );
}
