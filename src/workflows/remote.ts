/**
 * The client of a metadata repository server (issue 13 item 5, the HTTP contract of
 * design.md §5, Notary v1 paths): `RemoteRepository` fetches the server's public keys,
 * rotates them and uploads a publish in one multipart request, on Node's fetch. Every request
 * carries `Authorization: Bearer <token>` when a token is given (CNABSEC_TOKEN or a token
 * file), has a time budget (CNABSEC_HTTP_TIMEOUT) and a bounded answer. A server that cannot
 * be reached is TUF_SERVER_UNREACHABLE (the TUF client's error); an answer with the server's
 * error envelope `{errors:[{code,message,detail}]}` is one line carrying the server's code;
 * a stale publish (HTTP 409, or a version the server already has) is PUBLISH_CONFLICT.
 */
import {
  keyIdOf,
  keyTypeOf,
  publicKeyObject,
  SCHEME_OF,
  type KeyType,
  type PublicKeyJson,
} from '../crypto/keys.js';
import { parseJsonBounded, quote } from '../util/json.js';
import { messageOf } from '../errors.js';
import { checkRepositoryName } from '../tuf/names.js';
import { HttpFetcher } from '../tuf/client/fetcher.js';
import {
  bearerHeaders,
  httpTimeoutMs,
  secondsText,
  unreachable,
  unreachableFrom,
} from '../tuf/client/network.js';
import { TufError } from '../tuf/errors.js';
import type { ServerRole } from '../tuf/repository.js';
import { WorkflowError } from './errors.js';
import { checkServerUrl, metadataUrlOf } from './remote-access.js';
import { fetchCurrent, type RemoteState } from './remote-sync.js';

/** Largest JSON answer read (keys, publish results, error envelopes). */
const ANSWER_MAX_BYTES = 1 << 20;
/** Largest metadata file read directly (the conflict check's timestamp and snapshot). */
const METADATA_MAX_BYTES = 64 << 20;
/** Slowest accepted upload or download rate beyond the answer time (as ../tuf/client/fetcher.ts). */
const MIN_BYTES_PER_SECOND = 64 * 1024;

export const CONFLICT_MESSAGE = 'someone published first: run `cnabsec pull <dir>` and retry';

export interface RemoteOptions {
  /** Base URL of the server, e.g. `https://tuf.example.com` (no path: `/v2/…` is added). */
  server: string;
  /** The repository (GUN), e.g. `example.com/org/bundle`. */
  repo: string;
  token?: string;
  /** Time the server has to answer; default CNABSEC_HTTP_TIMEOUT (30 s). */
  timeoutMs?: number;
}

/** What `upload` sends: metadata by role, in-toto target files by target path. */
export interface UploadFiles {
  roles: { role: string; bytes: Uint8Array }[];
  targetFiles: { path: string; bytes: Uint8Array }[];
}

/** The server's answer to an accepted upload (src/server/service-types.ts PublishResult). */
export interface UploadResult {
  repo: string;
  stored: { role: string; version: number; sha256: string; length: number; signedByServer: boolean }[];
  targetFiles: { path: string; sha256: string; length: number }[];
}

export interface ServerKey {
  keyid: string;
  public: PublicKeyJson;
}

interface ErrorEnvelope {
  code: string;
  message: string;
  detail?: unknown;
}

/** The first error of the server's envelope, bounded; undefined when the body is not one. */
function envelopeOf(body: Uint8Array): ErrorEnvelope | undefined {
  try {
    const json = parseJsonBounded(body, { source: 'server answer', maxBytes: ANSWER_MAX_BYTES }) as {
      errors?: { code?: unknown; message?: unknown; detail?: unknown }[];
    };
    const first = Array.isArray(json.errors) ? json.errors[0] : undefined;
    if (typeof first?.code !== 'string' || typeof first.message !== 'string') return undefined;
    return { code: first.code.slice(0, 64), message: first.message.slice(0, 500), detail: first.detail };
  } catch {
    return undefined;
  }
}

