/**
 * The server's database by its `db` setting (issue 15 item 1, ADR 0031): a `postgres://` or
 * `postgresql://` URL opens the PostgreSQL store (./pg-store.ts) and its online keys
 * (./pg-online-keys.ts, sharing the store's pool); anything else is a SQLite file
 * (./sqlite-store.ts, ./sqlite-online-keys.ts), its directory created 0700. The password of a
 * URL (or PGPASSWORD, which `pg` reads) never reaches a log or an error: `describeDb` redacts.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ServerError } from './errors.js';
import type { OnlineKeysOptions, SealedOnlineKeys } from './online-keys.js';
import { PgOnlineKeys } from './pg-online-keys.js';
import { isPostgresUrl, redactUrl } from './pg-errors.js';
import { openPgStore, PgTrustStore } from './pg-store.js';
import { SCHEMA_VERSION } from './sqlite-schema.js';
import { SqliteOnlineKeys } from './sqlite-online-keys.js';
import { openSqliteStore } from './sqlite-store.js';
import type { TrustStore } from './store.js';

export { isPostgresUrl } from './pg-errors.js';

export interface OpenStoreOptions {
  /** Largest metadata file stored, bytes. */
  maxMetaBytes?: number;
  /** Largest target file stored, bytes. */
  maxTargetFileBytes?: number;
  /** PostgreSQL: most connections of this process (default 10). */
  poolMax?: number;
  /** How long a write waits for its repository, ms. */
  lockTimeoutMs?: number;
  now?: () => Date;
}

/** `db` as it may be shown: a URL without its password, a path as it is. */
export function describeDb(db: string): string {
  return isPostgresUrl(db) ? redactUrl(db) : db;
}

/** Open (create, migrate) the store `db` names. */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<TrustStore> {
  const { maxMetaBytes, maxTargetFileBytes, now, lockTimeoutMs } = options;
  const common = {
    ...(maxMetaBytes === undefined ? {} : { maxMetaBytes }),
    ...(maxTargetFileBytes === undefined ? {} : { maxTargetFileBytes }),
    ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
    ...(now === undefined ? {} : { now }),
  };
  if (isPostgresUrl(db))
    return openPgStore({
      url: db,
      ...common,
      ...(options.poolMax === undefined ? {} : { poolMax: options.poolMax }),
    });
  await mkdir(path.dirname(db), { recursive: true, mode: 0o700 });
  return openSqliteStore({ path: db, ...common });
}

/** The online keys beside `store` (opened by `openStore(db)`): the same database. */
export function openOnlineKeys(
  db: string,
  store: TrustStore,
  options: OnlineKeysOptions,
): SealedOnlineKeys & { close(): void | Promise<void> } {
  if (store instanceof PgTrustStore) return PgOnlineKeys.open({ ...options, pool: store.pgPool });
  return SqliteOnlineKeys.open({ path: db, ...options });
}

/** The schema version of a SQLite file before migrating (0: new or empty). */
function sqliteVersion(file: string): number {
  if (!existsSync(file)) return 0;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, readonly: true });
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
      .get();
    if (table === undefined) return 0;
    return db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_version').get()?.v ?? 0;
  } catch (e) {
    throw new ServerError(
      'STORE_IO',
      `${file}: cannot read the database: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
        hint: 'check that --db names the server database file',
      },
    );
  } finally {
    db?.close();
  }
}

/**
 * Create or upgrade the schema of `db` (`cnabsec server migrate`): the version found and the
 * version after. A database newer than this code is refused (STORE_SCHEMA), a current one is a
 * no-op (`from === to`). Safe beside running servers: migrations take the database's lock.
 */
export async function migrateStore(db: string): Promise<{ from: number; to: number }> {
  if (isPostgresUrl(db)) {
    const store = PgTrustStore.open({ url: db, poolMax: 1 });
    try {
      return await store.migrateSchema();
    } finally {
      await store.close();
    }
  }
  const from = sqliteVersion(db);
  await mkdir(path.dirname(db), { recursive: true, mode: 0o700 });
  const store = await openSqliteStore({ path: db });
  await store.close();
  return { from, to: Math.max(from, SCHEMA_VERSION) };
}
