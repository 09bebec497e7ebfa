/**
 * The Authenticators (app-types.ts). The default reads `Authorization: Bearer <token>` (RFC 6750
 * §2.1) and accepts every caller (issue 13 item 5: "accept and ignore it for now, but keep the
 * header path real"); `tokenAuthenticator` is issue 15's token scheme (ADR 0032). A header that is present but
 * not `Bearer <token68>` is refused with UNAUTHORIZED (401, `WWW-Authenticate: Bearer`), so
 * clients learn the format now. The token is never logged nor put in an error.
 */
import type { Authenticator, Caller } from './app-types.js';
import { quote } from '../util/json.js';
import { ServerError } from './errors.js';
import type { TokenStore } from './token-store.js';
import {
  checkPatterns,
  hashesEqual,
  hashToken,
  isTokenShape,
  matchAny,
  scopeAllows,
  type Permission,
  type TokenRecord,
} from './tokens.js';

/** RFC 6750 §2.1: `Bearer 1*SP b64token`, b64token = 1*( ALPHA / DIGIT / "-._~+/" ) *"=". */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization` header, undefined without one; UNAUTHORIZED when malformed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = BEARER.exec(authorization);
  if (m === null)
    throw new ServerError('UNAUTHORIZED', 'the Authorization header is not "Bearer <token>"', {
      hint: 'send Authorization: Bearer <token>, or no Authorization header',
    });
  return m[1];
}

/** Accepts every caller; a malformed Authorization header is still refused. */
export const acceptAllAuthenticator: Authenticator = {
  authenticate(input): Promise<Caller> {
    return new Promise((resolve) => {
      // a throw inside the executor rejects with that ServerError
      const token = bearerToken(input.authorization);
      resolve(token === undefined ? {} : { token });
    });
  },
};

export interface TokenAuthenticatorOptions {
  /** Repository patterns (./tokens.ts) anyone may read without a token; default none. */
  anonymousRead?: readonly string[];
  /** The clock of expiry checks (tests). */
  now?: () => Date;
}

/** What each action needs (ADR 0032): deleting a repository and rotating a server key are admin. */
const NEEDED: Readonly<Record<'read' | 'write' | 'delete' | 'rotate', Permission>> = {
  read: 'read',
  write: 'write',
  delete: 'admin',
  rotate: 'admin',
};

/** 401: the same for a missing, unknown, expired, revoked or malformed token (nothing to learn). */
function unauthorized(repo: string | undefined, sent: boolean): ServerError {
  return new ServerError(
    'UNAUTHORIZED',
    sent ? 'the bearer token is not valid (unknown, expired or revoked)' : 'a bearer token is needed',
    {
      details: repo === undefined ? {} : { repo },
      hint: 'send Authorization: Bearer <token> (cnabsec: CNABSEC_TOKEN or --token-file) with a token from `cnabsec server-token create`',
    },
  );
}

/** 403: the token is valid, but its scope or patterns do not cover this request. */
function forbidden(record: TokenRecord, repo: string | undefined, needed: Permission): ServerError {
  const what = repo === undefined ? 'this server' : `repository ${quote(repo)}`;
  return new ServerError(
    'FORBIDDEN',
    `token ${record.id} (scope ${record.scope}) may not ${needed} ${what}`,
    {
      details: { token: record.id, scope: record.scope, needed, ...(repo === undefined ? {} : { repo }) },
      hint: `ask the server's operator for a token with scope ${needed} for this repository (cnabsec server-token create)`,
    },
  );
}

/**
 * The token scheme of issue 15 (ADR 0032): `Authorization: Bearer cnabsec_…` looked up by its
 * SHA-256 in `store` on every request (a revocation holds at the next request, on every
 * process). Read needs read, upload write, repository deletion and key rotation admin, on a
 * token whose patterns match the repository. Without a token, reads of repositories matching
 * `anonymousRead` go on. Every decision is taken before the route looks at the repository, so
 * neither status nor body says whether it exists.
 */
export function tokenAuthenticator(
  store: TokenStore,
  options: TokenAuthenticatorOptions = {},
): Authenticator {
  const anonymous = checkPatternsOrNone(options.anonymousRead ?? []);
  const now = options.now ?? (() => new Date());
  return {
    async authenticate(input): Promise<Caller> {
      const needed = NEEDED[input.action];
      const token = bearerToken(input.authorization);
      if (token === undefined) {
        const open =
          needed === 'read' &&
          (input.repo === undefined ? anonymous.length > 0 : matchAny(anonymous, input.repo));
        if (open) return {};
        throw unauthorized(input.repo, false);
      }
      if (!isTokenShape(token)) throw unauthorized(input.repo, true);
      const hash = hashToken(token);
      const record = await store.findByHash(hash);
      const at = now().getTime();
      if (
        record === undefined ||
        !hashesEqual(record.hash, hash) ||
        record.revokedAt !== undefined ||
        (record.expiresAt !== undefined && record.expiresAt.getTime() <= at)
      )
        throw unauthorized(input.repo, true);
      const covered = input.repo === undefined || matchAny(record.patterns, input.repo);
      if (!scopeAllows(record.scope, needed) || !covered) throw forbidden(record, input.repo, needed);
      return { token, tokenId: record.id, scope: record.scope };
    },
  };
}

function checkPatternsOrNone(patterns: readonly string[]): string[] {
  return patterns.length === 0 ? [] : checkPatterns(patterns);
}
