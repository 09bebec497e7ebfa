/**
 * `migrateStore(db)`: create or upgrade the server's database schema and report the versions
 * before and after (`cnabsec server-migrate`). SQLite only on this branch; the PostgreSQL
 * store's migrations plug in behind the same signature (a `postgres://` URL).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ServerError } from './errors.js';
import { migrateSchema } from './sqlite-schema.js';

function storeIo(db: string, e: unknown): ServerError {
  const why = e instanceof Error ? e.message : String(e);
  return new ServerError('STORE_IO', `${db}: cannot migrate the database: ${why}`, {
    cause: e,
    details: { db },
    hint: 'check the database file, its directory, permissions and free space',
  });
}

/** Apply every pending migration (in one transaction); `from` 0 is a new database. */
export async function migrateStore(db: string): Promise<{ from: number; to: number }> {
  if (/^postgres(ql)?:\/\//i.test(db))
    throw new ServerError('SERVER_CONFIG', 'this build migrates SQLite databases only', {
      details: { source: 'db' },
      hint: 'give the path of a SQLite file',
    });
  await mkdir(path.dirname(db), { recursive: true, mode: 0o700 });
  let conn: Database.Database | undefined;
  try {
    conn = new Database(db);
    conn.pragma('journal_mode = WAL');
    conn.pragma('busy_timeout = 5000');
    const hasTable = conn
      .prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'schema_version'")
      .get();
    const from =
      (hasTable?.n ?? 0) === 0
        ? 0
        : (conn.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_version').get()?.v ??
          0);
    const to = migrateSchema(conn);
    return { from, to };
  } catch (e) {
    throw e instanceof ServerError ? e : storeIo(db, e);
  } finally {
    conn?.close();
  }
}
