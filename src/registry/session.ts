/**
 * One registry's requests with authentication and error classification: what the client
 * methods (./client.ts) send goes through `Session.call`, which adds the credentials the
 * registry asked for (./auth.ts), retries once per challenge, and turns an unexpected status
 * into a RegistryError naming the registry, repository and reference, with the registry's own
 * error code (distribution spec §"Error Codes": `{"errors":[{"code","message"}]}`) quoted.
 */
import { parseJsonBounded, quote } from '../util/json.js';
import { authFailed, basicHeader, parseChallenge, TokenCache, type Challenge } from './auth.js';
import type { Credentials } from './docker-config.js';
import { RegistryError, type RegistryErrorCode } from './errors.js';
import { discard, readBounded, send, type HttpAnswer } from './http.js';

export interface Target {
  repository: string;
  /** Tag or digest. */
  reference?: string;
  /** "manifest", "blob", "tags", "upload". */
  kind: string;
}

export interface Call {
  method: string;
  /** An absolute URL, or a path (`/v2/…`) on the registry. */
  url: string;
  scopes: readonly string[];
  target: Target;
  headers?: Record<string, string>;
  body?: Uint8Array;
  budgetBytes?: number;
}

export interface SessionOptions {
  registry: string;
  base: string;
  credentials: Credentials | undefined;
  timeoutMs: number;
  insecure: boolean;
  headers: Record<string, string>;
}

const MAX_ERROR_BODY = 64 * 1024;
const MAX_AUTH_ROUNDS = 3;

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}
export function deleteScope(repository: string): string {
  return `repository:${repository}:delete`;
}

export class Session {
  private mode: 'anonymous' | 'basic' | 'bearer' = 'anonymous';
  private challenge: Challenge | undefined;
  private readonly tokens: TokenCache;
  readonly origin: string;

