/**
 * The embedded `TrustStore` (./store.ts) on better-sqlite3 (issue 13 item 1, ADR 0020): one
 * database file, WAL (readers never wait for the writer), `busy_timeout` (a writer waits for
 * another process's write instead of failing), `synchronous=NORMAL` (ADR 0020 says why).
 *
 * A write (`transact`) holds the repository's in-process mutex (./repo-lock.ts) across the
 * awaits of `work`, whose reads are ordinary lock-free reads; then ONE synchronous
 * `BEGIN IMMEDIATE` transaction re-reads the versions `work` saw and inserts. Another process
 * may have written the repository in between: a changed version, or a version already stored,
 * is VERSION_CONFLICT and nothing is stored. So several processes on one file can neither lose
 * nor duplicate a version, and no SQLite transaction is ever open across an await.
 */
import Database from 'better-sqlite3';
import { mapSqliteError, sqliteStoreIo, openPrivateDatabase } from './sqlite-errors.js';
import { ServerError } from './errors.js';
import { WriteGate } from './repo-lock.js';
import { migrateSchema } from './sqlite-schema.js';
import { sha256Hex, type RepositoryState } from './upload-parse.js';
import {
  stateOf,
  versionConflict,
  type ExpiringRole,
  type StoredMeta,
  type StoredTargetFile,
  type TransactOptions,
  type TransactResult,
  type TrustStore,
  type TrustTx,
} from './store.js';
import { SqliteStatements, type MetaRow, type TargetRow } from './sqlite-statements.js';
import { checkObserved, runQueuedTx, type QueuedTx } from './store-tx.js';

export interface SqliteStoreOptions {
  /** The database file (the caller picks the default, e.g. under $CNABSEC_HOME). */
  path: string;
  /** How long a write waits for another process's write lock (SQLite busy_timeout), ms. Default 5000. */
  busyTimeoutMs?: number;
  /** How long a write waits for this process's repository mutex, ms. Default 30000. */
  lockTimeoutMs?: number;
  /** NORMAL (default): durable across a process crash; FULL: also across a power loss (ADR 0020). */
  synchronous?: 'NORMAL' | 'FULL';
  /** Largest metadata file stored, bytes. Default 64 MiB (the targets limit of issue 13 item 3). */
  maxMetaBytes?: number;
  /** Largest target file stored, bytes. Default 16 MiB. */
  maxTargetFileBytes?: number;
  /** The clock for `createdAt`. */
  now?: () => Date;
}

const MiB = 1024 * 1024;

/** A driver error as the port's codes; ServerErrors and programming errors pass through. */
function mapError(e: unknown, what: string): unknown {
  if (!(e instanceof Database.SqliteError)) return e;
  const code = e.code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
    return new ServerError('VERSION_CONFLICT', `${what}: that version is already stored`, {
      cause: e,
      hint: 'someone published first: pull the current state and retry',
    });
  return mapSqliteError(e, what);
}

