/**
 * A metadata server that cannot be reached: connection refused, host not found, no answer in
 * time, a TLS failure. These are `TUF_SERVER_UNREACHABLE`, one line naming the URL and the
 * network error in words, with a hint to check the URL and the server — never to re-pin the
 * root (`trust reset` is for a root replaced out of band, not for a server that is down).
 *
 * Errors are told apart by the `code` of the error fetch() gives as `cause` (Node's errno
 * codes, undici's `UND_ERR_*`, OpenSSL's certificate and TLS codes), never by their messages.
 */
import { DownloadError, TufError } from '../errors.js';
import { parseDuration } from '../policy.js';
import { quote } from '../../util/json.js';
import { traceUrl } from '../../util/trace.js';

const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (temporary DNS failure)',
  EAI_NODATA: 'host not found',
  EAI_NONAME: 'host not found',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for an answer',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed by the server',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host is down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network is down',
  EADDRNOTAVAIL: 'address not available',
};

/** OpenSSL / Node TLS codes: certificate problems and handshake failures. */
function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code.startsWith('UNABLE_TO_') ||
    code.includes('SELF_SIGNED_CERT') ||
    code === 'HOSTNAME_MISMATCH' ||
    code === 'EPROTO'
  );
}

/** The codes along the `cause` chain of `e` (and the first error of an AggregateError). */
function codesOf(e: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; depth < 6 && typeof cur === 'object' && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) out.push(code);
    const inner = (cur as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) out.push(...codesOf(inner[0]));
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** The network error of a failed fetch, in words; undefined when it is not one. */
export function networkProblem(e: unknown): { words: string; code: string } | undefined {
  for (const code of codesOf(e)) {
    const words = WORDS[code];
    if (words !== undefined) return { words, code };
    if (isTlsCode(code)) return { words: `TLS error (${code})`, code };
  }
  return undefined;
}

/** `30 s`, `1.5 s`. */
export function secondsText(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

export const UNREACHABLE_HINT = 'check the URL (`cnabsec trust list`) and that the server is running';

/** TUF_SERVER_UNREACHABLE for `url`: `words` says what went wrong ("connection refused"). */
export function unreachable(url: string, words: string, cause?: unknown, errno?: string): DownloadError {
  const shown = quote(traceUrl(url), 200);
  return new DownloadError('TUF_SERVER_UNREACHABLE', `cannot reach ${shown}: ${words}`, {
    cause,
    details: { url: traceUrl(url).slice(0, 1000), problem: words, ...(errno === undefined ? {} : { errno }) },
    hint: UNREACHABLE_HINT,
  });
}

/** TUF_SERVER_UNREACHABLE when `e` (from fetch) is a network error; else undefined. */
export function unreachableFrom(url: string, e: unknown): DownloadError | undefined {
  const p = networkProblem(e);
  return p === undefined ? undefined : unreachable(url, p.words, e, p.code);
}

export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/**
 * How long the client waits for a metadata server to answer: CNABSEC_HTTP_TIMEOUT, a duration
 * (`90s`, `2m`; default 30 s). A value that is not a duration is INVALID_ARGUMENT.
 */
export function httpTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.CNABSEC_HTTP_TIMEOUT;
  if (text === undefined || text.trim() === '') return DEFAULT_HTTP_TIMEOUT_MS;
  let s: number;
  try {
    s = parseDuration(text);
  } catch (e) {
    throw new TufError('INVALID_ARGUMENT', `CNABSEC_HTTP_TIMEOUT=${quote(text, 40)} is not a duration`, {
      cause: e,
      hint: 'set CNABSEC_HTTP_TIMEOUT to a duration such as 30s or 2m, or unset it (default 30s)',
    });
  }
  return Math.min(s, 3600) * 1000;
}

/** Longest bearer token accepted (a JWT with many claims is a few KiB). */
export const TOKEN_MAX_BYTES = 16 * 1024;

/**
 * A bearer token, checked: printable ASCII without spaces (RFC 6750 §2.1 b64token, loosely),
 * so it cannot break the header it goes into. `source` names where it came from.
 */
export function checkToken(token: string, source: string): string {
  const t = token.trim();
  if (t === '' || t.length > TOKEN_MAX_BYTES || !/^[\x21-\x7e]+$/.test(t)) {
    throw new TufError('INVALID_ARGUMENT', `${source} is not a bearer token`, {
      details: { source },
      hint: `a token is one line of printable characters without spaces, at most ${TOKEN_MAX_BYTES} bytes`,
    });
  }
  return t;
}

/** CNABSEC_TOKEN, checked; undefined when unset or empty. */
export function envToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const t = env.CNABSEC_TOKEN;
  return t === undefined || t.trim() === '' ? undefined : checkToken(t, 'CNABSEC_TOKEN');
}

/** `{Authorization: 'Bearer <token>'}`, or no header without a token. */
export function bearerHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
