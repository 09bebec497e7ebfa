/**
 * `OnlineKeys` (./online-keys.ts) in the TrustStore's PostgreSQL database (issue 15 item 1,
 * ADR 0021, ADR 0031): table `online_keys` of ./pg-schema.ts, holding the public key, the state
 * and the sealed private key (kek_id, nonce, ciphertext, tag), never the private key.
 *
 * Each write of a role's keys is one transaction under that role's advisory lock (key space
 * LOCK_SPACE + 2, `hashtext(repo|role)`), so several server processes asking for the pending
 * key at once end with one key: the second sees the first's row; the partial unique index
 * `online_keys_one_pending` backs that up. The schema is the store's: open the store (which
 * migrates) first, or call `openPgOnlineKeys`, which migrates too.
 */
import pg from 'pg';
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
import { LOCK_SPACE, migratePgSchema } from './pg-schema.js';
import { mapPgError } from './pg-errors.js';
import type { SealedKey } from './seal.js';

const COLUMNS = ONLINE_KEY_COLUMNS;
const WHERE = 'FROM online_keys WHERE repo = $1 AND role = $2';
const ROLE_LOCK = 'SELECT pg_advisory_xact_lock($1, hashtext($2))';
const KEYS_SPACE = LOCK_SPACE + 2;

class PgRows implements OnlineKeyRows {
  constructor(private readonly pool: pg.Pool) {}

  private async q<R extends pg.QueryResultRow>(
    what: string,
    sql: string,
    args: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, args);
    } catch (e) {
      throw mapPgError(e, what);
    }
  }

  /** `fn` in one transaction holding the lock of `repo`'s `role` keys. */
  private async locked<T>(repo: string, role: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw mapPgError(e, repo);
    }
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      await c.query(ROLE_LOCK, [KEYS_SPACE, `${repo}|${role}`]);
      const value = await fn(c);
      await c.query('COMMIT');
      return value;
    } catch (e) {
      await c.query('ROLLBACK').catch((x: unknown) => {
        broken = x instanceof Error ? x : new Error(String(x));
      });
      throw mapPgError(e, repo);
    } finally {
      c.release(broken);
    }
  }

  async all(repo: string, role: string): Promise<OnlineKeyRow[]> {
    const r = await this.q<OnlineKeyDbRow>(repo, `SELECT ${COLUMNS} ${WHERE} ORDER BY created_at, keyid`, [
      repo,
      role,
    ]);
    return r.rows.map(onlineKeyRowOf);
  }

  async get(repo: string, role: string, keyid: string): Promise<OnlineKeyRow | undefined> {
    const r = await this.q<OnlineKeyDbRow>(repo, `SELECT ${COLUMNS} ${WHERE} AND keyid = $3`, [
      repo,
      role,
      keyid,
    ]);
    return r.rows[0] === undefined ? undefined : onlineKeyRowOf(r.rows[0]);
  }

  insertPending(repo: string, role: string, row: OnlineKeyRow): Promise<OnlineKeyRow> {
    return this.locked(repo, role, async (c) => {
      const pending = await c.query<OnlineKeyDbRow>(`SELECT ${COLUMNS} ${WHERE} AND state = 'pending'`, [
        repo,
        role,
      ]);
      if (pending.rows[0] !== undefined) return onlineKeyRowOf(pending.rows[0]);
      const s = row.sealed;
      await c.query(
        `INSERT INTO online_keys (repo, role, ${COLUMNS}) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9)`,
        [
          repo,
          role,
          row.keyid,
          JSON.stringify(row.public),
          s.kekId,
          s.nonce,
          s.ciphertext,
          s.tag,
          row.createdAt,
        ],
      );
      return { ...row, state: 'pending' as const };
    });
  }

  async transition(
    repo: string,
    role: string,
    decide: (rows: OnlineKeyRow[]) => Map<string, OnlineKeyState>,
  ): Promise<void> {
    await this.locked(repo, role, async (c) => {
      const rows = await c.query<OnlineKeyDbRow>(`SELECT ${COLUMNS} ${WHERE} ORDER BY created_at, keyid`, [
        repo,
        role,
      ]);
      for (const [keyid, state] of decide(rows.rows.map(onlineKeyRowOf)))
        await c.query('UPDATE online_keys SET state = $1 WHERE repo = $2 AND role = $3 AND keyid = $4', [
          state,
          repo,
          role,
          keyid,
        ]);
    });
  }

  async sealedElsewhere(kekId: string, limit: number): Promise<SealedRowRef[]> {
    const r = await this.q<OnlineKeyDbRow & { repo: string; role: string }>(
      'reseal',
      `SELECT repo, role, ${COLUMNS} FROM online_keys WHERE kek_id <> $1 ORDER BY repo, role, keyid LIMIT $2`,
      [kekId, Math.max(0, Math.floor(limit))],
    );
    return r.rows.map((x) => ({
      repo: x.repo,
      role: x.role,
      keyid: x.keyid,
      sealed: { kekId: x.kek_id, nonce: x.nonce, ciphertext: x.ciphertext, tag: x.tag },
    }));
  }

  async replaceSealed(ref: SealedRowRef, sealed: SealedKey): Promise<boolean> {
    const r = await this.q(
      ref.repo,
      'UPDATE online_keys SET kek_id = $1, nonce = $2, ciphertext = $3, tag = $4 WHERE repo = $5 AND role = $6 AND keyid = $7 AND nonce = $8',
      [
        sealed.kekId,
        sealed.nonce,
        sealed.ciphertext,
        sealed.tag,
        ref.repo,
        ref.role,
        ref.keyid,
        ref.sealed.nonce,
      ],
    );
    return r.rowCount === 1;
  }

  async deleteRepo(repo: string): Promise<number> {
    return (await this.q(repo, 'DELETE FROM online_keys WHERE repo = $1', [repo])).rowCount ?? 0;
  }
}