/** A synchronous read as a promise (its errors rejections), a found row mapped by `map`. */
function later<R, T>(read: () => R | undefined, map: (row: R) => T): Promise<T | undefined> {
  return new Promise((resolve) => {
    const row = read();
    resolve(row === undefined ? undefined : map(row));
  });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function metaOf(row: MetaRow): StoredMeta {
  return {
    role: row.role,
    version: row.version,
    sha256: row.sha256,
    bytes: row.data,
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at === null ? undefined : new Date(row.expires_at),
  };
}

export class SqliteTrustStore implements TrustStore {
  private readonly writes: WriteGate;
  private statements: SqliteStatements | undefined;
  private closed: Promise<void> | undefined;
  private readonly limits: { meta: number; target: number };
  private readonly now: () => Date;

  private constructor(
    private readonly db: Database.Database,
    options: SqliteStoreOptions,
  ) {
    this.writes = new WriteGate(options.lockTimeoutMs ?? 30_000, (repo) =>
      sqliteStoreIo(`${repo}: the store is closing`, undefined),
    );
    this.limits = { meta: options.maxMetaBytes ?? 64 * MiB, target: options.maxTargetFileBytes ?? 16 * MiB };
    this.now = options.now ?? (() => new Date());
  }

  /** Open (create) the database file and set its pragmas; call `migrate()` before use. */
  static open(options: SqliteStoreOptions): SqliteTrustStore {
    let db: Database.Database | undefined;
    try {
      db = openPrivateDatabase(options.path);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal' && !db.memory) throw new Error(`journal_mode is ${String(mode)}, not wal`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      return new SqliteTrustStore(db, options);
    } catch (e) {
      db?.close();
      const mapped = mapError(e, options.path);
      if (mapped instanceof ServerError) throw mapped;
      throw sqliteStoreIo(
        `${options.path}: cannot open the database: ${e instanceof Error ? e.message : String(e)}`,
        e,
      );
    }
  }

  /** Run `fn` on the database, mapping driver errors; refuses after `close()`. */
  private use<T>(what: string, fn: (s: SqliteStatements) => T): T {
    if (!this.db.open) throw sqliteStoreIo(`${what}: the store is closed`, undefined);
    try {
      this.statements ??= new SqliteStatements(this.db);
      return fn(this.statements);
    } catch (e) {
      throw mapError(e, what);
    }
  }

  getCurrent(repo: string, role: string): Promise<StoredMeta | undefined> {
    return later(() => this.use(repo, (s) => s.current.get(repo, role)), metaOf);
  }

  getVersion(repo: string, role: string, version: number): Promise<StoredMeta | undefined> {
    return later(() => this.use(repo, (s) => s.byVersion.get(repo, role, version)), metaOf);
  }

  getChecksum(repo: string, role: string, sha256: string): Promise<StoredMeta | undefined> {
    return later(() => this.use(repo, (s) => s.byChecksum.get(repo, role, sha256.toLowerCase())), metaOf);
  }

  /** Every role's current row, in one statement (one consistent read). */
  currentRows(repo: string): Promise<Map<string, StoredMeta>> {
    return new Promise((resolve) => {
      const rows = this.use(repo, (s) => s.currentAll.all(repo, repo));
      resolve(new Map(rows.map((r) => [r.role, metaOf(r)])));
    });
  }

  async currentState(repo: string): Promise<RepositoryState> {
    return stateOf(await this.currentRows(repo));
  }

  getTargetFile(repo: string, path: string, sha256?: string): Promise<StoredTargetFile | undefined> {
    const read = (s: SqliteStatements): TargetRow | undefined =>
      sha256 === undefined
        ? s.targetLatest.get(repo, path)
        : s.targetByChecksum.get(repo, path, sha256.toLowerCase());
    return later(
      () => this.use(repo, read),
      (r) => ({ path: r.path, sha256: r.sha256, bytes: r.data, createdAt: new Date(r.created_at) }),
    );
  }

  async transact<T>(
    repo: string,
    work: (tx: TrustTx) => Promise<T>,
    options: TransactOptions = {},
  ): Promise<TransactResult<T>> {
    return runQueuedTx(this.writes, this, this.limits, repo, work, options, (tx) => this.commit(tx));
  }

  /** ONE synchronous immediate transaction: re-check what `work` saw, then insert. */
  private commit(tx: QueuedTx): StoredMeta[] {
    if (tx.metas.length === 0 && tx.targets.length === 0) return [];
    const repo = tx.repo;
    const createdAt = this.now().getTime();
    return this.use(repo, (s) =>
      this.db
        .transaction(() => {
          checkObserved(tx, new Map(s.versions.all(repo).map((r) => [r.role, r.v])));
          const out: StoredMeta[] = [];
          for (const u of tx.metas) {
            const cur = s.maxVersion.get(repo, u.role)?.v ?? 0;
            if (u.version <= cur)
              throw versionConflict(repo, u.role, u.version, `version ${cur} is already stored`);
            const row: MetaRow = {
              role: u.role,
              version: u.version,
              sha256: sha256Hex(u.bytes),
              data: toBuffer(u.bytes),
              created_at: createdAt,
              expires_at: u.expiresAt?.getTime() ?? null,
            };
            s.insertMeta.run(
              repo,
              row.role,
              row.version,
              row.sha256,
              row.data,
              row.expires_at,
              row.created_at,
            );
            out.push(metaOf(row));
          }
          for (const f of tx.targets) {
            const sha = sha256Hex(f.bytes);
            s.deleteTarget.run(repo, f.path, sha);
            s.insertTarget.run(repo, f.path, sha, toBuffer(f.bytes), createdAt);
          }
          return out;
        })
        .immediate(),
    );
  }

  async deleteRepo(repo: string): Promise<boolean> {
    const remove = (s: SqliteStatements): boolean =>
      this.db
        .transaction(() => s.deleteMetas.run(repo).changes + s.deleteTargets.run(repo).changes > 0)
        .immediate();
    return this.writes.run(
      repo,
      true,
      () =>
        new Promise<boolean>((resolve) => {
          resolve(this.use(repo, remove));
        }),
    );
  }

  listExpiring(before: Date, limit: number): Promise<ExpiringRole[]> {
    return new Promise((resolve) => {
      const rows = this.use('listExpiring', (s) =>
        s.expiring.all(before.getTime(), Math.max(0, Math.floor(limit))),
      );
      resolve(
        rows.map((r) => ({
          repo: r.repo,
          role: r.role,
          version: r.version,
          expiresAt: new Date(r.expires_at),
        })),
      );
    });
  }

  /** Create or upgrade the schema (./sqlite-schema.ts); the statements are prepared after it. */
  migrate(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.db.open) throw sqliteStoreIo('migrate: the store is closed', undefined);
      try {
        migrateSchema(this.db);
      } catch (e) {
        throw mapError(e, 'migrate');
      }
      resolve();
    });
  }

  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.use('ping', () => this.db.prepare('SELECT 1').get());
      resolve();
    });
  }

  close(): Promise<void> {
    this.closed ??= this.drainAndClose();
    return this.closed;
  }

  private async drainAndClose(): Promise<void> {
    await this.writes.close();
    if (this.db.open) this.db.close();
  }
}

/** Open a SQLite store and apply its migrations. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteTrustStore> {
  const store = SqliteTrustStore.open(options);
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
