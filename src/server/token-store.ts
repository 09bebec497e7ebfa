/**
 * The `TokenStore` port (ADR 0032): where `cnabsec server` keeps its bearer tokens' hashes
 * (./tokens.ts). Small on purpose, so a PostgreSQL adapter is a few statements:
 *  - `create(record)`: insert one; a duplicate id or hash is STORE_IO (never happens with
 *    random ids, but must not overwrite);
 *  - `findByHash(hash)`: the record with that SHA-256, revoked and expired ones included (the
 *    authenticator decides); undefined when none;
 *  - `list()`: every record, oldest first (list never shows hashes: the CLI drops them);
 *  - `revoke(id, at)`: set revokedAt once; the record as it is now, undefined for an unknown id;
 *  - `close()`.
 * Adapters: `MemoryTokenStore` (tests, the memory TrustStore) and `SqliteTokenStore`
 * (./sqlite-token-store.ts, table `tokens` of schema version 3, the server's own database).
 */
import { ServerError } from './errors.js';
import { TOKEN_SCOPES, type TokenRecord } from './tokens.js';

export interface TokenStore {
  create(record: TokenRecord): Promise<void>;
  findByHash(hash: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string, at: Date): Promise<TokenRecord | undefined>;
  close(): Promise<void>;
}

function copy(r: TokenRecord): TokenRecord {
  return {
    ...r,
    patterns: [...r.patterns],
    createdAt: new Date(r.createdAt),
    ...(r.expiresAt === undefined ? {} : { expiresAt: new Date(r.expiresAt) }),
    ...(r.revokedAt === undefined ? {} : { revokedAt: new Date(r.revokedAt) }),
  };
}

/** Tokens in a Map (tests; a server on the memory store). */
export class MemoryTokenStore implements TokenStore {
  private readonly byId = new Map<string, TokenRecord>();

  create(record: TokenRecord): Promise<void> {
    for (const r of this.byId.values())
      if (r.id === record.id || r.hash === record.hash)
        return Promise.reject(
          new ServerError('STORE_IO', `token ${record.id}: a token with that id or hash exists`, {
            hint: 'create the token again (a new random id)',
          }),
        );
    this.byId.set(record.id, copy(record));
    return Promise.resolve();
  }

  findByHash(hash: string): Promise<TokenRecord | undefined> {
    for (const r of this.byId.values()) if (r.hash === hash) return Promise.resolve(copy(r));
    return Promise.resolve(undefined);
  }

  list(): Promise<TokenRecord[]> {
    return Promise.resolve(
      [...this.byId.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(copy),
    );
  }

  revoke(id: string, at: Date): Promise<TokenRecord | undefined> {
    const r = this.byId.get(id);
    if (r === undefined) return Promise.resolve(undefined);
    r.revokedAt ??= new Date(at);
    return Promise.resolve(copy(r));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A `tokens` row as both SQL adapters read it (times as epoch ms in SQLite, Dates in PostgreSQL). */
export interface TokenRow {
  id: string;
  hash: string;
  scope: string;
  patterns: string;
  description: string | null;
  created_at: number | Date;
  expires_at: number | Date | null;
  revoked_at: number | Date | null;
}

/** The record of a stored row; a row that is not a token (tampered, another version) is STORE_IO. */
export function tokenRecordOf(r: TokenRow): TokenRecord {
  const scope = TOKEN_SCOPES.find((s) => s === r.scope);
  let patterns: unknown;
  try {
    patterns = JSON.parse(r.patterns);
  } catch {
    patterns = undefined;
  }
  if (scope === undefined || !Array.isArray(patterns) || !patterns.every((p) => typeof p === 'string'))
    throw new ServerError('STORE_IO', `token ${r.id}: the stored row is not a token`, {
      hint: 'revoke it and create a new token; check the database for tampering',
    });
  return {
    id: r.id,
    hash: r.hash,
    scope,
    patterns,
    createdAt: new Date(r.created_at),
    ...(r.expires_at === null ? {} : { expiresAt: new Date(r.expires_at) }),
    ...(r.revoked_at === null ? {} : { revokedAt: new Date(r.revoked_at) }),
    ...(r.description === null ? {} : { description: r.description }),
  };
}