  constructor(readonly options: SessionOptions) {
    this.origin = new URL(options.base).origin;
    this.tokens = new TokenCache({
      registry: options.registry,
      credentials: options.credentials,
      timeoutMs: options.timeoutMs,
      insecure: options.insecure,
    });
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** `registry/repository[:tag|@digest]` for messages. */
  name(t: Target): string {
    const ref =
      t.reference === undefined ? '' : t.reference.includes(':') ? `@${t.reference}` : `:${t.reference}`;
    return `${this.options.registry}/${t.repository}${ref}`;
  }

  /** The Authorization to send, and whether it is a cached token (which may have gone stale). */
  private async authorization(scopes: readonly string[]): Promise<{ header?: string; cached: boolean }> {
    const creds = this.options.credentials;
    if (this.mode === 'basic' && creds !== undefined && creds.identityToken === undefined)
      return { header: basicHeader(creds), cached: false };
    if (this.mode !== 'bearer' || this.challenge === undefined) return { cached: false };
    const hit = this.tokens.cached(scopes);
    const token = hit ?? (await this.tokens.fetch(this.challenge, scopes));
    return { header: `Bearer ${token}`, cached: hit !== undefined };
  }

  /** Send `call`, answering auth challenges; the answer of any other status is returned. */
  async request(call: Call): Promise<HttpAnswer> {
    let scopes = [...call.scopes];
    for (let round = 0; ; round++) {
      const { header: auth, cached } = await this.authorization(scopes);
      const headers: Record<string, string> = { ...this.options.headers, ...call.headers };
      if (auth !== undefined) headers.authorization = auth;
      const url = new URL(call.url, this.options.base).href;
      const answer = await send(
        {
          method: call.method,
          url,
          headers,
          body: call.body,
          authOrigin: this.origin,
          budgetBytes: call.budgetBytes,
        },
        this.options.timeoutMs,
      );
      // A challenge only counts from the registry itself: one from a redirect target (blob
      // storage on another origin) would send the registry credentials to any realm it names.
      if (answer.response.status !== 401 || new URL(answer.url).origin !== this.origin) return answer;
      await discard(answer);
      const ch = parseChallenge(answer.response.headers.get('www-authenticate'));
      if (round + 1 >= MAX_AUTH_ROUNDS || ch === undefined) throw this.refused(call, auth !== undefined);
      if (cached && ch.scheme === 'bearer' && ch.params.error !== 'insufficient_scope') {
        this.tokens.forget(scopes); // revoked or expired early: one fresh token, then a refusal
        continue;
      }
      scopes = this.learn(call, ch, scopes, auth);
    }
  }

  /** Take in a 401 challenge: the scheme to use next and the scopes to ask for. */
  private learn(call: Call, ch: Challenge, scopes: string[], sent: string | undefined): string[] {
    if (ch.scheme === 'basic') {
      if (this.options.credentials === undefined || (sent !== undefined && this.mode === 'basic')) {
        throw this.refused(call, sent !== undefined);
      }
      if (this.options.credentials.identityToken !== undefined) {
        // an identity token is for the OAuth2 token flow only; it is no Basic password
        throw authFailed(
          this.options.registry,
          `${this.name(call.target)}: the registry asks for Basic auth, but the credentials found are an identity token (docker login with a token), which is only sent to a Bearer token service`,
          { repository: call.target.repository },
        );
      }
      this.mode = 'basic';
      return scopes;
    }
    const asked = (ch.params.scope ?? '').split(' ').filter((s) => s !== '');
    const wider = [...new Set([...scopes, ...asked])];
    const insufficient = ch.params.error === 'insufficient_scope';
    if (sent !== undefined && this.mode === 'bearer' && !(insufficient && wider.length > scopes.length)) {
      throw this.refused(call, true);
    }
    this.mode = 'bearer';
    this.challenge = ch;
    return wider;
  }

  private refused(call: Call, sent: boolean): RegistryError {
    const why = sent
      ? 'the registry refused the credentials (401)'
      : this.options.credentials === undefined
        ? 'the registry needs credentials (401) and none were found'
        : 'the registry refused the request (401)';
    return authFailed(this.options.registry, `${this.name(call.target)}: ${why}`, {
      repository: call.target.repository,
      ...(call.target.reference === undefined ? {} : { reference: call.target.reference }),
    });
  }

  /** `request`, then a RegistryError unless the status is one of `ok`. */
  async call(call: Call, ok: readonly number[]): Promise<HttpAnswer> {
    const answer = await this.request(call);
    if (ok.includes(answer.response.status)) return answer;
    throw await this.failure(call, answer);
  }

  /** The RegistryError for an answer with an unexpected status. */
  async failure(call: Call, answer: HttpAnswer): Promise<RegistryError> {
    const status = answer.response.status;
    let body: Uint8Array = new Uint8Array(0);
    try {
      body = await readBounded(
        answer,
        { maxBytes: MAX_ERROR_BODY, what: 'error answer' },
        this.options.timeoutMs,
      );
    } catch {
      await discard(answer);
    }
    const reg = registryErrorOf(body);
    const said = `HTTP ${status}${reg === undefined ? '' : ` ${reg.code}: ${reg.message}`}`;
    const [code, what, hint] = classify(status, reg?.code, call.target.kind);
    const ref = call.target.reference;
    return new RegistryError(code, `${this.name(call.target)}: ${what} (${said})`, {
      details: {
        registry: this.options.registry,
        repository: call.target.repository,
        ...(ref === undefined ? {} : { reference: ref }),
        status,
        ...(reg === undefined ? {} : { registryCode: reg.code }),
      },
      hint,
    });
  }
}

/** The first `{code, message}` of a distribution error body, bounded for messages. */
function registryErrorOf(body: Uint8Array): { code: string; message: string } | undefined {
  if (body.byteLength === 0) return undefined;
  try {
    const doc = parseJsonBounded(body, { source: 'error', maxBytes: MAX_ERROR_BODY }) as { errors?: unknown };
    const first = Array.isArray(doc?.errors)
      ? (doc.errors[0] as Record<string, unknown> | undefined)
      : undefined;
    const code =
      typeof first?.code === 'string' && /^[A-Z_]{1,64}$/.test(first.code) ? first.code : 'UNKNOWN';
    const message = typeof first?.message === 'string' ? quote(first.message, 120) : '';
    return first === undefined ? undefined : { code, message };
  } catch {
    return undefined;
  }
}

function classify(
  status: number,
  regCode: string | undefined,
  kind: string,
): [RegistryErrorCode, string, string] {
  if (status === 401 || status === 403 || regCode === 'DENIED' || regCode === 'UNAUTHORIZED') {
    return [
      'REGISTRY_AUTH_FAILED',
      'access denied',
      'check the credentials and that they may access the repository',
    ];
  }
  if (regCode === 'MANIFEST_BLOB_UNKNOWN') {
    return [
      'REGISTRY_NOT_FOUND',
      'the manifest refers to a blob or manifest the repository does not have',
      'push the blobs and child manifests first',
    ];
  }
  if (status === 404) {
    return [
      'REGISTRY_NOT_FOUND',
      `${kind} not found`,
      'check the repository, tag and digest (and that it was pushed)',
    ];
  }
  if (status === 413 || regCode === 'SIZE_INVALID') {
    return [
      'REGISTRY_TOO_LARGE',
      `the registry refused the ${kind} as too large`,
      'check the registry size limits',
    ];
  }
  if (regCode === 'DIGEST_INVALID') {
    return [
      'REGISTRY_DIGEST_MISMATCH',
      `the registry says the ${kind} does not match its digest`,
      'the bytes were altered on the way; retry',
    ];
  }
  if (status === 405 || regCode === 'UNSUPPORTED') {
    return [
      'REGISTRY_PROTOCOL',
      `the registry does not support this ${kind} operation`,
      'a registry may disable deletes (docker-registry: storage.delete.enabled)',
    ];
  }
  return [
    'REGISTRY_PROTOCOL',
    `unexpected answer to a ${kind} request`,
    'see the registry status and logs; retry later',
  ];
}
