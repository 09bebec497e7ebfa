/**
 * Fetchers for the tuf-js Updater: `file://` and `http(s)://` URLs, and an in-memory one for
 * the repository simulator. A missing file is a `DownloadHTTPError` 404, which is how the
 * TUF client learns that the newest root was reached (spec §5.3.3). Every fetcher records
 * what it fetched, so errors can say whether the bad metadata came from the remote or the cache,
 * and the last attempt (download or verification) with the error it ended in, so that errors
 * are classified by their class and not by their text (./errors.ts).
 *
 * Bounds (ADR 0009): tuf-js caps the length of every download; HTTP downloads also have
 * a total-time budget (`timeoutMs` plus the allowed length at `minBytesPerSecond`), so an endless
 * or slowly dripping body ends; and every metadata file passes `checkMetadataBytes` (./guard.ts:
 * bounded depth, expected `_type`, bounded map sizes) before tuf-js parses it.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { DownloadError, TufError } from '../errors.js';
import { messageOf } from '../../errors.js';
import { quote } from '../../util/json.js';
import { checkMetadataBytes } from './guard.js';
import {
  bearerHeaders,
  envToken,
  httpTimeoutMs,
  secondsText,
  unreachable,
  unreachableFrom,
} from './network.js';
import { trace, traceRead, traceUrl, tracing } from '../../util/trace.js';
import { ModelsLengthOrHashMismatchError, TufjsDownloadLengthMismatchError } from './upstream.js';

export interface Fetched {
  url: string;
  /** Bytes of small metadata files (< 1 MiB), to describe failures. */
  bytes?: Buffer;
}

/** The last thing the client did: download a URL, or verify metadata of a role (./hooks.ts). */
export interface Attempt {
  kind: 'download' | 'verify';
  url?: string;
  role?: string;
  /** What it failed with; undefined while running or after success. */
  error?: unknown;
}

type WebStream = ReadableStream<Uint8Array<ArrayBuffer>>;

const KEEP_LIMIT = 1 << 20;

/**
 * Delegated role files are named with a literal `%2F` (`1.targets%2Freleases.json`), and
 * clients request exactly that name; decoding it to `/` would look in a sub-directory.
 */
export function keepEncodedSlash(url: string): string {
  return url.replace(/%2F/gi, '%252F');
}

/** Errors tuf-js itself relies on (a 404 ends the root walk) or that ./errors.ts classifies. */
function isKnownUpstream(e: unknown): boolean {
  return (
    e instanceof DownloadHTTPError ||
    e instanceof TufjsDownloadLengthMismatchError ||
    e instanceof ModelsLengthOrHashMismatchError
  );
}

export abstract class RecordingFetcher extends BaseFetcher {
  readonly fetched: Fetched[] = [];
  lastAttempt: Attempt | undefined;

  override async downloadFile<T>(
    url: string,
    maxLength: number,
    handler: (file: string) => Promise<T>,
  ): Promise<T> {
    const attempt: Attempt = { kind: 'download', url };
    this.lastAttempt = attempt;
    try {
      return await this.withBudget(url, maxLength, () => super.downloadFile(url, maxLength, handler));
    } catch (e) {
      attempt.error = this.translate(e, url);
      throw attempt.error;
    }
  }

  /** Metadata only (tuf-js downloads targets with `downloadFile`): checked before tuf-js parses it. */
  override async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const bytes = await super.downloadBytes(url, maxLength);
    const last = this.fetched.findLast((f) => f.url === url);
    if (last !== undefined && bytes.length < KEEP_LIMIT) last.bytes = bytes;
    try {
      checkMetadataBytes(url, bytes);
    } catch (e) {
      if (this.lastAttempt !== undefined) this.lastAttempt.error = e;
      throw e;
    }
    return bytes;
  }

  /** Run one download within a time budget; the base class has none. */
  protected withBudget<T>(_url: string, _maxLength: number, run: () => Promise<T>): Promise<T> {
    return run();
  }

  protected record(url: string): void {
    this.fetched.push({ url });
  }

  private translate(e: unknown, url: string): unknown {
    if (e instanceof TufError || isKnownUpstream(e)) return e;
    const down = unreachableFrom(url, e);
    if (down !== undefined) return down;
    // fetch() says only "fetch failed"; what failed is its cause ("bad port", ...)
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return new DownloadError(
      'TUF_DOWNLOAD_FAILED',
      `${quote(url, 200)}: download failed: ${quote(messageOf(e) + cause, 200)}`,
      {
        cause: e,
        details: { url: url.slice(0, 1000) },
        hint: 'check the metadata URL given to `cnabsec trust add` and that the server is up',
      },
    );
  }
}

/** Decode a URL path, except `%2F`, which is part of delegated role file names. */
export function decodeKeepingSlashes(urlPath: string): string {
  return decodeURIComponent(keepEncodedSlash(urlPath));
}

export class FileFetcher extends RecordingFetcher {
  async fetch(url: string): Promise<WebStream> {
    this.record(url);
    const file = fileURLToPath(keepEncodedSlash(url));
    let stat;
    try {
      stat = await fsp.stat(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new DownloadHTTPError(`${file} not found`, 404);
      throw e;
    }
    // a FIFO or device would never end (or end where tuf-js's length cap stops it)
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    traceRead(file, stat.size);
    return Readable.toWeb(createReadStream(file)) as WebStream;
  }
}

export interface HttpFetcherOptions {
  /**
   * Time the server has to answer (TUF_SERVER_UNREACHABLE "timed out" after it), and the time
   * for one file before its length allowance; default 30 s.
   */
  timeoutMs?: number;
  /** Slowest accepted transfer rate: a file of n bytes may take n / rate more; default 64 KiB/s. */
  minBytesPerSecond?: number;
  /** Headers sent with every request, e.g. `Authorization: Bearer <token>` (./network.ts `bearerHeaders`). */
  headers?: Readonly<Record<string, string>>;
}

export class HttpFetcher extends RecordingFetcher {
  private readonly timeoutMs: number;
  private readonly minBytesPerSecond: number;
  private readonly headers: Readonly<Record<string, string>>;
  private controller: AbortController | undefined;

