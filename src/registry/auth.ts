/**
 * Registry authentication (distribution `docs/spec/auth/token.md`, "Docker Registry v2 Bearer
 * token"): a request goes out with what is known; a 401 carries `WWW-Authenticate`, either
 * `Basic realm=…` (send the credentials) or `Bearer realm=…,service=…,scope=…`: GET the realm
 * with `service` and one `scope` parameter per scope (a mount asks for two scopes in one
 * space-separated parameter), with the credentials as Basic when there are any, and retry with
 * the `token` (or `access_token`) of the answer. Tokens are cached per set of scopes until they
 * expire; a 401 with `error="insufficient_scope"` asks for a token with the wider scopes.
 * Which realms are asked at all is `checkRealm` (ADR 0027 "Token realms"); an identity token
 * goes to the realm as an OAuth2 refresh token (`docs/spec/auth/oauth.md`), never as Basic.
 */
import { parseJsonBounded, quote } from '../util/json.js';
import { RegistryError } from './errors.js';
import type { Credentials } from './docker-config.js';
import { isLocalHostname, readBounded, send, type HttpAnswer } from './http.js';

export { isLocalHostname };

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
    hint: 'check the credentials (docker login <host>, or CNABSEC_REGISTRY_USER/CNABSEC_REGISTRY_PASSWORD with CNABSEC_REGISTRY_HOST=<host>) and that they may access the repository',
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
    const registry = this.ctx.registry;
    const url = checkRealm(challenge.params.realm, registry, this.ctx.insecure);
    const realm = url.href;
    const creds = this.ctx.credentials;
    const answer =
      creds?.identityToken !== undefined
        ? await this.oauth(url, challenge, scopes, creds.identityToken)
        : await this.get(url, challenge, scopes);
    const what = `token answer of ${quote(url.origin, 200)}`;
    const bytes = await readBounded(answer, { maxBytes: MAX_TOKEN_ANSWER, what }, this.ctx.timeoutMs);
    if (answer.response.status === 401 || answer.response.status === 403) {
      throw authFailed(
        registry,
        `the token service ${quote(url.origin, 200)} refused the credentials (${answer.response.status})`,
        { realm, status: answer.response.status },
      );
    }
    if (answer.response.status !== 200) {
      throw authFailed(
        registry,
        `the token service ${quote(url.origin, 200)} answered ${answer.response.status}`,
        { realm, status: answer.response.status },
      );
    }
    const { token, expiresIn } = tokenOf(bytes, registry, what);
    const entry = { token, expires: this.now() + expiresIn * 1000 - 5000 };
    this.tokens.set(scopeKey(scopes), entry);
    return token;
  }

  /** token.md: GET the realm with `service` and `scope`s, Basic credentials when there are any. */
  private async get(url: URL, challenge: Challenge, scopes: readonly string[]): Promise<HttpAnswer> {
    const u = new URL(url.href);
    if (challenge.params.service !== undefined) u.searchParams.set('service', challenge.params.service);
    for (const s of new Set(scopes)) u.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    const creds = this.ctx.credentials;
    if (creds !== undefined && creds.identityToken === undefined) headers.authorization = basicHeader(creds);
    // authOrigin: a redirect of the token request to another origin loses the credentials
    return send({ method: 'GET', url: u.href, headers, authOrigin: u.origin }, this.ctx.timeoutMs);
  }

  /**
   * oauth.md: an identity token (a credential helper's `<token>` user) is a refresh token, POSTed
   * as a form (`grant_type=refresh_token`), never sent as a Basic password. The token is in the
   * body, so the request may not follow a redirect to another origin (`secretBody`).
   */
  private async oauth(
    url: URL,
    challenge: Challenge,
    scopes: readonly string[],
    refreshToken: string,
  ): Promise<HttpAnswer> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'cnabsec' });
    if (challenge.params.service !== undefined) form.set('service', challenge.params.service);
    const scope = [...new Set(scopes)].join(' ');
    if (scope !== '') form.set('scope', scope);
    form.set('refresh_token', refreshToken);
    return send(
      {
        method: 'POST',
        url: url.href,
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new Uint8Array(Buffer.from(form.toString(), 'utf8')),
        authOrigin: url.origin,
        secretBody: true,
      },
      this.ctx.timeoutMs,
    );
  }
}

/**
 * The realm of a Bearer challenge, if cnabsec may ask it for a token (ADR 0027 "Token realms").
 * Like docker and containerd, the realm may be on another host (auth.docker.io for Docker Hub)
 * and gets the registry's credentials. Unlike them, refused: a realm that is not a URL, has
 * userinfo (`https://user:pw@host` would send credentials chosen by the registry, or log ours),
 * is plain http when the registry is https (credentials in clear), or is a loopback, link-local
 * or unspecified address when the registry is not one (a hostile registry must not make the
 * client call, with credentials, services on the user's machine or the cloud metadata address).
 */
export function checkRealm(realm: string | undefined, registry: string, insecure: boolean): URL {
  if (realm === undefined || realm === '') throw authFailed(registry, 'the Bearer challenge names no realm');
  const shown = quote(realm, 200);
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw authFailed(registry, `the token realm ${shown} is not a URL`, { realm: realm.slice(0, 1000) });
  }
  const refuse = (why: string): never => {
    throw authFailed(registry, `the token realm ${shown} ${why}; no token was asked for`, {
      realm: realm.slice(0, 1000),
    });
  };
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && insecure))
    refuse(insecure ? 'is neither https nor http' : 'is not https (the registry is reached over https)');
  if (url.username !== '' || url.password !== '') refuse('holds a user name or password');
  const registryHost = registry.replace(/:[0-9]+$/, '');
  if (isLocalHostname(url.hostname) && !isLocalHostname(registryHost))
    refuse('is a loopback or link-local address, but the registry is not');
  return url;
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
