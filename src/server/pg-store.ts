/**
 * The `TrustStore` (./store.ts) on PostgreSQL through a bounded `pg.Pool` (issue 15 item 1,
 * ADR 0031), for several stateless server processes on one database.
 *
 * A write (`transact`) holds the repository's in-process mutex (./repo-lock.ts) across the
 * awaits of `work`, whose reads are ordinary pooled reads of committed state; then ONE
 * transaction takes the repository's advisory lock (`pg_advisory_xact_lock(space,
 * hashtext(repo))`, released at COMMIT or ROLLBACK, so a killed process never leaves it held),
 * re-reads the versions `work` saw and inserts. Another process may have written the repository
 * in between: a changed version, or a version already stored (the primary key backs it up), is
 * VERSION_CONFLICT and nothing is stored. The lock is per repository, never global: writes to
 * different repositories commit in parallel, each on its own pooled connection.
 */
import pg from 'pg';
import { ServerError } from './errors.js';
import { mapPgError, redactUrl, storeIo } from './pg-errors.js';
import { NOTIFY_CHANNEL, notifyPayload, PgCurrentCache, type PgCacheStats } from './pg-cache.js';
import { LOCK_SPACE, migratePgSchema, type PgMigrateResult } from './pg-schema.js';
import { SQL, type PgExpiringRow, type PgMetaRow, type PgTargetRow } from './pg-statements.js';
import { WriteGate } from './repo-lock.js';
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
import { checkObserved, QueuedTx, type TxReader } from './store-tx.js';
import { sha256Hex, type RepositoryState } from './upload-parse.js';

export { isPostgresUrl, mapPgError, redactUrl } from './pg-errors.js';

export interface PgStoreOptions {
  /** `postgres://user[:password]@host[:port]/database` (the password may come from PGPASSWORD). */
  url: string;
  /** Most connections this process opens. Default 10. */
  poolMax?: number;
  /** How long a new connection may take, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Longest statement, ms (PostgreSQL statement_timeout; a hung database is STORE_BUSY, not a hang). Default 60000. */
  statementTimeoutMs?: number;
  /** How long a write waits for the repository (this process's mutex, then the advisory lock), ms. Default 30000. */
  lockTimeoutMs?: number;
  /** Largest metadata file stored, bytes. Default 64 MiB. */
  maxMetaBytes?: number;
  /** Largest target file stored, bytes. Default 16 MiB. */
  maxTargetFileBytes?: number;
  /** The clock for `createdAt`. */
  now?: () => Date;
  /**
   * The per-process cache of current metadata, invalidated by LISTEN/NOTIFY (./pg-cache.ts):
   * false turns it off. Default on, 10000 repositories of at most 8 MiB each.
   */
  cache?: false | { maxEntries?: number; maxEntryBytes?: number; maxTotalBytes?: number };
}

const MiB = 1024 * 1024;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function metaOf(row: PgMetaRow): StoredMeta {
  return {
    role: row.role,
    version: row.version,
    sha256: row.sha256,
    bytes: row.data,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
  };
}

function busy(repo: string): ServerError {
  return new ServerError('STORE_BUSY', `${repo}: another write holds the repository (not waiting)`, {
    details: { repo },
    hint: 'retry in a moment',
  });
}

export class PgTrustStore implements TrustStore {
  private readonly writes: WriteGate;
  private readonly limits: { meta: number; target: number };
  private readonly now: () => Date;
  private readonly lockTimeoutMs: number;
  private ended = false;
  private closed: Promise<void> | undefined;
  /** The URL without its password. */
  readonly where: string;
  private readonly cache: PgCurrentCache | undefined;
  /** What a write's `work` reads through: never the cache (its reads are re-checked anyway). */
  private readonly uncached: TxReader = {
    getCurrent: (repo, role) => this.loadCurrent(repo, role),
    currentRows: (repo) => this.loadRows(repo),
  };

  private constructor(
    private readonly pool: pg.Pool,
    options: PgStoreOptions,
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.writes = new WriteGate(this.lockTimeoutMs, (repo) =>
      storeIo(`${repo}: the store is closing`, undefined),
    );
    this.limits = { meta: options.maxMetaBytes ?? 64 * MiB, target: options.maxTargetFileBytes ?? 16 * MiB };
    this.now = options.now ?? (() => new Date());
    this.where = redactUrl(options.url);
    this.cache =
      options.cache === false ? undefined : new PgCurrentCache({ url: options.url, ...options.cache });
  }

  /** Start listening for other processes' commits; until then (or without it) nothing is cached. */
  async startCache(): Promise<void> {
    await this.cache?.start();
  }

  /** Hits, misses and invalidations of the cache (undefined when it is off). */
  cacheStats(): PgCacheStats | undefined {
    return this.cache?.snapshot();
  }

