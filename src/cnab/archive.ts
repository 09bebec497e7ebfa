/**
 * Thick bundles (CNAB doc 104): a gzipped tar with `bundle.json` at its root. One streamed
 * pass computes the SHA-256 and length of the archive bytes (the thick bundle's TUF target
 * hash, doc 301) and decompresses the tar once, reading its headers only (./tar.ts): the data
 * of every entry but `bundle.json` is skipped, so memory is constant and time linear.
 *
 * The whole tar is read, not just up to `bundle.json`, because a second `bundle.json` (or any
 * duplicated path) later in the archive would be what `tar x` leaves on disk: duplicates are
 * refused. Decompression stops at the end-of-archive block, and is bounded by
 * `maxUnpackedBytes` (default: 10 times the archive, at least 256 MiB: a gzip bomb stops
 * there with ARCHIVE_TOO_LARGE) and by `timeoutMs` (default 10 minutes, ARCHIVE_TIMEOUT).
 */
import { createGunzip, type Gunzip } from 'node:zlib';
import { stat } from 'node:fs/promises';
import { CnabError } from './errors.js';
import { checkThinBundle, fileDigest, type Digest } from './bundle.js';
import { TarScanner, tarError, type TarLimits } from './tar.js';
import { messageOf } from '../errors.js';

export { DEFAULT_TAR_LIMITS, normalizeEntryPath, type TarLimits } from './tar.js';

/** Decompressed size accepted by default: this many times the archive's size... */
export const DEFAULT_UNPACK_RATIO = 10;
/** ...and at least this much. */
export const DEFAULT_MIN_UNPACKED_BYTES = 256 * 1024 * 1024;
export const DEFAULT_ARCHIVE_TIMEOUT_MS = 10 * 60 * 1000;

export interface ArchiveLimits extends Partial<TarLimits> {
  /** Most decompressed bytes read (default max(256 MiB, 10 × archive size)). */
  maxUnpackedBytes?: number;
  /** Time limit of the whole scan in milliseconds (default 10 minutes). */
  timeoutMs?: number;
}

export interface ThickBundle {
  digest: Digest;
  /** Raw bytes of the archive's root `bundle.json`, when the archive is readable and has one. */
  bundleJson?: Buffer;
  /** Why `bundleJson` is missing (not a gzipped tar, no bundle.json, duplicated entry, ...). */
  problem?: CnabError;
}

/**
 * Input is given to gunzip in slices this big. A bomb still stops within one 256 KiB output chunk
 * of the limit (the data handler destroys the stream, and zlib checks for that between output
 * chunks: bench/thick-archive, 1 GiB bombs at < 90 MB RSS); 1 MiB keeps the per-write cost
 * (a threadpool round trip) small beside inflating: 64 KiB slices cost 1.7 s per 512 MiB, 1 MiB 1.1 s.
 */
const SLICE = 1024 * 1024;

/** Resolve on `event`, an error or close, whichever comes first (a corrupt stream may never drain). */
function settled(stream: Gunzip, event: 'drain' | 'end'): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      for (const ev of [event, 'error', 'close']) stream.off(ev, done);
      resolve();
    };
    for (const ev of [event, 'error', 'close']) stream.once(ev, done);
  });
}

/** gunzip feeding a TarScanner, stopped at the end of the tar, on the first error or a limit. */
class Inflater {
  private readonly gunzip: Gunzip = createGunzip({ chunkSize: 256 * 1024 });
  error: unknown;
  private unpacked = 0;

  constructor(
    readonly tar: TarScanner,
    private readonly maxUnpacked: number,
    private readonly deadline: number,
    private readonly timeoutMs: number,
  ) {
    this.gunzip.on('data', (d: Buffer) => {
      this.guard(() => {
        this.unpacked += d.length;
        if (this.unpacked > this.maxUnpacked) {
          throw tarError(
            'ARCHIVE_TOO_LARGE',
            `the archive decompresses to more than ${this.maxUnpacked} bytes: a gzip bomb, or a genuine bundle that compresses better than 10:1 (then raise the limit: --max-unpacked <MiB>, or maxUnpackedBytes in the library)`,
            { limit: this.maxUnpacked },
          );
        }
        this.tar.push(d);
        if (this.tar.ended) this.gunzip.destroy(); // the answer is known: stop decompressing
      });
    });
    this.gunzip.on('error', (e) => (this.error ??= e));
  }

