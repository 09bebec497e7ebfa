/**
 * The PostgreSQL store's schema and its versioned migrations (issue 15 item 1, ADR 0031; the
 * SQLite twin is ./sqlite-schema.ts). Table `schema_migrations` records each applied version;
 * all pending migrations run in ONE transaction holding a global advisory lock (the only
 * global lock: several server processes starting at once apply each step once, the others
 * wait and then find nothing to do). A database whose version is above the highest known one
 * was written by a newer cnabsec and is refused (STORE_SCHEMA), never written.
 *
 * Bytes are `bytea` (byte-identical reads), times `timestamptz`, versions `integer` (the
 * port's versions are safe integers >= 1; TUF versions above 2^31 do not occur in practice and
 * are refused by the CHECK rather than truncated).
 */
import type pg from 'pg';
import { ServerError } from './errors.js';

export interface PgMigration {
  version: number;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE tuf_files (
  repo text COLLATE "C" NOT NULL,
  role text COLLATE "C" NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  data bytea NOT NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (repo, role, version)
);
CREATE INDEX tuf_files_checksum ON tuf_files (repo, role, sha256);
CREATE INDEX tuf_files_expires ON tuf_files (expires_at);
CREATE TABLE target_files (
  id bigserial PRIMARY KEY,
  repo text COLLATE "C" NOT NULL,
  path text COLLATE "C" NOT NULL,
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  data bytea NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (repo, path, sha256)
);
CREATE INDEX target_files_latest ON target_files (repo, path, id);
CREATE TABLE online_keys (
  repo text COLLATE "C" NOT NULL,
  role text COLLATE "C" NOT NULL,
  keyid text NOT NULL CHECK (length(keyid) = 64),
  public text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
  kek_id text NOT NULL,
  nonce bytea NOT NULL CHECK (length(nonce) = 12),
  ciphertext bytea NOT NULL,
  tag bytea NOT NULL CHECK (length(tag) = 16),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (repo, role, keyid)
);
CREATE UNIQUE INDEX online_keys_one_pending ON online_keys (repo, role) WHERE state = 'pending';
CREATE INDEX online_keys_kek ON online_keys (kek_id);
`,
  },
];

export const PG_SCHEMA_VERSION = Math.max(...PG_MIGRATIONS.map((m) => m.version));

/** The advisory lock key space of cnabsec (first int4 of the two-key form). */
export const LOCK_SPACE = 0x636e6162; // 'cnab'
/** The second key of the migration lock (repository locks use hashtext(repo)). */
const MIGRATE_KEY_SPACE = LOCK_SPACE + 1;

function schemaTooNew(found: number, known: number): ServerError {
  return new ServerError(
    'STORE_SCHEMA',
    `the database has schema version ${found}, newer than this cnabsec knows (${known})`,
    { details: { found, known }, hint: 'run the cnabsec version that wrote it, or restore a backup' },
  );
}

export interface PgMigrateResult {
  /** The schema version found (0: a new database). */
  from: number;
  /** The schema version after migrating. */
  to: number;
}

/** Apply every pending migration in one transaction under the migration advisory lock. */
export async function migratePgSchema(
  client: pg.PoolClient | pg.Client,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<PgMigrateResult> {
  const known = Math.max(...migrations.map((m) => m.version));
  await client.query('BEGIN');
  try {
    // a migration of a large table may take longer than the pool's statement_timeout
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [MIGRATE_KEY_SPACE]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
    );
    const row = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    const from = row.rows[0]?.v ?? 0;
    if (from > known) throw schemaTooNew(from, known);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= from) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
        m.version,
      ]);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, known) };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
