/**
 * `TokenStore` (./token-store.ts) in the server's SQLite database: table `tokens` of schema
 * version 3 (./sqlite-schema.ts). Its own connection (WAL, busy_timeout as ./sqlite-store.ts),
 * so `cnabsec server-token create|list|revoke` can run beside a live server on the same file:
 * each statement is one short transaction, and a server sees a new or revoked token at its
 * next lookup (no cache).
 */
import Database from 'better-sqlite3';
import { mapSqliteError, openPrivateDatabase } from './sqlite-errors.js';
import { migrateSchema } from './sqlite-schema.js';
import { tokenRecordOf, type TokenRow, type TokenStore } from './token-store.js';
import type { TokenRecord } from './tokens.js';

const COLUMNS = 'id, hash, scope, patterns, description, created_at, expires_at, revoked_at';

export interface SqliteTokenStoreOptions {
  path: string;
  /** How long a statement waits for another writer (default 5000 ms). */
  busyTimeoutMs?: number;
}

export class SqliteTokenStore implements TokenStore {
  private readonly findStmt;
  private readonly listStmt;
  private readonly insertStmt;
  private readonly revokeStmt;
  private readonly getStmt;

  private constructor(private readonly db: Database.Database) {
    this.findStmt = db.prepare<[string], TokenRow>(`SELECT ${COLUMNS} FROM tokens WHERE hash = ?`);
    this.getStmt = db.prepare<[string], TokenRow>(`SELECT ${COLUMNS} FROM tokens WHERE id = ?`);
    this.listStmt = db.prepare<[], TokenRow>(`SELECT ${COLUMNS} FROM tokens ORDER BY created_at, id`);
    this.insertStmt = db.prepare<[string, string, string, string, string | null, number, number | null]>(
      `INSERT INTO tokens (id, hash, scope, patterns, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.revokeStmt = db.prepare<[number, string]>(
      'UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
    );
  }

  /** Open the database file, set WAL and busy_timeout, apply pending migrations. */
  static open(options: SqliteTokenStoreOptions): SqliteTokenStore {
    let db: Database.Database | undefined;
    try {
      db = openPrivateDatabase(options.path);
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      migrateSchema(db);
      return new SqliteTokenStore(db);
    } catch (e) {
      db?.close();
      throw mapSqliteError(e, `${options.path}: open the token table`);
    }
  }

  private run<T>(what: string, fn: () => T): Promise<T> {
    return new Promise((resolve) => {
      try {
        resolve(fn());
      } catch (e) {
        throw mapSqliteError(e, what); // rejects the promise
      }
    });
  }

  create(r: TokenRecord): Promise<void> {
    return this.run(`token ${r.id}: create`, () => {
      this.insertStmt.run(
        r.id,
        r.hash,
        r.scope,
        JSON.stringify(r.patterns),
        r.description ?? null,
        r.createdAt.getTime(),
        r.expiresAt?.getTime() ?? null,
      );
    });
  }

  findByHash(hash: string): Promise<TokenRecord | undefined> {
    return this.run('token lookup', () => {
      const row = this.findStmt.get(hash);
      return row === undefined ? undefined : tokenRecordOf(row);
    });
  }

  list(): Promise<TokenRecord[]> {
    return this.run('token list', () => this.listStmt.all().map(tokenRecordOf));
  }

  revoke(id: string, at: Date): Promise<TokenRecord | undefined> {
    return this.run(`token ${id}: revoke`, () => {
      this.revokeStmt.run(at.getTime(), id);
      const row = this.getStmt.get(id);
      return row === undefined ? undefined : tokenRecordOf(row);
    });
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
