/**
 * Fetchers for the tuf-js Updater: `file://` and `http(s)://` URLs, and an in-memory one for
 * the repository simulator. A missing file is a `DownloadHTTPError` 404, which is how the
 * TUF client learns that the newest root was reached (spec §5.3.3). Every fetcher records
 * what it fetched, so errors can say whether the bad metadata came from the remote or the cache.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { TufError } from '../errors.js';

export interface Fetched {
  url: string;
  /** Bytes of small metadata files (< 1 MiB), to describe failures. */
  bytes?: Buffer;
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

export abstract class RecordingFetcher extends BaseFetcher {
  readonly fetched: Fetched[] = [];

  override async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const bytes = await super.downloadBytes(url, maxLength);
    const last = this.fetched.findLast((f) => f.url === url);
    if (last !== undefined && bytes.length < KEEP_LIMIT) last.bytes = bytes;
    return bytes;
  }

  protected record(url: string): void {
    this.fetched.push({ url });
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
    try {
      await fsp.access(file);
    } catch {
      throw new DownloadHTTPError(`${file} not found`, 404);
    }
    return Readable.toWeb(createReadStream(file));
  }
}

export class HttpFetcher extends RecordingFetcher {
  constructor(private readonly timeoutMs = 30_000) {
    super();
  }

  async fetch(url: string): Promise<WebStream> {
    this.record(url);
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new DownloadHTTPError(`GET ${url}: HTTP ${res.status}`, res.status);
    }
    return res.body as WebStream;
  }
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

/** The fetcher for a metadata URL by its scheme. */
export function fetcherFor(url: string): RecordingFetcher {
  if (url.startsWith('file:')) return new FileFetcher();
  if (url.startsWith('http:') || url.startsWith('https:')) return new HttpFetcher();
  throw new TufError('INVALID_ARGUMENT', `unsupported URL scheme in ${url}`, {
    details: { url },
    hint: 'metadata URLs are file://, http:// or https://; re-add the repository with `cnabsec trust add`',
  });
}