  get active(): boolean {
    return this.error === undefined && !this.tar.ended;
  }

  private guard(f: () => void): void {
    if (!this.active) return;
    try {
      if (Date.now() >= this.deadline) {
        throw tarError('ARCHIVE_TIMEOUT', `reading the archive took more than ${this.timeoutMs} ms`, {
          limit: this.timeoutMs,
        });
      }
      f();
    } catch (e) {
      this.error ??= e;
      this.gunzip.destroy();
    }
  }

  async write(buf: Buffer): Promise<void> {
    for (let i = 0; i < buf.length && this.active; i += SLICE) {
      let more = true;
      this.guard(() => (more = this.gunzip.write(buf.subarray(i, i + SLICE))));
      if (!more && this.active) await settled(this.gunzip, 'drain');
    }
  }

  async end(): Promise<void> {
    if (this.active) {
      this.gunzip.end();
      await settled(this.gunzip, 'end');
    }
    this.guard(() => {
      this.tar.end();
    });
    this.gunzip.destroy();
  }
}

function problemOf(file: string, error: unknown, tar: TarScanner): CnabError | undefined {
  const hint = 'a thick bundle is a .tgz with bundle.json at its root (CNAB doc 104)';
  if (error instanceof CnabError) return error;
  if (error !== undefined) {
    return new CnabError('BUNDLE_INVALID', `${file} is not a gzipped tar archive: ${messageOf(error)}`, {
      cause: error,
      details: { path: file },
      hint,
    });
  }
  if (tar.bundleJson === undefined) {
    return new CnabError('BUNDLE_INVALID', `${file} has no bundle.json at its root`, {
      details: { path: file },
      hint,
    });
  }
  return undefined;
}

/**
 * Read a thick bundle: streamed digest of the whole archive, and its root bundle.json. A
 * malformed archive is reported in `problem` (not thrown) so that a caller can compare the
 * digest first: an archive that is not the signed one is a hash mismatch, whatever its content.
 */
export async function scanThickBundle(
  file: string,
  onProgress?: (bytes: number) => void,
  limits: ArchiveLimits = {},
): Promise<ThickBundle> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0, // fileDigest reports the unreadable file
  );
  const timeoutMs = limits.timeoutMs ?? DEFAULT_ARCHIVE_TIMEOUT_MS;
  const inflater = new Inflater(
    new TarScanner(limits),
    limits.maxUnpackedBytes ?? Math.max(DEFAULT_MIN_UNPACKED_BYTES, DEFAULT_UNPACK_RATIO * size),
    Date.now() + timeoutMs,
    timeoutMs,
  );
  // Hash every byte; decompress only while the answer is not known.
  const deadline = Date.now() + timeoutMs;
  let digest: Digest;
  try {
    digest = await fileDigest(file, onProgress, (buf) => {
      if (Date.now() >= deadline) {
        throw tarError('ARCHIVE_TIMEOUT', `reading ${file} took more than ${timeoutMs} ms`, {
          limit: timeoutMs,
        });
      }
      return inflater.write(buf);
    });
  } finally {
    await inflater.end();
  }
  const problem = problemOf(file, inflater.error, inflater.tar);
  if (problem !== undefined) return { digest, problem };
  return {
    digest,
    ...(inflater.tar.bundleJson === undefined ? {} : { bundleJson: inflater.tar.bundleJson }),
  };
}

/** Scan a thick bundle and check its bundle.json (canonical, CNAB schema); throws on any problem. */
export async function readThickBundle(
  file: string,
  onProgress?: (bytes: number) => void,
  limits: ArchiveLimits = {},
): Promise<{ digest: Digest; bundle: Record<string, unknown>; bundleJson: Buffer }> {
  const scan = await scanThickBundle(file, onProgress, limits);
  if (scan.bundleJson === undefined)
    throw scan.problem ?? new CnabError('BUNDLE_INVALID', `${file} has no bundle.json`);
  const { bundle } = checkThinBundle(scan.bundleJson, `${file}:bundle.json`);
  return { digest: scan.digest, bundle, bundleJson: scan.bundleJson };
}
