/**
 * The SQLite store's schema and its versioned migrations (ADR 0020; server-architecture-
 * anchors §6 rule 3: a schema that defends itself). Migrations are applied in order, all
 * pending ones in ONE `BEGIN IMMEDIATE` transaction (SQLite's write lock is the advisory lock:
 * several processes migrating one file at once apply each step once). A database whose
 * `schema_version` is above the highest known one was written by a newer cnabsec and is
 * refused rather than written with a schema this code does not know.
 */
import type Database from 'better-sqlite3';
import { ServerError } from './errors.js';

export interface Migration {
  version: number;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE tuf_files (
  repo TEXT NOT NULL,
  role TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  data BLOB NOT NULL,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo, role, version)
) WITHOUT ROWID;
CREATE INDEX tuf_files_checksum ON tuf_files (repo, role, sha256);
CREATE INDEX tuf_files_expires ON tuf_files (expires_at);
CREATE TABLE target_files (
  id INTEGER PRIMARY KEY,
  repo TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (repo, path, sha256)
);
CREATE INDEX target_files_latest ON target_files (repo, path, id);
`,
  },
  {
    // online keys sealed under the master key (ADR 0021): additive, so a version-1 database
    // upgrades in place; at most one pending key per repository and role (partial index)
    version: 2,
    sql: `
CREATE TABLE online_keys (
  repo TEXT NOT NULL,
  role TEXT NOT NULL,
  keyid TEXT NOT NULL CHECK (length(keyid) = 64),
  public TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
  kek_id TEXT NOT NULL,
  nonce BLOB NOT NULL CHECK (length(nonce) = 12),
  ciphertext BLOB NOT NULL,
  tag BLOB NOT NULL CHECK (length(tag) = 16),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo, role, keyid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX online_keys_one_pending ON online_keys (repo, role) WHERE state = 'pending';
CREATE INDEX online_keys_kek ON online_keys (kek_id);
`,
  },
  {
    // bearer tokens (ADR 0032): only the SHA-256 of each token, never the token; additive
    version: 3,
    sql: `
CREATE TABLE tokens (
  id TEXT PRIMARY KEY CHECK (length(id) = 12),
  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
  scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  patterns TEXT NOT NULL,
  description TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
) WITHOUT ROWID;
`,
  },
];

export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

function schemaTooNew(found: number, known: number): ServerError {
  return new ServerError(
    'STORE_SCHEMA',
    `the database has schema version ${found}, newer than this cnabsec knows (${known})`,
    { details: { found, known }, hint: 'run the cnabsec version that wrote it, or restore a backup' },
  );
}

/** Apply every pending migration in one immediate transaction; returns the schema version. */
export function migrateSchema(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const known = Math.max(...migrations.map((m) => m.version));
  const run = db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const row = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_version').get();
    const current = row?.v ?? 0;
    if (current > known) throw schemaTooNew(current, known);
    const insert = db.prepare<[number, number]>(
      'INSERT INTO schema_version (version, applied_at) VALUES (?, ?)',
    );
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      insert.run(m.version, Date.now());
    }
    return Math.max(current, known);
  });
  return run.immediate();
}
