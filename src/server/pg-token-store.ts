/**
 * `TokenStore` (./token-store.ts) in the server's PostgreSQL database: table `tokens` of schema
 * version 2 (./pg-schema.ts), the same columns as SQLite's (./sqlite-token-store.ts). Every
 * statement is its own short transaction on a small pool of its own, so `cnabsec server-token`
 * can run beside live servers, and every server process sees a new or revoked token at its next
 * lookup (no cache: revocation takes effect at once, in every process).
 */
import pg from 'pg';
import { ServerError } from './errors.js';
import { mapPgError, redactUrl } from './pg-errors.js';
import { migratePgSchema } from './pg-schema.js';
import { tokenRecordOf, type TokenRow, type TokenStore } from './token-store.js';
import type { TokenRecord } from './tokens.js';

const COLUMNS = 'id, hash, scope, patterns, description, created_at, expires_at, revoked_at';

export interface PgTokenStoreOptions {
  url: string;
  /** Connections of the token pool (default 2: one lookup per request, indexed). */
  poolMax?: number;
}

export class PgTokenStore implements TokenStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connect and apply pending migrations (the shared, versioned PostgreSQL schema). */
  static async open(options: PgTokenStoreOptions): Promise<PgTokenStore> {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolMax ?? 2 });
    pool.on('error', () => undefined); // an idle connection dropped: the next query reconnects
    try {
      const client = await pool.connect();
      try {
        await migratePgSchema(client);
      } finally {
        client.release();
      }
      return new PgTokenStore(pool);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw mapPgError(e, `${redactUrl(options.url)}: open the token table`);
    }
  }

  private async rows(what: string, sql: string, values: unknown[] = []): Promise<TokenRow[]> {
    try {
      return (await this.pool.query<TokenRow>(sql, values)).rows;
    } catch (e) {
      throw mapPgError(e, what);
    }
  }

  async create(r: TokenRecord): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO tokens (id, hash, scope, patterns, description, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          r.id,
          r.hash,
          r.scope,
          JSON.stringify(r.patterns),
          r.description ?? null,
          r.createdAt,
          r.expiresAt ?? null,
        ],
      );
    } catch (e) {
      if (e instanceof pg.DatabaseError && e.code === '23505')
        throw new ServerError('STORE_IO', `token ${r.id}: a token with that id or hash exists`, {
          cause: e,
          hint: 'create the token again (a new random id)',
        });
      throw mapPgError(e, `token ${r.id}: create`);
    }
  }

  async findByHash(hash: string): Promise<TokenRecord | undefined> {
    const [row] = await this.rows('token lookup', `SELECT ${COLUMNS} FROM tokens WHERE hash = $1`, [hash]);
    return row === undefined ? undefined : tokenRecordOf(row);
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.rows('token list', `SELECT ${COLUMNS} FROM tokens ORDER BY created_at, id`)).map(
      tokenRecordOf,
    );
  }

  async revoke(id: string, at: Date): Promise<TokenRecord | undefined> {
    // revoked once: a second revoke keeps the first time (as SQLite's)
    const [row] = await this.rows(
      `token ${id}: revoke`,
      `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING ${COLUMNS}`,
      [at, id],
    );
    return row === undefined ? undefined : tokenRecordOf(row);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
