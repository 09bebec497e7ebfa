/**
 * `OnlineKeys` (./online-keys.ts) in the TrustStore's SQLite database (ADR 0020, ADR 0021):
 * table `online_keys` of schema version 2 (./sqlite-schema.ts), holding the public key, the
 * state and the sealed private key (kek_id, nonce, ciphertext, tag), never the private key.
 *
 * It opens its own connection to the store's file (WAL, busy_timeout, as ./sqlite-store.ts)
 * and migrates it. Each write is one `BEGIN IMMEDIATE` transaction, so two processes (or two
 * connections) asking for the pending key at once end with one key: the second sees the
 * first's row; the partial unique index `online_keys_one_pending` backs that up.
 */
import Database from 'better-sqlite3';
import { mapSqliteError, openPrivateDatabase } from './sqlite-errors.js';
import { ServerError } from './errors.js';
import {
  ONLINE_KEY_COLUMNS,
  onlineKeyRowOf,
  SealedOnlineKeys,
  type OnlineKeyDbRow,
  type OnlineKeyRow,
  type OnlineKeyRows,
  type OnlineKeysOptions,
  type OnlineKeyState,
  type SealedRowRef,
} from './online-keys.js';
import type { SealedKey } from './seal.js';
import { migrateSchema } from './sqlite-schema.js';

const COLUMNS = ONLINE_KEY_COLUMNS;

class SqliteRows implements OnlineKeyRows {
  private readonly allStmt;
  private readonly getStmt;
  private readonly pendingStmt;
  private readonly insertStmt;
  private readonly stateStmt;
  private readonly staleStmt;
  private readonly resealStmt;
  private readonly deleteStmt;

  constructor(private readonly db: Database.Database) {
    const where = 'FROM online_keys WHERE repo = ? AND role = ?';
    this.allStmt = db.prepare<[string, string], OnlineKeyDbRow>(
      `SELECT ${COLUMNS} ${where} ORDER BY created_at, keyid`,
    );
    this.getStmt = db.prepare<[string, string, string], OnlineKeyDbRow>(
      `SELECT ${COLUMNS} ${where} AND keyid = ?`,
    );
    this.pendingStmt = db.prepare<[string, string], OnlineKeyDbRow>(
      `SELECT ${COLUMNS} ${where} AND state = 'pending'`,
    );
    this.insertStmt = db.prepare<[string, string, string, string, string, Buffer, Buffer, Buffer, number]>(
      `INSERT INTO online_keys (repo, role, ${COLUMNS}) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
    );
    this.staleStmt = db.prepare<[string, number], OnlineKeyDbRow & { repo: string; role: string }>(
      `SELECT repo, role, ${COLUMNS} FROM online_keys WHERE kek_id <> ? LIMIT ?`,
    );
    this.resealStmt = db.prepare<[string, Buffer, Buffer, Buffer, string, string, string, Buffer]>(
      'UPDATE online_keys SET kek_id = ?, nonce = ?, ciphertext = ?, tag = ? WHERE repo = ? AND role = ? AND keyid = ? AND nonce = ?',
    );
    this.deleteStmt = db.prepare<[string]>('DELETE FROM online_keys WHERE repo = ?');
    this.stateStmt = db.prepare<[OnlineKeyState, string, string, string]>(
      'UPDATE online_keys SET state = ? WHERE repo = ? AND role = ? AND keyid = ?',
    );
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw mapSqliteError(e, what);
    }
  }

  all(repo: string, role: string): OnlineKeyRow[] {
    return this.run(repo, () => this.allStmt.all(repo, role).map(onlineKeyRowOf));
  }

  get(repo: string, role: string, keyid: string): OnlineKeyRow | undefined {
    return this.run(repo, () => {
      const r = this.getStmt.get(repo, role, keyid);
      return r === undefined ? undefined : onlineKeyRowOf(r);
    });
  }

  insertPending(repo: string, role: string, row: OnlineKeyRow): OnlineKeyRow {
    const tx = this.db.transaction((): OnlineKeyRow => {
      const pending = this.pendingStmt.get(repo, role);
      if (pending !== undefined) return onlineKeyRowOf(pending);
      const s = row.sealed;
      const pub = JSON.stringify(row.public);
      this.insertStmt.run(
        repo,
        role,
        row.keyid,
        pub,
        s.kekId,
        s.nonce,
        s.ciphertext,
        s.tag,
        row.createdAt.getTime(),
      );
      return { ...row, state: 'pending' };
    });
    return this.run(repo, () => tx.immediate());
  }

  transition(
    repo: string,
    role: string,
    decide: (rows: OnlineKeyRow[]) => Map<string, OnlineKeyState>,
  ): void {
    const tx = this.db.transaction(() => {
      const changes = decide(this.allStmt.all(repo, role).map(onlineKeyRowOf));
      for (const [keyid, state] of changes) this.stateStmt.run(state, repo, role, keyid);
    });
    this.run(repo, () => {
      tx.immediate();
    });
  }

  sealedElsewhere(kekId: string, limit: number): SealedRowRef[] {
    return this.run('reseal', () =>
      this.staleStmt.all(kekId, limit).map((r) => ({
        repo: r.repo,
        role: r.role,
        keyid: r.keyid,
        sealed: { kekId: r.kek_id, nonce: r.nonce, ciphertext: r.ciphertext, tag: r.tag },
      })),
    );
  }

  deleteRepo(repo: string): number {
    return this.run(repo, () => this.deleteStmt.run(repo).changes);
  }

  replaceSealed(ref: SealedRowRef, sealed: SealedKey): boolean {
    const { repo, role, keyid } = ref;
    const args = [
      sealed.kekId,
      sealed.nonce,
      sealed.ciphertext,
      sealed.tag,
      repo,
      role,
      keyid,
      ref.sealed.nonce,
    ] as const;
    return this.run(repo, () => this.resealStmt.run(...args).changes === 1);
  }
}

export interface SqliteOnlineKeysOptions extends OnlineKeysOptions {
  /** The TrustStore's database file. */
  path: string;
  /** How long a write waits for another connection's write lock, ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** OnlineKeys on a SQLite file; `close()` closes its connection. */
export class SqliteOnlineKeys extends SealedOnlineKeys {
  private constructor(
    private readonly db: Database.Database,
    options: OnlineKeysOptions,
  ) {
    super(new SqliteRows(db), options);
  }

  /** Open the database file, set WAL and busy_timeout, apply pending migrations. */
  static open(options: SqliteOnlineKeysOptions): SqliteOnlineKeys {
    let db: Database.Database | undefined;
    try {
      db = openPrivateDatabase(options.path);
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      migrateSchema(db);
      return new SqliteOnlineKeys(db, options);
    } catch (e) {
      db?.close();
      const mapped = mapSqliteError(e, options.path);
      if (mapped instanceof ServerError) throw mapped;
      const why = e instanceof Error ? e.message : String(e);
      throw new ServerError('STORE_IO', `${options.path}: cannot open the database: ${why}`, { cause: e });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
