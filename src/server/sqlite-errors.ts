/**
 * better-sqlite3 errors as the server's store codes, for every SQLite adapter (the trust store,
 * online keys, tokens): busy or locked is STORE_BUSY (retry), anything else STORE_IO. The
 * PostgreSQL twin is ./pg-errors.ts.
 */
import { closeSync, constants, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ServerError } from './errors.js';

/**
 * Open (create) a SQLite database file readable by its owner only: the file is created 0600
 * before the driver opens it, whatever the umask, and SQLite gives its -wal and -shm files the
 * database file's mode. It holds sealed server keys and token hashes. An existing file keeps
 * its mode (the operator's choice); `:memory:` and `file:` URIs are the driver's.
 */
export function openPrivateDatabase(path: string): Database.Database {
  if (path !== ':memory:' && path !== '' && !path.startsWith('file:')) createPrivateFile(path);
  return new Database(path);
}

/** Create `path` mode 0600 if it does not exist (a database, or a backup about to be written). */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
}

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
