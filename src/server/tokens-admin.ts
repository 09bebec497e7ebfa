/**
 * What `cnabsec server-token create|list|revoke` do (ADR 0032), on any TokenStore: create a
 * token (returned once, only its hash stored), list the stored ones (never a hash, never a
 * token), revoke one by id. `openTokenStore(db)` opens the server's SQLite database beside a
 * running server (WAL, busy timeout).
 */
import { pathExists } from '../util/fs.js';
import { quote } from '../util/json.js';
import { ServerError } from './errors.js';
import { isPostgresUrl, redactUrl } from './pg-errors.js';
import { SqliteTokenStore } from './sqlite-token-store.js';
import type { TokenStore } from './token-store.js';
import {
  checkPatterns,
  generateToken,
  isTokenId,
  TOKEN_SCOPES,
  type TokenInfo,
  type TokenRecord,
  type TokenScope,
} from './tokens.js';

export const MAX_DESCRIPTION = 200;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface CreateTokenInput {
  scope: TokenScope;
  patterns: readonly string[];
  /** Lifetime in seconds; none: the token does not expire. */
  expiresInSeconds?: number;
  description?: string;
  now?: Date;
}

/** The new token, shown once: the caller prints it and forgets it. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export function infoOf(r: TokenRecord): TokenInfo {
  const info: TokenInfo & { hash?: string } = { ...r };
  delete info.hash;
  return info;
}

export async function createToken(store: TokenStore, input: CreateTokenInput): Promise<CreatedToken> {
  if (!TOKEN_SCOPES.includes(input.scope))
    throw new ServerError('TOKEN_PATTERN', `scope ${quote(input.scope)} is not read, write or admin`, {
      hint: 'give --scope read, write or admin',
    });
  const patterns = checkPatterns(input.patterns);
  const description = input.description?.trim();
  if (description !== undefined && (description.length > MAX_DESCRIPTION || CONTROL.test(description)))
    throw new ServerError(
      'TOKEN_PATTERN',
      `the description is longer than ${MAX_DESCRIPTION} characters or holds control characters`,
      {
        hint: 'give a short one-line note',
      },
    );
  const now = input.now ?? new Date();
  const { id, token, hash } = generateToken();
  const record: TokenRecord = {
    id,
    hash,
    scope: input.scope,
    patterns,
    createdAt: now,
    ...(input.expiresInSeconds === undefined
      ? {}
      : { expiresAt: new Date(now.getTime() + input.expiresInSeconds * 1000) }),
    ...(description === undefined || description === '' ? {} : { description }),
  };
  await store.create(record);
  return { ...infoOf(record), token };
}

export async function listTokens(store: TokenStore): Promise<TokenInfo[]> {
  return (await store.list()).map(infoOf);
}

/** Revoke token `id` (revoking a revoked one changes nothing); TOKEN_UNKNOWN for no such id. */
export async function revokeToken(store: TokenStore, id: string, now = new Date()): Promise<TokenInfo> {
  const r = isTokenId(id) ? await store.revoke(id, now) : undefined;
  if (r === undefined)
    throw new ServerError('TOKEN_UNKNOWN', `no token with id ${quote(id)} in the server's database`, {
      details: { id: id.slice(0, 64) },
      hint: 'list the ids with `cnabsec server-token list` (an id is 12 hex digits)',
    });
  return infoOf(r);
}

/**
 * The token table of the server's existing SQLite database `db` (migrated if needed). A
 * missing file is refused: a mistyped --db must not create an empty database of its own.
 */
export async function openTokenStore(db: string): Promise<TokenStore> {
  if (isPostgresUrl(db))
    throw new ServerError(
      'SERVER_CONFIG',
      `${redactUrl(db)}: tokens are kept in SQLite only in this version`,
      {
        details: { source: 'db' },
        hint: 'run with auth: none behind an authenticating proxy, or on a SQLite database, until the PostgreSQL token store lands',
      },
    );
  if (!(await pathExists(db)))
    throw new ServerError('STORE_IO', `${db}: no such database`, {
      details: { db },
      hint: 'give the --db the server runs with (default $CNABSEC_HOME/server/cnabsec.db), or create it: cnabsec server-migrate --db <file>',
    });
  return SqliteTokenStore.open({ path: db });
}
