// The TrustStore contract (test/helpers/store-contract.js, ADR 0026) against every adapter:
// the in-memory reference (src/server/memory-store.ts) and the embedded SQLite store
// (src/server/sqlite-store.ts) on a temporary file, a second connection standing for another
// server process.
import * as path from 'node:path';
import { openMemoryStore } from '../../dist/server/memory-store.js';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { storeContract } from '../helpers/store-contract.js';
import { tempDir } from '../helpers/tmp.js';

storeContract('memory', (_t, options) => openMemoryStore(options), {
  peer: async (_t, store) => store.peer(),
});

/** The file each SQLite store was opened on, for its peer. */
const files = new WeakMap();

storeContract(
  'sqlite',
  async (t, options) => {
    const file = path.join(await tempDir(t, 'cnabsec-store-'), 'server.db');
    const store = await openSqliteStore({ path: file, ...options });
    files.set(store, file);
    return store;
  },
  {
    peer: async (t, store) => {
      const other = await openSqliteStore({ path: files.get(store) });
      t.after(() => other.close());
      return other;
    },
  },
);