  /** Resolves with the repository of the next invalidation this process sees (tests). */
  nextInvalidation(): Promise<string> {
    return this.cache?.nextInvalidation() ?? Promise.reject(new Error('the cache is off'));
  }

  /** A pool on `options.url` (no connection yet); call `migrate()` before use. */
  static open(options: PgStoreOptions): PgTrustStore {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(1, Math.floor(options.poolMax ?? 10)),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      statement_timeout: options.statementTimeoutMs ?? 60_000,
      application_name: 'cnabsec-server',
    });
    // An idle connection the server dropped: the pool discards it; the next query reconnects.
    pool.on('error', () => undefined);
    return new PgTrustStore(pool, options);
  }

  /** The pool, to share with ./pg-online-keys.ts (ended by this store's `close()`). */
  get pgPool(): pg.Pool {
    return this.pool;
  }

  /** One query on the pool, its driver errors mapped; refused after `close()`. */
  private async query<R extends pg.QueryResultRow>(what: string, sql: string, args: unknown[]): Promise<R[]> {
    if (this.ended) throw storeIo(`${what}: the store is closed`, undefined);
    try {
      return (await this.pool.query<R>(sql, args)).rows;
    } catch (e) {
      throw mapPgError(e, what);
    }
  }

  /** Run `fn` in one transaction on one pooled connection (ROLLBACK when it throws). */
  private async inTransaction<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.ended) throw storeIo(`${what}: the store is closed`, undefined);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapPgError(e, what);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query('COMMIT');
      return value;
    } catch (e) {
      await client.query('ROLLBACK').catch((x: unknown) => {
        broken = x instanceof Error ? x : new Error(String(x));
      });
      throw mapPgError(e, what);
    } finally {
      client.release(broken);
    }
  }

  /** Take `repo`'s advisory lock in the open transaction (bounded wait, or none). */
  private async lockRepo(c: pg.PoolClient, repo: string, wait: boolean): Promise<void> {
    if (!wait) {
      const r = await c.query<{ locked: boolean }>(SQL.tryLock, [LOCK_SPACE, repo]);
      if (r.rows[0]?.locked !== true) throw busy(repo);
      return;
    }
    await c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(this.lockTimeoutMs))}`);
    await c.query(SQL.lock, [LOCK_SPACE, repo]);
  }

  async getCurrent(repo: string, role: string): Promise<StoredMeta | undefined> {
    if (this.cache !== undefined) return (await this.currentRows(repo)).get(role);
    return this.loadCurrent(repo, role);
  }

  private async loadCurrent(repo: string, role: string): Promise<StoredMeta | undefined> {
    const rows = await this.query<PgMetaRow>(repo, SQL.current, [repo, role]);
    return rows[0] === undefined ? undefined : metaOf(rows[0]);
  }

  async getVersion(repo: string, role: string, version: number): Promise<StoredMeta | undefined> {
    if (!Number.isSafeInteger(version) || version < 1 || version > 0x7fffffff) return undefined;
    const rows = await this.query<PgMetaRow>(repo, SQL.byVersion, [repo, role, version]);
    return rows[0] === undefined ? undefined : metaOf(rows[0]);
  }

  async getChecksum(repo: string, role: string, sha256: string): Promise<StoredMeta | undefined> {
    const rows = await this.query<PgMetaRow>(repo, SQL.byChecksum, [repo, role, sha256.toLowerCase()]);
    return rows[0] === undefined ? undefined : metaOf(rows[0]);
  }

  /** Every role's current row, in one statement (one consistent read); cached when the cache is on. */
  async currentRows(repo: string): Promise<Map<string, StoredMeta>> {
    if (this.ended) throw storeIo(`${repo}: the store is closed`, undefined);
    if (this.cache === undefined) return this.loadRows(repo);
    return this.cache.rows(repo, () => this.loadRows(repo));
  }

  private async loadRows(repo: string): Promise<Map<string, StoredMeta>> {
    const rows = await this.query<PgMetaRow>(repo, SQL.currentAll, [repo]);
    return new Map(rows.map((r) => [r.role, metaOf(r)]));
  }

  async currentState(repo: string): Promise<RepositoryState> {
    return stateOf(await this.currentRows(repo));
  }

  async getTargetFile(repo: string, path: string, sha256?: string): Promise<StoredTargetFile | undefined> {
    const rows =
      sha256 === undefined
        ? await this.query<PgTargetRow>(repo, SQL.targetLatest, [repo, path])
        : await this.query<PgTargetRow>(repo, SQL.targetByChecksum, [repo, path, sha256.toLowerCase()]);
    const r = rows[0];
    return r === undefined
      ? undefined
      : { path: r.path, sha256: r.sha256, bytes: r.data, createdAt: r.created_at };
  }

  async transact<T>(
    repo: string,
    work: (tx: TrustTx) => Promise<T>,
    options: TransactOptions = {},
  ): Promise<TransactResult<T>> {
    const wait = options.wait ?? true;
    return this.writes.run(repo, wait, async () => {
      const tx = new QueuedTx(repo, this.uncached, this.limits);
      try {
        const value = await work(tx);
        tx.closed = true;
        return { value, stored: await this.commit(tx, wait) };
      } finally {
        tx.closed = true;
      }
    });
  }

  /** ONE transaction under the repository's advisory lock: re-check what `work` saw, then insert. */
  private async commit(tx: QueuedTx, wait: boolean): Promise<StoredMeta[]> {
    if (tx.metas.length === 0 && tx.targets.length === 0) return [];
    const repo = tx.repo;
    const createdAt = this.now();
    const stored = await this.inTransaction(repo, async (c) => {
      await this.lockRepo(c, repo, wait);
      const found = await c.query<{ role: string; v: number }>(SQL.versions, [repo]);
      const versions = new Map(found.rows.map((r) => [r.role, r.v]));
      checkObserved(tx, versions);
      const out: StoredMeta[] = [];
      for (const u of tx.metas) {
        const cur = versions.get(u.role) ?? 0;
        if (u.version <= cur)
          throw versionConflict(repo, u.role, u.version, `version ${cur} is already stored`);
        if (u.version > 0x7fffffff)
          throw versionConflict(
            repo,
            u.role,
            u.version,
            'the version is above what the store holds (2^31-1)',
          );
        const row: PgMetaRow = {
          role: u.role,
          version: u.version,
          sha256: sha256Hex(u.bytes),
          data: Buffer.from(u.bytes),
          created_at: createdAt,
          expires_at: u.expiresAt ?? null,
        };
        await c.query(SQL.insertMeta, [
          repo,
          row.role,
          row.version,
          row.sha256,
          row.data,
          row.expires_at,
          createdAt,
        ]);
        versions.set(u.role, u.version);
        out.push(metaOf(row));
      }
      for (const f of tx.targets) {
        const sha = sha256Hex(f.bytes);
        await c.query(SQL.deleteTarget, [repo, f.path, sha]);
        await c.query(SQL.insertTarget, [repo, f.path, sha, toBuffer(f.bytes), createdAt]);
      }
      await c.query(SQL.notify, [NOTIFY_CHANNEL, notifyPayload(repo)]);
      return out;
    });
    this.cache?.invalidate(repo);
    return stored;
  }

  async deleteRepo(repo: string): Promise<boolean> {
    return this.writes.run(repo, true, async () => {
      const deleted = await this.inTransaction(repo, async (c) => {
        await this.lockRepo(c, repo, true);
        const metas = await c.query(SQL.deleteMetas, [repo]);
        const targets = await c.query(SQL.deleteTargets, [repo]);
        await c.query(SQL.notify, [NOTIFY_CHANNEL, notifyPayload(repo)]);
        return (metas.rowCount ?? 0) + (targets.rowCount ?? 0) > 0;
      });
      this.cache?.invalidate(repo);
      return deleted;
    });
  }

  async listExpiring(before: Date, limit: number): Promise<ExpiringRole[]> {
    const n = Math.max(0, Math.floor(limit));
    const rows = await this.query<PgExpiringRow>('listExpiring', SQL.expiring, [before, n]);
    return rows.map((r) => ({ repo: r.repo, role: r.role, version: r.version, expiresAt: r.expires_at }));
  }

  /** Create or upgrade the schema (./pg-schema.ts); returns the versions before and after. */
  async migrateSchema(): Promise<PgMigrateResult> {
    if (this.ended) throw storeIo('migrate: the store is closed', undefined);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapPgError(e, `migrate ${this.where}`);
    }
    try {
      return await migratePgSchema(client);
    } catch (e) {
      throw mapPgError(e, `migrate ${this.where}`);
    } finally {
      client.release();
    }
  }

  async migrate(): Promise<void> {
    await this.migrateSchema();
  }

  async ping(): Promise<void> {
    await this.query(`ping ${this.where}`, 'SELECT 1', []);
  }

  close(): Promise<void> {
    this.closed ??= this.drainAndClose();
    return this.closed;
  }

  private async drainAndClose(): Promise<void> {
    await this.writes.close();
    this.ended = true;
    await this.cache?.close();
    await this.pool.end();
  }
}

/** Open a PostgreSQL store and apply its migrations. */
export async function openPgStore(options: PgStoreOptions): Promise<PgTrustStore> {
  const store = PgTrustStore.open(options);
  try {
    await store.migrate();
    await store.startCache();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
