/**
 * Thick bundles (CNAB doc 104): a gzipped tar with `bundle.json` at its root. One streamed
 * pass computes the SHA-256 and length of the archive bytes (the thick bundle's TUF target
 * hash, doc 301) and decompresses only until `bundle.json` has been read: constant memory,
 * and for large archives the cost is the hash alone.
 */
import { createGunzip, type Gunzip } from 'node:zlib';
import { CnabError } from './errors.js';
import { checkThinBundle, fileDigest, type Digest } from './bundle.js';
import { messageOf } from '../errors.js';

const BLOCK = 512;
const MAX_BUNDLE_JSON = 16 * 1024 * 1024;

export interface ThickBundle {
  digest: Digest;
  /** Raw bytes of the archive's root `bundle.json`, when the archive is readable and has one. */
  bundleJson?: Buffer;
  /** Why `bundleJson` is missing (not a gzipped tar, no bundle.json, ...). */
  problem?: CnabError;
}

function octal(buf: Buffer, start: number, len: number): number {
  const text = buf
    .subarray(start, start + len)
    .toString('latin1')
    .replace(/\0.*$/, '')
    .trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function cstring(buf: Buffer, start: number, len: number): string {
  const s = buf.subarray(start, start + len);
  const nul = s.indexOf(0);
  return (nul === -1 ? s : s.subarray(0, nul)).toString('utf8');
}

/** Path from a PAX extended header body (`<len> path=<value>\n` records). */
function paxPath(body: Buffer): string | undefined {
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(body.subarray(i, sp).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = body.subarray(sp + 1, i + len - 1).toString('utf8');
    if (rec.startsWith('path=')) return rec.slice(5);
    i += len;
  }
  return undefined;
}

/** A minimal streaming tar reader: finds the root `bundle.json` entry. */
class TarScanner {
  private buf: Buffer = Buffer.alloc(0);
  private entry:
    { name: string; size: number; type: string; remaining: number; chunks: Buffer[] } | undefined;
  private nextName: string | undefined;
  found: Buffer | undefined;
  ended = false;

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (!this.ended && this.found === undefined && this.step()) {
      /* keep parsing */
    }
  }

  /** Parse one header or one piece of entry data; false when more input is needed. */
  private step(): boolean {
    if (this.entry === undefined) {
      if (this.buf.length < BLOCK) return false;
      const h = this.buf.subarray(0, BLOCK);
      this.buf = this.buf.subarray(BLOCK);
      if (h.every((b) => b === 0)) {
        this.ended = true;
        return false;
      }
      if (h.toString('latin1', 257, 262) !== 'ustar' && !/^[0-7 \0]+$/.test(h.toString('latin1', 124, 136))) {
        throw new CnabError('BUNDLE_INVALID', 'the archive is not a tar file (bad header)', {
          hint: 'a thick bundle is a gzipped tar (CNAB doc 104)',
        });
      }
      const prefix = cstring(h, 345, 155);
      const base = cstring(h, 0, 100);
      const name = this.nextName ?? (prefix === '' ? base : `${prefix}/${base}`);
      this.nextName = undefined;
      const size = octal(h, 124, 12);
      this.entry = {
        name,
        size,
        type: String.fromCharCode(h[156] ?? 48),
        remaining: Math.ceil(size / BLOCK) * BLOCK,
        chunks: [],
      };
      return true;
    }
    const e = this.entry;
    if (e.remaining > 0 && this.buf.length === 0) return false;
    const take = Math.min(e.remaining, this.buf.length);
    const wanted = e.type === 'x' || e.type === 'L' || this.isBundleJson(e);
    if (wanted) {
      if (e.size > MAX_BUNDLE_JSON) {
        throw new CnabError(
          'BUNDLE_INVALID',
          `${e.name} in the archive is ${e.size} bytes, over the 16 MiB limit`,
        );
      }
      e.chunks.push(this.buf.subarray(0, take));
    }
    this.buf = this.buf.subarray(take);
    e.remaining -= take;
    if (e.remaining > 0) return false;
    this.entry = undefined;
    const body = wanted ? Buffer.concat(e.chunks).subarray(0, e.size) : undefined;
    if (body !== undefined) {
      if (e.type === 'x') this.nextName = paxPath(body) ?? this.nextName;
      else if (e.type === 'L') this.nextName = body.toString('utf8').replace(/\0+$/, '');
      else this.found = Buffer.from(body);
    }
    return true;
  }

  private isBundleJson(e: { name: string; type: string }): boolean {
    return (e.type === '0' || e.type === '\0') && (e.name === 'bundle.json' || e.name === './bundle.json');
  }
}

/**
 * Wait for `event` or for an error, whichever comes first: a corrupt stream may error instead
 * of draining or finishing, and waiting for the event alone would hang.
 */
function settled(stream: Gunzip, event: 'drain' | 'finish'): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off(event, done);
      stream.off('error', done);
      resolve();
    };
    stream.once(event, done);
    stream.once('error', done);
  });
}

/**
 * Read a thick bundle: streamed digest of the whole archive, and its root bundle.json. A
 * malformed archive is reported in `problem` (not thrown) so that a verifier can first compare
 * the digest: an archive that is not the signed one is a hash mismatch, whatever its content.
 */
export async function scanThickBundle(
  file: string,
  onProgress?: (bytes: number) => void,
): Promise<ThickBundle> {
  const tar = new TarScanner();
  const gunzip: Gunzip = createGunzip();
  let inflateError: unknown;
  gunzip.on('data', (d: Buffer) => {
    try {
      tar.push(d);
    } catch (e) {
      inflateError ??= e;
    }
  });
  gunzip.on('error', (e) => (inflateError ??= e));
  const digest = await fileDigest(file, onProgress, async (buf) => {
    // Decompress only while bundle.json is still to be found.
    if (tar.found === undefined && !tar.ended && inflateError === undefined) {
      if (!gunzip.write(buf)) await settled(gunzip, 'drain');
    }
  });
  if (tar.found === undefined && inflateError === undefined) {
    gunzip.end();
    await settled(gunzip, 'finish');
  }
  gunzip.destroy();
  if (tar.found !== undefined) return { digest, bundleJson: tar.found };
  const hint = 'a thick bundle is a .tgz with bundle.json at its root (CNAB doc 104)';
  const problem =
    inflateError instanceof CnabError
      ? inflateError
      : inflateError !== undefined
        ? new CnabError(
            'BUNDLE_INVALID',
            `${file} is not a gzipped tar archive: ${messageOf(inflateError)}`,
            {
              cause: inflateError,
              details: { path: file },
              hint,
            },
          )
        : new CnabError('BUNDLE_INVALID', `${file} has no bundle.json at its root`, {
            details: { path: file },
            hint,
          });
  return { digest, problem };
}

/** Scan a thick bundle and check its bundle.json (canonical, CNAB schema); throws on any problem. */
export async function readThickBundle(
  file: string,
  onProgress?: (bytes: number) => void,
): Promise<{ digest: Digest; bundle: Record<string, unknown> }> {
  const scan = await scanThickBundle(file, onProgress);
  if (scan.bundleJson === undefined)
    throw scan.problem ?? new CnabError('BUNDLE_INVALID', `${file} has no bundle.json`);
  return { digest: scan.digest, bundle: checkThinBundle(scan.bundleJson, `${file}:bundle.json`).bundle };
}