export interface PgOnlineKeysOptions extends OnlineKeysOptions {
  /** The TrustStore's database URL (a pool of its own), unless `pool` is given. */
  url?: string;
  /** A pool to share (e.g. the store's); not ended by `close()`. */
  pool?: pg.Pool;
  /** Most connections of its own pool. Default 4. */
  poolMax?: number;
}

/** OnlineKeys on PostgreSQL; `close()` ends its pool when it opened one. */
export class PgOnlineKeys extends SealedOnlineKeys {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly owned: boolean,
    options: OnlineKeysOptions,
  ) {
    super(new PgRows(pool), options);
  }

  /** On a migrated database (the store migrates): no connection until the first use. */
  static open(options: PgOnlineKeysOptions): PgOnlineKeys {
    if (options.pool !== undefined) return new PgOnlineKeys(options.pool, false, options);
    if (options.url === undefined) throw new Error('PgOnlineKeys.open: give url or pool');
    const pool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(1, Math.floor(options.poolMax ?? 4)),
      connectionTimeoutMillis: 10_000,
      application_name: 'cnabsec-server-keys',
    });
    pool.on('error', () => undefined);
    return new PgOnlineKeys(pool, true, options);
  }

  /** The pool's database migrated (as the store does), for keys opened without a store. */
  async migrate(): Promise<void> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw mapPgError(e, 'migrate');
    }
    try {
      await migratePgSchema(c);
    } catch (e) {
      throw mapPgError(e, 'migrate');
    } finally {
      c.release();
    }
  }

  private ended: Promise<void> | undefined;

  /** End the pool it opened (idempotent); a shared pool is left to its owner. */
  close(): Promise<void> {
    this.ended ??= this.owned ? this.pool.end() : Promise.resolve();
    return this.ended;
  }
}

/** Open PostgreSQL OnlineKeys and apply the schema's migrations. */
export async function openPgOnlineKeys(options: PgOnlineKeysOptions): Promise<PgOnlineKeys> {
  const keys = PgOnlineKeys.open(options);
  try {
    await keys.migrate();
  } catch (e) {
    await keys.close();
    throw e;
  }
  return keys;
}
