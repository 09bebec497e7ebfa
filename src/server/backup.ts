/**
 * An online backup of the server's SQLite file (`cnabsec server-backup`, docs/server.md): the
 * SQLite backup API through better-sqlite3's `db.backup()`, which copies a consistent snapshot
 * of the database, WAL included, while servers keep reading and writing it. Copying the file
 * with `cp` is not safe: committed transactions may still be in `cnabsec.db-wal` only. The
 * copy is written next to `out` under a temporary name, checked (`PRAGMA integrity_check`)
 * and renamed into place, so `out` is either a whole, checked database or absent.
 */
import { promises as fsp } from 'node:fs';
import Database from 'better-sqlite3';
import { createPrivateFile } from './sqlite-errors.js';
import { describeErrno } from '../util/errno.js';
import { pathExists, tempPathFor } from '../util/fs.js';
import { ServerError } from './errors.js';
import { isPostgresUrl, redactUrl } from './pg-errors.js';

export interface BackupResult {
  db: string;
  out: string;
  /** Size of the copy in bytes. */
  bytes: number;
}

function backupError(message: string, details: Record<string, unknown>, cause?: unknown): ServerError {
  return new ServerError('STORE_IO', message, {
    ...(cause === undefined ? {} : { cause }),
    details,
    hint: 'check both paths, their permissions and free space',
  });
}

/** Copy the database `db` to the new file `out` (refused when `out` exists). */
export async function backupDatabase(db: string, out: string): Promise<BackupResult> {
  if (isPostgresUrl(db))
    throw new ServerError(
      'SERVER_CONFIG',
      `${redactUrl(db)}: server-backup copies a SQLite file, not PostgreSQL`,
      {
        details: { db: redactUrl(db), out },
        hint: 'back up PostgreSQL with its own tools: pg_dump --format=custom (docs/server.md)',
      },
    );
  if (await pathExists(out))
    throw new ServerError('STORE_IO', `${out}: already exists; a backup never overwrites`, {
      details: { db, out },
      hint: 'give a new file name (or remove the old backup first)',
    });
  if (!(await pathExists(db)))
    throw new ServerError('STORE_IO', `${db}: no such database`, {
      details: { db, out },
      hint: 'give the --db the server runs with (default $CNABSEC_HOME/server/cnabsec.db)',
    });
  let source: Database.Database;
  try {
    source = new Database(db, { fileMustExist: true });
  } catch (e) {
    throw backupError(`${db}: cannot open the database: ${describeErrno(e)}`, { db }, e);
  }
  const tmp = tempPathFor(out);
  try {
    source.pragma('busy_timeout = 5000');
    // created 0600 before a byte is copied (it holds sealed keys, token hashes and unpublished
    // state); the backup writes into it and keeps its mode
    createPrivateFile(tmp);
    await source.backup(tmp);
    const copy = new Database(tmp, { fileMustExist: true });
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok')
        throw backupError(`${out}: the copy fails its integrity check: ${String(check)}`, { db, out });
      copy.pragma('journal_mode = DELETE'); // a single self-contained file
    } finally {
      copy.close();
    }
    await fsp.link(tmp, out).catch((e: unknown) => {
      throw backupError(`${out}: cannot create the backup: ${describeErrno(e)}`, { db, out }, e);
    });
    return { db, out, bytes: (await fsp.stat(out)).size };
  } catch (e) {
    if (e instanceof ServerError) throw e;
    throw backupError(`${db} → ${out}: backup failed: ${describeErrno(e)}`, { db, out }, e);
  } finally {
    source.close();
    await fsp.rm(tmp, { force: true });
  }
}
