/**
 * The SQL of ./pg-store.ts over the schema of ./pg-schema.ts, and the row shapes the `pg`
 * driver returns for it (bytea → Buffer, timestamptz → Date, integer → number). "Current" is
 * the highest stored version of a role (the primary key's index answers it). Every ORDER BY on
 * text is byte order: the columns are COLLATE "C", whatever the database's locale.
 */
export interface PgMetaRow {
  role: string;
  version: number;
  sha256: string;
  data: Buffer;
  created_at: Date;
  expires_at: Date | null;
}

export interface PgTargetRow {
  path: string;
  sha256: string;
  data: Buffer;
  created_at: Date;
}

export interface PgExpiringRow {
  repo: string;
  role: string;
  version: number;
  expires_at: Date;
}

const COLUMNS = 'role, version, sha256, data, created_at, expires_at';

export const SQL = {
  current: `SELECT ${COLUMNS} FROM tuf_files WHERE repo = $1 AND role = $2 ORDER BY version DESC LIMIT 1`,
  byVersion: `SELECT ${COLUMNS} FROM tuf_files WHERE repo = $1 AND role = $2 AND version = $3`,
  // Several versions may share bytes only in theory (the version is signed): the newest wins.
  byChecksum: `SELECT ${COLUMNS} FROM tuf_files WHERE repo = $1 AND role = $2 AND sha256 = $3 ORDER BY version DESC LIMIT 1`,
  currentAll: `SELECT DISTINCT ON (role) ${COLUMNS} FROM tuf_files WHERE repo = $1 ORDER BY role, version DESC`,
  versions: 'SELECT role, MAX(version) AS v FROM tuf_files WHERE repo = $1 GROUP BY role',
  insertMeta:
    'INSERT INTO tuf_files (repo, role, version, sha256, data, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
  targetLatest:
    'SELECT path, sha256, data, created_at FROM target_files WHERE repo = $1 AND path = $2 ORDER BY id DESC LIMIT 1',
  targetByChecksum:
    'SELECT path, sha256, data, created_at FROM target_files WHERE repo = $1 AND path = $2 AND sha256 = $3',
  deleteTarget: 'DELETE FROM target_files WHERE repo = $1 AND path = $2 AND sha256 = $3',
  insertTarget: 'INSERT INTO target_files (repo, path, sha256, data, created_at) VALUES ($1, $2, $3, $4, $5)',
  deleteMetas: 'DELETE FROM tuf_files WHERE repo = $1',
  deleteTargets: 'DELETE FROM target_files WHERE repo = $1',
  expiring: `SELECT repo, role, version, expires_at FROM tuf_files f WHERE expires_at IS NOT NULL AND expires_at < $1
      AND version = (SELECT MAX(version) FROM tuf_files g WHERE g.repo = f.repo AND g.role = f.role)
    ORDER BY expires_at, repo, role LIMIT $2`,
  /** The repository's write lock, held to the end of the transaction (ADR 0031). */
  lock: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
  tryLock: 'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked',
  /** Tell every process's cache (./pg-cache.ts); delivered at COMMIT only. */
  notify: 'SELECT pg_notify($1, $2)',
} as const;