function isStale(status: number, env: ErrorEnvelope | undefined): boolean {
  if (status === 409) return true;
  const detail = env?.detail as { code?: unknown } | undefined;
  return env?.code === 'UPLOAD_REFUSED' && detail?.code === 'OLD_VERSION';
}

/**
 * `body` read up to `max` bytes; REMOTE_BAD_RESPONSE beyond. Every read also ends when `signal`
 * aborts: undici does not always error a body stream on abort (a `redirect: 'error'` fetch
 * reading a slow drip kept reading past its abort), so the budget is enforced here too.
 */
async function readBounded(
  res: Response,
  max: number,
  what: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) {
    await res.body?.cancel();
    throw tooLong(what, max);
  }
  if (res.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const aborted = new Promise<never>((_, reject) => {
    const stop = (): void => {
      reject(signal.reason as Error);
      reader.cancel(signal.reason).catch(() => undefined);
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => undefined);
  for (;;) {
    const r = await Promise.race([reader.read(), aborted]);
    if (r.done) break;
    n += r.value.byteLength;
    if (n > max) {
      await reader.cancel();
      throw tooLong(what, max);
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}

function tooLong(what: string, max: number): WorkflowError {
  return new WorkflowError('REMOTE_BAD_RESPONSE', `${what}: the server's answer is over ${max} bytes`, {
    hint: 'check the server URL: this is not a cnabsec metadata repository server',
  });
}

/**
 * The key must parse as the key type it claims, with that type's scheme (TUF §4.2 keytype and
 * scheme): a server key that does not would be listed in root and sign nothing verifiable.
 */
function checkUsableKey(key: PublicKeyJson, bad: (why: string) => WorkflowError): void {
  let type: KeyType;
  try {
    type = keyTypeOf(publicKeyObject(key));
  } catch {
    throw bad(
      `a ${quote(key.keytype, 40)} key that does not parse as an ed25519, ecdsa P-256 or rsa public key`,
    );
  }
  if (type !== key.keytype || SCHEME_OF[type] !== key.scheme)
    throw bad(
      `a ${type} key labelled keytype ${quote(key.keytype, 40)} scheme ${quote(key.scheme, 40)} (want ${type} ${SCHEME_OF[type]})`,
    );
}

export class RemoteRepository {
  readonly server: string;
  readonly repo: string;
  /** `<server>/v2/<repo>/_trust/tuf`: the metadata URL TUF clients (and `trust add`) use. */
  readonly metadataUrl: string;
  readonly timeoutMs: number;
  private readonly token: string | undefined;

  constructor(options: RemoteOptions) {
    this.server = checkServerUrl(options.server);
    this.repo = checkRepositoryName(options.repo);
    this.metadataUrl = metadataUrlOf(this.server, this.repo);
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? httpTimeoutMs();
  }

  /** Headers of every request: the bearer token (never logged or put in an error). */
  headers(): Record<string, string> {
    return bearerHeaders(this.token);
  }

  /** A TUF client fetcher for this server, sending the same token (../tuf/client/fetcher.ts). */
  fetcher(): HttpFetcher {
    return new HttpFetcher({ timeoutMs: this.timeoutMs, headers: this.headers() });
  }

  /** The server's public key for `role`, created on first call (GET `…/<role>.key`). */
  publicKey(role: ServerRole): Promise<ServerKey> {
    return this.key('GET', role);
  }

  /** A new pending key for `role` (POST `…/<role>.key`); it signs once a root listing it is uploaded. */
  rotateKey(role: ServerRole): Promise<ServerKey> {
    return this.key('POST', role);
  }

  private async key(method: 'GET' | 'POST', role: ServerRole): Promise<ServerKey> {
    const url = `${this.metadataUrl}/${role}.key`;
    const { res, body } = await this.request(method, url, undefined, ANSWER_MAX_BYTES);
    const what = `${method} ${role}.key of ${this.repo}`;
    if (!res.ok) throw this.refused(what, res.status, body);
    const pub = this.json(body, what) as Partial<PublicKeyJson> | null;
    if (
      typeof pub?.keytype !== 'string' ||
      typeof pub.scheme !== 'string' ||
      typeof pub.keyval?.public !== 'string'
    )
      throw this.badAnswer(what, 'not a TUF public key {keytype, scheme, keyval: {public}}');
    const key: PublicKeyJson = {
      keytype: pub.keytype,
      scheme: pub.scheme,
      keyval: { public: pub.keyval.public },
    };
    checkUsableKey(key, (why) => this.badAnswer(what, why));
    const keyid = keyIdOf(key);
    const said = res.headers.get('x-cnabsec-keyid');
    if (said !== null && said !== keyid)
      throw this.badAnswer(what, `X-Cnabsec-Keyid ${quote(said, 80)} is not the key's id ${keyid}`);
    return { keyid, public: key };
  }

  /**
   * Upload one publish: every role (part `files`, file name the role) and target file (part
   * `target`, file name its path) in ONE multipart request, stored all or nothing.
   */
  async upload(files: UploadFiles): Promise<UploadResult> {
    const form = new FormData();
    let size = 0;
    for (const { role, bytes } of files.roles) {
      form.append('files', new Blob([Uint8Array.from(bytes)], { type: 'application/json' }), role);
      size += bytes.length;
    }
    for (const { path, bytes } of files.targetFiles) {
      form.append('target', new Blob([Uint8Array.from(bytes)]), path);
      size += bytes.length;
    }
    const url = `${this.metadataUrl}/`;
    const { res, body } = await this.request('POST', url, form, ANSWER_MAX_BYTES, size);
    const what = `publish of ${this.repo}`;
    if (!res.ok) throw this.refused(what, res.status, body, true);
    const result = this.json(body, what) as Partial<UploadResult> | null;
    if (!Array.isArray(result?.stored)) throw this.badAnswer(what, 'no list of stored roles');
    // printed and compared with what the server serves next: only roles sent or signed by it
    const known = new Set(['snapshot', 'timestamp', ...files.roles.map((r) => r.role)]);
    for (const s of result.stored as unknown[]) {
      const e = s as Partial<UploadResult['stored'][number]> | null;
      if (
        typeof e?.role !== 'string' ||
        !known.has(e.role) ||
        !Number.isSafeInteger(e.version) ||
        (e.version ?? 0) < 1
      )
        throw this.badAnswer(
          what,
          'a stored role that was not uploaded, or a version that is not a number above 0',
        );
    }
    return { repo: this.repo, stored: result.stored, targetFiles: result.targetFiles ?? [] };
  }

  /**
   * The server's current state, verified by the TUF client from `trustedRoot` (the newest root
   * this repository trusts; undefined: the server's root v1, trusted on first use). See
   * ./remote-sync.ts.
   */
  fetchCurrent(trustedRoot?: Uint8Array): Promise<RemoteState> {
    return fetchCurrent(this, trustedRoot);
  }

  /** A metadata file as the server serves it (not verified); undefined for 404. */
  async metadataFile(file: string): Promise<Uint8Array | undefined> {
    const url = `${this.metadataUrl}/${file}`;
    const { res, body } = await this.request('GET', url, undefined, METADATA_MAX_BYTES);
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.refused(`GET ${file} of ${this.repo}`, res.status, body);
    return body;
  }

  /** One request within the time budget, answer read up to `max` bytes. */
  private async request(
    method: string,
    url: string,
    body: FormData | undefined,
    max: number,
    sending = 0,
  ): Promise<{ res: Response; body: Uint8Array }> {
    // the answer (headers) within the timeout plus the upload's time; the body within its length's
    const answerMs = this.timeoutMs + Math.ceil((sending / MIN_BYTES_PER_SECOND) * 1000);
    const bodyMs = Math.ceil((max / MIN_BYTES_PER_SECOND) * 1000);
    const ctl = new AbortController();
    const abortAfter = (ms: number, words: string): NodeJS.Timeout =>
      setTimeout(
        () => {
          ctl.abort(unreachable(url, words));
        },
        Math.min(ms, 2_147_000_000),
      );
    let timer = abortAfter(answerMs, `timed out after ${secondsText(answerMs)}`);
    try {
      const res = await fetch(url, {
        method,
        headers: { ...this.headers(), accept: 'application/json' },
        signal: ctl.signal,
        redirect: 'error',
        ...(body === undefined ? {} : { body }),
      });
      clearTimeout(timer);
      timer = abortAfter(
        bodyMs + this.timeoutMs,
        `the answer did not arrive within ${secondsText(bodyMs + this.timeoutMs)}`,
      );
      return { res, body: await readBounded(res, max, `${method} ${url}`, ctl.signal) };
    } catch (e) {
      const reason: unknown = ctl.signal.aborted ? ctl.signal.reason : e;
      if (reason instanceof TufError || reason instanceof WorkflowError) throw reason;
      throw (
        unreachableFrom(url, reason) ??
        unreachable(url, quote(messageOf(reason) + causeText(reason), 200), reason)
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private json(body: Uint8Array, what: string): unknown {
    try {
      return parseJsonBounded(body, { source: what, maxBytes: ANSWER_MAX_BYTES });
    } catch (e) {
      throw this.badAnswer(what, `not JSON (${quote(messageOf(e), 100)})`);
    }
  }

  private badAnswer(what: string, why: string): WorkflowError {
    return new WorkflowError('REMOTE_BAD_RESPONSE', `${what}: ${this.server} answered ${why}`, {
      details: { server: this.server, repository: this.repo },
      hint: 'check the server URL: it must be a cnabsec metadata repository server',
    });
  }

  /** The error of a refused request: PUBLISH_CONFLICT when an upload is stale, else REMOTE_REFUSED with the server's code. */
  private refused(what: string, status: number, body: Uint8Array, upload = false): WorkflowError {
    const env = envelopeOf(body);
    const details = {
      server: this.server,
      repository: this.repo,
      status,
      ...(env === undefined
        ? {}
        : { serverCode: env.code, ...(env.detail === undefined ? {} : { detail: env.detail }) }),
    };
    // only an upload can be stale; a 409 to a read is a broken server, not "pull and retry"
    if (upload && isStale(status, env)) return publishConflict(this.repo, details);
    const said = env === undefined ? `HTTP ${status}` : `HTTP ${status} ${env.code}: ${env.message}`;
    return new WorkflowError('REMOTE_REFUSED', `${what} refused by ${this.server}: ${oneLine(said)}`, {
      details,
      hint: hintFor(status, env?.code),
    });
  }
}

/** PUBLISH_CONFLICT: the server has a state this repository did not publish or pull. */
export function publishConflict(repo: string, details: Record<string, unknown>): WorkflowError {
  return new WorkflowError('PUBLISH_CONFLICT', `${repo}: ${CONFLICT_MESSAGE}`, {
    details,
    hint: 'the server has a newer state than this repository; pull it, stage your change again if pull dropped it, and publish',
  });
}

function causeText(e: unknown): string {
  return e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
}

/** Control characters and line breaks of a server's message shown as spaces. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 600);
}

function hintFor(status: number, code: string | undefined): string {
  if (status === 401 || status === 403 || code === 'UNAUTHORIZED')
    return 'give a token the server accepts: CNABSEC_TOKEN=<token> or --token-file <file>';
  if (code === 'UPLOAD_REFUSED')
    return 'the server names the role, version and rule it refused; fix it (sign, resign) and publish again — nothing was stored';
  if (code === 'ONLINE_KEYS_DISABLED')
    return 'this server holds no timestamp or snapshot keys: init with --server-managed none (your keys sign them)';
  if (status === 404 || code === 'NOT_FOUND')
    return 'check the server URL and the repository name; a repository exists on the server after its first publish';
  if (status === 413 || code === 'TOO_LARGE') return 'the upload is over the server limits; ask its operator';
  if (status === 503 || code === 'STORE_BUSY') return 'the server is busy; try again in a moment';
  return 'see the server log for this request; try again later';
}