  constructor(options: HttpFetcherOptions | number = {}) {
    super();
    const o = typeof options === 'number' ? { timeoutMs: options } : options;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.minBytesPerSecond = o.minBytesPerSecond ?? 64 * 1024;
    this.headers = { ...o.headers };
  }

  /**
   * The whole download (headers and body) must end within the budget: the abort errors the
   * body stream that tuf-js is reading, with a TUF_DOWNLOAD_TIMEOUT error.
   */
  protected override async withBudget<T>(url: string, maxLength: number, run: () => Promise<T>): Promise<T> {
    const budgetMs = this.timeoutMs + Math.ceil((maxLength / this.minBytesPerSecond) * 1000);
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      ctl.abort(
        new DownloadError(
          'TUF_DOWNLOAD_TIMEOUT',
          `${quote(url, 200)}: not downloaded within ${budgetMs} ms`,
          {
            details: { url: url.slice(0, 1000), budgetMs, maxLength },
            hint: 'the metadata server is too slow or hostile; try again later or use another mirror',
          },
        ),
      );
    }, budgetMs);
    this.controller = ctl;
    try {
      return await run();
    } catch (e) {
      throw ctl.signal.aborted ? (ctl.signal.reason as Error) : e;
    } finally {
      clearTimeout(timer);
      this.controller = undefined;
    }
  }

  /** The server must answer (headers) within `timeoutMs`: else TUF_SERVER_UNREACHABLE. */
  async fetch(url: string): Promise<WebStream> {
    this.record(url);
    const ctl = this.controller ?? new AbortController();
    const noAnswer = setTimeout(() => {
      ctl.abort(unreachable(url, `timed out after ${secondsText(this.timeoutMs)}`));
    }, this.timeoutMs);
    const started = Date.now();
    let res: Response;
    try {
      // fetch drops Authorization on a redirect to another origin (Fetch standard, undici)
      res = await fetch(url, { signal: ctl.signal, redirect: 'follow', headers: this.headers });
    } catch (e) {
      const reason: unknown = ctl.signal.aborted ? ctl.signal.reason : e;
      const err = reason instanceof TufError ? reason : (unreachableFrom(url, reason) ?? reason);
      trace(() => `GET ${traceUrl(url)} -> failed: ${messageOf(err)}`);
      throw err;
    } finally {
      clearTimeout(noAnswer);
    }
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      trace(() => `GET ${traceUrl(url)} -> ${res.status} (${Date.now() - started} ms)`);
      throw new DownloadHTTPError(`GET ${quote(url, 200)}: HTTP ${res.status}`, res.status);
    }
    const body = res.body as WebStream;
    if (!tracing()) return body;
    return counted(body, (bytes, failed) => {
      const end = failed === undefined ? '' : `, then failed: ${messageOf(failed)}`;
      trace(() => `GET ${traceUrl(url)} -> ${res.status}, ${bytes} bytes (${Date.now() - started} ms)${end}`);
    });
  }
}

/** `body`, calling `done` once with the bytes read when it ends, fails or is cancelled. */
function counted(body: WebStream, done: (bytes: number, failed?: unknown) => void): WebStream {
  const reader = body.getReader();
  let n = 0;
  let reported = false;
  const report = (failed?: unknown): void => {
    if (reported) return;
    reported = true;
    done(n, failed);
  };
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller): Promise<void> {
      try {
        const r = await reader.read();
        if (r.done) {
          report();
          controller.close();
          return;
        }
        n += r.value.byteLength;
        controller.enqueue(r.value);
      } catch (e) {
        report(e);
        controller.error(e);
      }
    },
    async cancel(reason): Promise<void> {
      report(reason ?? 'cancelled');
      await reader.cancel(reason);
    },
  });
}

/** Serves files from a map (path → bytes) under a fake base URL; for the simulator. */
export class MemoryFetcher extends RecordingFetcher {
  constructor(
    readonly baseUrl: string,
    private readonly read: (path: string) => Uint8Array | undefined,
  ) {
    super();
  }

  fetch(url: string): Promise<WebStream> {
    this.record(url);
    const rel = decodeKeepingSlashes(url.slice(this.baseUrl.length).replace(/^\//, ''));
    const data = url.startsWith(this.baseUrl) ? this.read(rel) : undefined;
    if (data === undefined) return Promise.reject(new DownloadHTTPError(`${url} not found`, 404));
    return Promise.resolve(new Blob([Uint8Array.from(data)]).stream());
  }
}

/**
 * The fetcher for a metadata URL by its scheme. HTTP requests carry `Authorization: Bearer
 * $CNABSEC_TOKEN` when it is set (issue 13: the token goes with every request to a server).
 */
export function fetcherFor(url: string, env: NodeJS.ProcessEnv = process.env): RecordingFetcher {
  if (url.startsWith('file:')) return new FileFetcher();
  if (url.startsWith('http:') || url.startsWith('https:'))
    return new HttpFetcher({ timeoutMs: httpTimeoutMs(env), headers: bearerHeaders(envToken(env)) });
  throw new TufError('INVALID_ARGUMENT', `unsupported URL scheme in ${quote(url, 200)}`, {
    details: { url: url.slice(0, 1000) },
    hint: 'metadata URLs are file://, http:// or https://; re-add the repository with `cnabsec trust add`',
  });
}
