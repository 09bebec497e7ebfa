/**
 * better-sqlite3 errors as the server's store codes, for every SQLite adapter (the trust store,
 * online keys, tokens): busy or locked is STORE_BUSY (retry), anything else STORE_IO. The
 * PostgreSQL twin is ./pg-errors.ts.
 */
import Database from 'better-sqlite3';
import { ServerError } from './errors.js';

export function sqliteStoreIo(message: string, cause: unknown): ServerError {
  return new ServerError('STORE_IO', message, {
    cause,
    hint: 'check the database file, its directory, permissions and free space',
  });
}

/** A driver error as STORE_BUSY or STORE_IO; ServerErrors and programming errors pass through. */
export function mapSqliteError(e: unknown, what: string): unknown {
  if (!(e instanceof Database.SqliteError)) return e;
  if (e.code.startsWith('SQLITE_BUSY') || e.code.startsWith('SQLITE_LOCKED'))
    return new ServerError('STORE_BUSY', `${what}: the database is locked by another writer`, {
      cause: e,
      hint: 'retry in a moment',
    });
  return sqliteStoreIo(`${what}: ${e.message} (${e.code})`, e);
}
