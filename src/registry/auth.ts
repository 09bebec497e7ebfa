/**
 * Registry authentication (distribution `docs/spec/auth/token.md`, "Docker Registry v2 Bearer
 * token"): a request goes out with what is known; a 401 carries `WWW-Authenticate`, either
 * `Basic realm=…` (send the credentials) or `Bearer realm=…,service=…,scope=…`: GET the realm
 * with `service` and one `scope` parameter per scope (a mount asks for two scopes in one
 * space-separated parameter), with the credentials as Basic when there are any, and retry with
 * the `token` (or `access_token`) of the answer. Tokens are cached per set of scopes until they
 * expire; a 401 with `error="insufficient_scope"` asks for a token with the wider scopes.
 */
import { parseJsonBounded, quote } from '../util/json.js';
import { RegistryError } from './errors.js';
import type { Credentials } from './docker-config.js';
import { readBounded, send } from './http.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const MAX_TOKEN_ANSWER = 64 * 1024;
const MAX_TOKEN = 16 * 1024;
/** Token lifetime when the answer gives none (token.md: 60 s is the minimum a server gives). */
const DEFAULT_EXPIRES_S = 60;

/**
 * The Basic or Bearer challenge of a `WWW-Authenticate` value (RFC 7235 §4.1: `scheme
 * k=v, k="quoted", …`); Bearer when both are offered; undefined for anything else.
 */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const text = header.slice(0, 8192);
  const re = /[\s,]*(?:([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))|([A-Za-z][A-Za-z0-9_-]*))/y;
  const found: Challenge[] = [];
  let current: Challenge | undefined;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    if (m[4] !== undefined) {
      const scheme = m[4].toLowerCase();
      current = scheme === 'basic' || scheme === 'bearer' ? { scheme, params: {} } : undefined;
      if (current !== undefined) found.push(current);
    } else if (current !== undefined && m[1] !== undefined) {
      current.params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    }
  }
  return found.find((c) => c.scheme === 'bearer') ?? found[0];
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

export function authFailed(
  registry: string,
  message: string,
  details: Record<string, unknown> = {},
): RegistryError {
  return new RegistryError('REGISTRY_AUTH_FAILED', `${registry}: ${message}`, {
    details: { registry, ...details },
    hint: 'check the credentials (docker login, CNABSEC_REGISTRY_USER/CNABSEC_REGISTRY_PASSWORD) and that they may access the repository',
  });
}

interface Cached {
  token: string;
  expires: number;
}

/** Scopes in a stable order, without duplicates. */
export function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

export interface TokenContext {
  registry: string;
  credentials: Credentials | undefined;
  timeoutMs: number;
  insecure: boolean;
  now?: () => number;
}

/** Bearer tokens of one registry, by scope set. */
export class TokenCache {
  private readonly tokens = new Map<string, Cached>();
  constructor(private readonly ctx: TokenContext) {}

  cached(scopes: readonly string[]): string | undefined {
    const hit = this.tokens.get(scopeKey(scopes));
    return hit !== undefined && hit.expires > this.now() ? hit.token : undefined;
  }

  forget(scopes: readonly string[]): void {
    this.tokens.delete(scopeKey(scopes));
  }

  private now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  /** A token for `scopes` from the realm of `challenge` (fetched, then cached). */
  async fetch(challenge: Challenge, scopes: readonly string[]): Promise<string> {
    const realm = challenge.params.realm;
    const registry = this.ctx.registry;
    if (realm === undefined || realm === '')
      throw authFailed(registry, 'the Bearer challenge names no realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw authFailed(registry, `the token realm ${quote(realm, 200)} is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.ctx.insecure)) {
      throw authFailed(registry, `the token realm ${quote(realm, 200)} is not https`, { realm });
    }
    if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
    for (const s of new Set(scopes)) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.ctx.credentials !== undefined) headers.authorization = basicHeader(this.ctx.credentials);
    const answer = await send(
      { method: 'GET', url: url.href, headers, authOrigin: url.origin },
      this.ctx.timeoutMs,
    );
    const what = `token answer of ${quote(url.origin, 200)}`;
    const bytes = await readBounded(answer, { maxBytes: MAX_TOKEN_ANSWER, what }, this.ctx.timeoutMs);
    if (answer.response.status === 401 || answer.response.status === 403) {
      throw authFailed(
        registry,
        `the token service ${quote(url.origin, 200)} refused the credentials (${answer.response.status})`,
        { realm },
      );
    }
    if (answer.response.status !== 200) {
      throw authFailed(
        registry,
        `the token service ${quote(url.origin, 200)} answered ${answer.response.status}`,
        { realm },
      );
    }
    const { token, expiresIn } = tokenOf(bytes, registry, what);
    const entry = { token, expires: this.now() + expiresIn * 1000 - 5000 };
    this.tokens.set(scopeKey(scopes), entry);
    return token;
  }
}

function tokenOf(bytes: Uint8Array, registry: string, what: string): { token: string; expiresIn: number } {
  let doc: unknown;
  try {
    doc = parseJsonBounded(bytes, { source: what, maxBytes: MAX_TOKEN_ANSWER });
  } catch (e) {
    throw authFailed(registry, `the ${what} is not JSON`, { cause: String(e) });
  }
  const d = (doc ?? {}) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token = typeof d.token === 'string' && d.token !== '' ? d.token : d.access_token;
  if (typeof token !== 'string' || token.length > MAX_TOKEN || !/^[\x21-\x7e]+$/.test(token)) {
    throw authFailed(registry, `the ${what} has no usable token or access_token`);
  }
  const n = d.expires_in;
  const expiresIn =
    typeof n === 'number' && Number.isFinite(n) && n >= 10 ? Math.min(n, 86_400) : DEFAULT_EXPIRES_S;
  return { token, expiresIn };
}
