/**
 * Bearer tokens of `cnabsec server` (issue 15 item 3, ADR 0032). A token is
 * `cnabsec_<32 random bytes, base64url>`, shown once when created; the server keeps only its
 * SHA-256 (a 256-bit random secret needs no salt nor slow hash: nothing to brute-force) with a
 * short public id (for list and revoke), a scope and repository patterns.
 *
 * Scopes nest: read ⊂ write ⊂ admin. Patterns are repository names whose components may be
 * `*` (exactly one component, never a `/`) or, as the last component, `**` (one or more
 * components); `*` or `**` alone is every repository. A literal component matches only itself,
 * byte for byte (case-sensitive, no decoding): `example.com/acme/*` matches
 * `example.com/acme/app` and never `example.com/acme-evil/x` nor `example.com/acme/a/b`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { repositoryNameProblem } from '../tuf/names.js';
import { quote } from '../util/json.js';
import { ServerError } from './errors.js';

export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** What a route needs (http-context.ts actions, plus admin for repository deletion and key rotation). */
export type Permission = 'read' | 'write' | 'admin';

export const TOKEN_PREFIX = 'cnabsec_';
/** `cnabsec_` and 43 base64url characters (32 bytes). */
const TOKEN_SHAPE = /^cnabsec_[A-Za-z0-9_-]{43}$/;
/** Ids are 12 hex digits: public, unique, not derived from the token. */
const ID_SHAPE = /^[0-9a-f]{12}$/;
/** Bounds of what a token may hold (a config file or a CLI line, not a policy language). */
export const MAX_PATTERNS = 32;
export const MAX_PATTERN_LENGTH = 255;

/** A stored token: everything but the token itself. */
export interface TokenRecord {
  id: string;
  /** SHA-256 of the token text, lowercase hex. */
  hash: string;
  scope: TokenScope;
  patterns: string[];
  createdAt: Date;
  expiresAt?: Date;
  revokedAt?: Date;
  /** A free-text note of the operator (`--description`), at most 200 characters. */
  description?: string;
}

/** A token as `token list` shows it: no hash. */
export type TokenInfo = Omit<TokenRecord, 'hash'>;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A fresh token, its id and its hash. The token is returned once and never stored. */
export function generateToken(): { id: string; token: string; hash: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { id: randomBytes(6).toString('hex'), token, hash: hashToken(token) };
}

/** Whether a text has the shape of a cnabsec token (anything else is refused before lookup). */
export function isTokenShape(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

export function isTokenId(text: string): boolean {
  return ID_SHAPE.test(text);
}

/** read ⊂ write ⊂ admin. */
export function scopeAllows(scope: TokenScope, needed: Permission): boolean {
  return TOKEN_SCOPES.indexOf(scope) >= TOKEN_SCOPES.indexOf(needed);
}

function patternError(pattern: string, why: string): ServerError {
  return new ServerError('TOKEN_PATTERN', `repository pattern ${quote(pattern)} is refused: ${why}`, {
    details: { pattern: pattern.slice(0, MAX_PATTERN_LENGTH + 1) },
    hint: 'give a repository name whose components may be * (one component) or, last, ** (any depth), e.g. example.com/acme/*; * alone is every repository',
  });
}

/** `pattern` if it is one (see the module comment); TOKEN_PATTERN otherwise. */
export function checkPattern(pattern: string): string {
  if (pattern === '*' || pattern === '**') return pattern;
  if (pattern.length === 0) throw patternError(pattern, 'it is empty');
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw patternError(pattern, `it is longer than ${MAX_PATTERN_LENGTH} characters`);
  const parts = pattern.split('/');
  parts.forEach((p, i) => {
    if (p === '**' && i !== parts.length - 1)
      throw patternError(pattern, '** may only be the last component');
    if (p !== '*' && p !== '**' && p.includes('*'))
      throw patternError(pattern, 'a * must be a whole component (acme-* is not a pattern)');
  });
  if (parts[0] === '*' || parts[0] === '**')
    throw patternError(pattern, 'the first component (the registry host) must be literal');
  // the literal parts must be a repository name: put a plain component where the wildcards are
  const probe = parts.map((p) => (p === '*' || p === '**' ? 'x' : p)).join('/');
  const problem = repositoryNameProblem(probe);
  if (problem !== undefined) throw patternError(pattern, problem);
  return pattern;
}

/** The patterns of a token or of `anonymousRead`, each checked, at least one, at most MAX_PATTERNS. */
export function checkPatterns(patterns: readonly string[]): string[] {
  if (patterns.length === 0)
    throw new ServerError('TOKEN_PATTERN', 'no repository pattern given', {
      hint: "give at least one, e.g. --repo 'example.com/acme/*'",
    });
  if (patterns.length > MAX_PATTERNS)
    throw new ServerError(
      'TOKEN_PATTERN',
      `${patterns.length} repository patterns: at most ${MAX_PATTERNS}`,
      {
        details: { count: patterns.length },
        hint: 'use a wildcard pattern instead of many names',
      },
    );
  return patterns.map(checkPattern);
}

/**
 * Whether repository `repo` is matched by `pattern` (already checked). A repo that is not a
 * valid repository name (`..`, empty or encoded components, NUL) matches nothing.
 */
export function matchRepo(pattern: string, repo: string): boolean {
  if (repositoryNameProblem(repo) !== undefined) return false;
  if (pattern === '*' || pattern === '**') return true;
  const want = pattern.split('/');
  const have = repo.split('/');
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const h = have[i];
    if (h === undefined) return false;
    if (w === '**') return true; // the last component (checkPattern), and at least one is left
    if (w !== '*' && w !== h) return false;
  }
  return have.length === want.length;
}

export function matchAny(patterns: readonly string[], repo: string): boolean {
  return patterns.some((p) => matchRepo(p, repo));
}
