// One of several processes racing on one SQLite store file (test/server/sqlite-store.test.js):
// `count` read-current-then-append-next-version transactions on a shared repository and on its
// own, retrying on VERSION_CONFLICT (another process took that version) and STORE_BUSY.
// Usage: node store-racer.js <db> <id> <shared-repo> <own-repo> <count>
// Prints {id, committed, conflicts} as JSON on stdout.
import { openSqliteStore } from '../../dist/server/sqlite-store.js';

const [db, id, shared, own, countText] = process.argv.slice(2);
const count = Number(countText);
const store = await openSqliteStore({ path: db, busyTimeoutMs: 10_000 });
let conflicts = 0;

async function appendNext(repo, i) {
  for (;;) {
    try {
      await store.transact(repo, async (tx) => {
        const cur = await tx.current('timestamp');
        // Yield between the read and the commit so other processes get to write in between.
        await new Promise((resolve) => setImmediate(resolve));
        const version = (cur?.version ?? 0) + 1;
        tx.append([{ role: 'timestamp', version, bytes: Buffer.from(JSON.stringify({ id, i, version })) }]);
      });
      return;
    } catch (e) {
      if (e?.code !== 'VERSION_CONFLICT' && e?.code !== 'STORE_BUSY') throw e;
      conflicts++;
    }
  }
}

for (let i = 0; i < count; i++) {
  await appendNext(shared, i);
  await appendNext(own, i);
}
await store.close();
process.stdout.write(JSON.stringify({ id, committed: count, conflicts }) + '\n');
