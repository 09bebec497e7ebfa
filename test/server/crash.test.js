// Crash safety of `cnabsec server` on SQLite (issue 15 item 4): SIGKILL at least 50 times
// during a stream of concurrent uploads, and during the scheduled timestamp refresh; after
// every restart each repository is at a complete state a client uploaded whole, walked by the
// unmodified tuf-js client from its pinned root, and no upload a client saw 200 for is lost
// (../helpers/crash-suite.js; CRASH_SEED=<n> replays a run's kill modes and delays).
import { test } from 'node:test';
import * as path from 'node:path';
import { runCrashSuite, runRefreshCrashSuite } from '../helpers/crash-suite.js';

const sqlite = async (dir) => path.join(dir, 'trust.db');

test('crash: SIGKILL 50 times during concurrent uploads (SQLite): nothing accepted lost, nothing partial', async (t) => {
  await runCrashSuite(t, { db: sqlite, kills: 50 });
});

test('crash: SIGKILL during the scheduled refresh (SQLite): timestamps stay valid and are re-signed', async (t) => {
  await runRefreshCrashSuite(t, { db: sqlite });
});
