/**
 * HTTP for the registry client on Node 20's global fetch: one timeout per request (body
 * included), bounded redirects that drop credentials as soon as they leave the registry's
 * origin, bounded bodies (read while streaming, never more than the limit), and network
 * failures as REGISTRY_UNREACHABLE in the words of the TUF client (src/tuf/client/network.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { messageOf } from '../errors.js';
import { networkProblem, secondsText } from '../tuf/client/network.js';
import { quote } from '../util/json.js';
import { trace, traceUrl } from '../util/trace.js';
import { RegistryError } from './errors.js';

export const MAX_REDIRECTS = 5;
/** Slowest body accepted before the time budget runs out: 64 KiB/s on top of the timeout. */
const MIN_BYTES_PER_SECOND = 64 * 1024;
/** Longest Node timer (2^31-1 ms, ~24.8 days): a longer one fires at once, past 2^32 it throws. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** The only origin (`http://host:port`) that may see `authorization`. */
  authOrigin: string;
  /** Bytes expected in either direction, to extend the time budget for large bodies. */
  budgetBytes?: number;
  /** The body holds a secret (an OAuth refresh token): never re-sent to another origin. */
  secretBody?: boolean;
}

export interface HttpAnswer {
  response: Response;
  /** The URL that answered (after redirects). */
  url: string;
  signal: AbortSignal;
}

function unreachable(url: string, words: string, cause?: unknown): RegistryError {
  return new RegistryError('REGISTRY_UNREACHABLE', `cannot reach ${quote(traceUrl(url), 200)}: ${words}`, {
    cause,
    details: { url: traceUrl(url).slice(0, 1000), problem: words },
    hint: 'check the registry host and port, that it is running, and --insecure for a plain-HTTP registry',
  });
}

function isTimeout(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError'));
}

/** A fetch failure as REGISTRY_UNREACHABLE (network, TLS, timeout); other failures as they are. */
export function networkError(url: string, e: unknown, signal: AbortSignal, timeoutMs: number): unknown {
  if (e instanceof RegistryError) return e;
  if (isTimeout(e, signal)) return unreachable(url, `no answer within ${secondsText(timeoutMs)}`, e);
  const p = networkProblem(e);
  if (p !== undefined) return unreachable(url, p.words, e);
  if (e instanceof TypeError) return unreachable(url, messageOf(e.cause ?? e).slice(0, 200), e);
  return e;
}

/** Loopback, link-local and unspecified addresses, and `localhost` names (RFC 6761 §6.3). */
export function isLocalHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(h) ?? /^::ffff:(\d+)\.(\d+)\.\d+\.\d+$/.exec(h);
  if (v4 !== null) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 127 || a === 0 || (a === 169 && b === 254);
  }
  // IPv4-mapped IPv6 as the URL parser writes it: ::ffff:7f00:1 is 127.0.0.1
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(h);
  if (mapped !== null) {
    const hi = parseInt(mapped[1] as string, 16);
    return hi >> 8 === 127 || hi >> 8 === 0 || hi === 0xa9fe;
  }
  return h === '::1' || h === '::' || /^fe[89ab][0-9a-f]?:/.test(h);
}

function originOf(url: string): string {
  return new URL(url).origin;
}

