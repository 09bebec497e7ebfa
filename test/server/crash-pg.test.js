// Crash safety of `cnabsec server` on PostgreSQL (issue 15 item 4): the same suites as
// ./crash.test.js (../helpers/crash-suite.js) on a private PostgreSQL cluster started by
// ../helpers/postgres.js `startPostgres(t)` → {url}. Skipped, with the reason shown, when that
// helper is not there or PostgreSQL cannot start on this machine.
import { test } from 'node:test';
import { runCrashSuite, runRefreshCrashSuite } from '../helpers/crash-suite.js';

/** `startPostgres`, or the reason the PostgreSQL crash suites are skipped. */
async function postgresHelper() {
  try {
    const mod = await import('../helpers/postgres.js');
    if (typeof mod.startPostgres !== 'function')
      return { skip: 'test/helpers/postgres.js has no startPostgres' };
    return { startPostgres: mod.startPostgres };
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('helpers/postgres.js'))
      return { skip: 'test/helpers/postgres.js is not there (no PostgreSQL store on this branch)' };
    throw e;
  }
}

// imported at load, not inside a test: its after() (stopping the cluster) must be the file's
const helper = await postgresHelper();

/** A fresh database per suite, or the reason PostgreSQL could not start. */
async function postgresDb(t) {
  if (helper.skip !== undefined) return helper;
  try {
    const pg = await helper.startPostgres(t); // undefined when unavailable (it skips t itself)
    if (pg === undefined) return { skip: 'PostgreSQL is not available here (see test/helpers/postgres.js)' };
    return { db: async () => pg.url };
  } catch (e) {
    return { skip: `PostgreSQL could not start: ${e?.message ?? e}` };
  }
}

test('crash: SIGKILL 50 times during concurrent uploads (PostgreSQL): nothing accepted lost, nothing partial', async (t) => {
  const pg = await postgresDb(t);
  if (pg.skip !== undefined) return t.skip(pg.skip);
  await runCrashSuite(t, { db: pg.db, kills: 50 });
});

test('crash: SIGKILL during the scheduled refresh (PostgreSQL): timestamps stay valid and are re-signed', async (t) => {
  const pg = await postgresDb(t);
  if (pg.skip !== undefined) return t.skip(pg.skip);
  await runRefreshCrashSuite(t, { db: pg.db });
});
