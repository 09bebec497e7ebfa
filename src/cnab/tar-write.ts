/**
 * A minimal ustar writer for the archives cnabsec makes itself (the trust archive, ADR 0030):
 * regular files only, mode 0644, uid/gid 0, one mtime for all entries, names of at most 100
 * ASCII bytes chosen by the caller (no prefix field, no pax or GNU extensions), sizes below
 * 8 GiB (11 octal digits). It is the exact subset the strict reader of ./trust-archive-read.ts
 * accepts, and what GNU tar, bsdtar and python's tarfile read.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CnabError } from './errors.js';
import { BLOCK } from './tar-fields.js';
import { tempPathFor } from '../util/fs.js';
import { quote } from '../util/json.js';
import { describeErrno, errnoOf } from '../util/errno.js';

/** Largest entry: 11 octal digits. */
export const MAX_TAR_ENTRY_BYTES = 8 ** 11 - 1;
const NAME = /^[A-Za-z0-9._%-]+(\/[A-Za-z0-9._%-]+)*$/;

export interface TarSource {
  name: string;
  /** Bytes in memory, or a file of `size` bytes streamed (it must not change meanwhile). */
  data: Uint8Array | { file: string; size: number };
}

function octal(h: Buffer, at: number, width: number, n: number): void {
  h.write(n.toString(8).padStart(width - 1, '0') + '\0', at, width, 'latin1');
}

/** The ustar header block of a regular file. */
export function ustarHeader(name: string, size: number, mtime: Date): Buffer {
  if (name.length > 100 || !NAME.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new CnabError('ARCHIVE_BAD_ENTRY', `cannot write tar entry ${quote(name)}`, {
      hint: 'this is a bug in cnabsec: entry names are chosen by the writer',
    });
  }
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_TAR_ENTRY_BYTES) {
    throw new CnabError('ARCHIVE_TOO_LARGE', `tar entry ${name}: ${size} bytes is over the ustar limit`, {
      details: { name, size },
      hint: 'a file in a trust archive must be smaller than 8 GiB',
    });
  }
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'latin1');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.max(0, Math.floor(mtime.getTime() / 1000)));
  h.write('        ', 148, 8, 'latin1');
  h.write('0', 156, 1, 'latin1');
  h.write('ustar\u000000', 257, 8, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

async function* fileBytes(file: string, size: number): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > size) break;
    yield chunk;
  }
  if (n !== size) {
    throw new CnabError('BUNDLE_NOT_FOUND', `${file} changed size while it was archived`, {
      details: { path: file },
      hint: 'leave the file alone while the archive is written, then try again',
    });
  }
}

/** The tar stream of `entries`; `onData(name, chunk)` sees every data chunk (for hashing). */
export async function* tarStream(
  entries: readonly TarSource[],
  mtime: Date,
  onData?: (name: string, chunk: Buffer) => void,
): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const size = e.data instanceof Uint8Array ? e.data.length : e.data.size;
    yield ustarHeader(e.name, size, mtime);
    if (e.data instanceof Uint8Array) {
      const b = Buffer.from(e.data);
      onData?.(e.name, b);
      yield b;
    } else {
      for await (const chunk of fileBytes(e.data.file, size)) {
        onData?.(e.name, chunk);
        yield chunk;
      }
    }
    yield padding(size);
  }
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

/**
 * Write `entries` as a gzip'd tar to `file`, atomically (a temporary sibling renamed into
 * place); returns the sha256 of each entry's data as written.
 */
export async function writeTarGz(
  file: string,
  entries: readonly TarSource[],
  mtime: Date,
): Promise<Map<string, string>> {
  const hashes = new Map<string, ReturnType<typeof createHash>>();
  const tmp = tempPathFor(file);
  try {
    const handle = await fsp.open(tmp, 'wx', 0o644);
    try {
      const onData = (name: string, chunk: Buffer): void => {
        let h = hashes.get(name);
        if (h === undefined) hashes.set(name, (h = createHash('sha256')));
        h.update(chunk);
      };
      await pipeline(
        Readable.from(tarStream(entries, mtime, onData)),
        createGzip(),
        handle.createWriteStream({ flush: true }), // fsync before its close: durable before the rename
      );
    } finally {
      await handle.close().catch(() => undefined);
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    if (errnoOf(e) === undefined || e instanceof CnabError) throw e;
    const why = errnoOf(e) === 'ENOENT' ? 'ENOENT (its directory does not exist)' : describeErrno(e);
    throw new CnabError('ARCHIVE_WRITE_FAILED', `cannot write ${file}: ${why}`, {
      cause: e,
      details: { path: file },
      hint: 'give an output file in an existing directory you can write to (not a directory)',
    });
  }
  const out = new Map<string, string>();
  for (const e of entries) out.set(e.name, (hashes.get(e.name) ?? createHash('sha256')).digest('hex'));
  return out;
}