function withoutAuth(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Send `req`, following up to MAX_REDIRECTS redirects. `authorization` goes only to
 * `req.authOrigin`; once a redirect leaves it, no later hop gets it back (a blob GET that
 * goes to S3 must not hand the registry password to S3).
 */
export async function send(req: HttpRequest, timeoutMs: number): Promise<HttpAnswer> {
  // a descriptor's size (a registry's word) sets the budget: clamped, or a hostile size of
  // 2^38 would abort at once and one of 2^52 throw a RangeError from AbortSignal.timeout
  const budget = Math.min(
    MAX_TIMER_MS,
    timeoutMs + Math.ceil(((req.budgetBytes ?? 0) / MIN_BYTES_PER_SECOND) * 1000),
  );
  const signal = AbortSignal.timeout(budget);
  let url = req.url;
  let method = req.method;
  let body = req.body;
  let headers = originOf(url) === req.authOrigin ? req.headers : withoutAuth(req.headers);
  for (let hop = 0; ; hop++) {
    trace(() => `registry ${method} ${traceUrl(url)}`);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, redirect: 'manual', signal });
    } catch (e) {
      throw networkError(url, e, signal, budget);
    }
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return { response, url, signal };
    await response.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) {
      throw protocol(`${quote(traceUrl(req.url), 200)} redirected more than ${MAX_REDIRECTS} times`, url);
    }
    const next = new URL(location, url);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw protocol(`${quote(traceUrl(url), 200)} redirected to a ${quote(next.protocol, 20)} URL`, url);
    }
    // A downgrade would hand a tag's manifest (checked against no digest) to anyone on the path.
    if (next.protocol === 'http:' && new URL(url).protocol === 'https:') {
      throw protocol(`${quote(traceUrl(url), 200)} redirected from https to plain http`, url);
    }
    // a remote server must not point the client at services on the user's machine (SSRF)
    if (isLocalHostname(next.hostname) && !isLocalHostname(new URL(url).hostname)) {
      throw protocol(
        `${quote(traceUrl(url), 200)} redirected to a loopback or link-local address ${quote(next.host, 100)}`,
        url,
      );
    }
    if (next.origin !== originOf(url)) headers = withoutAuth(headers);
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === 'POST')
    ) {
      method = 'GET';
      body = undefined;
    }
    if (req.secretBody === true && body !== undefined && next.origin !== req.authOrigin) {
      throw protocol(
        `${quote(traceUrl(url), 200)} redirected a request carrying a token to another origin ${quote(next.origin, 200)}`,
        url,
      );
    }
    url = next.href;
  }
}

export function protocol(message: string, url: string, details: Record<string, unknown> = {}): RegistryError {
  return new RegistryError('REGISTRY_PROTOCOL', message, {
    details: { url: traceUrl(url).slice(0, 1000), ...details },
    hint: 'the registry does not answer as the OCI distribution spec says; check the registry URL',
  });
}

export interface ReadLimit {
  maxBytes: number;
  /** What is read, for the message ("manifest org/b:1.0 on ghcr.io"). */
  what: string;
  hash?: Hash;
}

function tooLarge(limit: ReadLimit, size: number | undefined, url: string): RegistryError {
  const got = size === undefined ? 'more' : String(size);
  return new RegistryError(
    'REGISTRY_TOO_LARGE',
    `${limit.what}: ${got} bytes, more than the limit of ${limit.maxBytes}`,
    {
      details: {
        url: traceUrl(url).slice(0, 1000),
        maxBytes: limit.maxBytes,
        ...(size === undefined ? {} : { size }),
      },
      hint: 'a registry that sends more than asked for is refused; raise the limit only for a source you trust',
    },
  );
}

/**
 * The body of `answer`, at most `limit.maxBytes` bytes: a Content-Length above the limit is
 * refused before reading, and reading stops (and cancels the body) as soon as the limit is
 * passed, so no more than `maxBytes` plus one chunk is ever held. `limit.hash` sees every byte.
 */
export async function readBounded(
  answer: HttpAnswer,
  limit: ReadLimit,
  timeoutMs: number,
): Promise<Uint8Array> {
  const { response, url } = answer;
  const declared = response.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > limit.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(limit, Number(declared), url);
  }
  if (response.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(limit, undefined, url);
      }
      limit.hash?.update(value);
      chunks.push(value);
    }
  } catch (e) {
    throw networkError(url, e, answer.signal, timeoutMs);
  }
  return concat(chunks, size);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Discard a body that is not needed (so the connection can be reused). */
export async function discard(answer: HttpAnswer): Promise<void> {
  await answer.response.body?.cancel().catch(() => undefined);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
