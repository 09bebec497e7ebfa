/**
 * A strict streaming tar reader for thick bundles (CNAB doc 104): ustar, GNU (long names `L`
 * and `K`) and pax (`x`, `g`) headers. It reads every header of the archive once and skips the
 * data of every entry except `bundle.json` and metadata records, so memory is bounded by the
 * limits below whatever the archive holds and time is linear in its decompressed size.
 *
 * It refuses what tar readers could understand differently, so that the `bundle.json` it
 * returns is the one `tar x` (GNU tar, python tarfile, libarchive) gives to the user and to
 * the layout's inspections:
 *  - a header whose checksum or numeric fields (octal or GNU base-256) are not valid, an
 *    unknown magic or entry type, sparse or multi-volume entries;
 *  - an entry path that is absolute or has a `..` segment, or two entries with the same path
 *    once normalized (`./a`, `a`, `a//b`, `a/./b/` are the same path), whatever their types;
 *  - a non-regular `bundle.json` (directory, link, device) and a non-regular entry with data
 *    (python tarfile would read that data as headers);
 *  - a GNU long name and a pax path for the same entry, a repeated metadata record, a path set
 *    by a global pax header, metadata records larger than `maxMetaBytes`.
 * The archive ends at its first all-zero header block, where GNU tar and python tarfile stop.
 */
import { createHash } from 'node:crypto';
import { CnabError, type CnabErrorCode } from './errors.js';
import { quote } from '../util/json.js';

export const BLOCK = 512;

export interface TarLimits {
  /** Most entries (files, directories, links) in the archive. */
  maxEntries: number;
  /** Largest `bundle.json`. */
  maxBundleJsonBytes: number;
  /** Longest entry path, in bytes. */
  maxNameBytes: number;
  /** Largest pax or GNU long-name record. */
  maxMetaBytes: number;
  /** All pax and GNU long-name records of the archive together. */
  maxMetaTotalBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 100_000,
  maxBundleJsonBytes: 16 * 1024 * 1024,
  maxNameBytes: 4096,
  maxMetaBytes: 1024 * 1024,
  maxMetaTotalBytes: 32 * 1024 * 1024,
};

const HINT = 'a thick bundle is a .tgz with one bundle.json at its root (CNAB doc 104); rebuild it with tar';

export function tarError(
  code: CnabErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): CnabError {
  return new CnabError(code, message, { hint: HINT, details });
}

const REGULAR = new Set(['0', '\0', '7']);
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
const META = new Set(['x', 'g', 'L', 'K']);

/** An entry path (bytes as a latin1 string) quoted for a message. */
function show(name: string): string {
  return quote(Buffer.from(name, 'latin1').toString('utf8'));
}

const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** An octal (NUL/space terminated) or GNU base-256 number field; throws on anything else. */
function numberField(h: Buffer, start: number, len: number, field: string, at: number): number {
  const first = h[start] ?? 0;
  if (first & 0x80) {
    if (first !== 0x80) throw tarError('ARCHIVE_BAD_ENTRY', `tar header at ${at}: negative ${field}`);
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + (h[i] ?? 0);
    if (!Number.isSafeInteger(n))
      throw tarError('ARCHIVE_BAD_ENTRY', `tar header at ${at}: ${field} too large`);
    return n;
  }
  // octal digits after optional spaces, then only spaces and NULs (python's nti, GNU tar)
  let i = start;
  const end = start + len;
  while (i < end && h[i] === 0x20) i++;
  let n = 0;
  for (; i < end; i++) {
    const c = h[i] ?? 0;
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
  }
  for (; i < end; i++) {
    const c = h[i];
    if (c !== 0 && c !== 0x20) {
      const text = h.toString('latin1', start, end);
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `tar header at ${at}: ${field} ${quote(text, 20)} is not an octal number`,
        {
          offset: at,
        },
      );
    }
  }
  return n;
}

function checksumOk(h: Buffer, at: number): boolean {
  const stored = numberField(h, 148, 8, 'checksum', at);
  let unsigned = 8 * 0x20; // the checksum field counts as spaces
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const b = h[i] ?? 0;
    unsigned += b;
    if (b > 127) high++;
  }
  return stored === unsigned || stored === unsigned - 256 * high; // GNU tar accepts both sums
}

function cstring(h: Buffer, start: number, len: number): string {
  const s = h.subarray(start, start + len);
  const nul = s.indexOf(0);
  return (nul === -1 ? s : s.subarray(0, nul)).toString('latin1');
}

/**
 * The path tar extracts an entry to, relative to the extraction directory: `./` prefixes,
 * empty and `.` segments and a trailing `/` removed (`''` for the root directory itself).
 * Absolute paths and `..` segments are refused. Names are compared as bytes (latin1 strings).
 */
export function normalizeEntryPath(name: string, maxBytes = DEFAULT_TAR_LIMITS.maxNameBytes): string {
  const shown = (): string => show(name);
  if (name === '') throw tarError('ARCHIVE_BAD_ENTRY', 'an archive entry has an empty name');
  if (name.length > maxBytes) {
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has a name over ${maxBytes} bytes`);
  }
  if (name.includes('\0'))
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has a NUL in its name`);
  if (name.startsWith('/'))
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} is an absolute path`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has a ".." segment`);
  }
  return segments.join('/');
}

/** pax keys whose value is read; the others are checked for form and skipped. */
const PAX_USED = new Set(['path', 'size']);
const MAX_PAX_KEY = 256;

/**
 * Records of a pax extended header (`<len> <key>=<value>\n`), strictly parsed: the values of
 * `path` and `size` only (no copy of the others), each key at most once, no sparse-file keys.
 */
function paxRecords(body: Buffer, at: number): Map<string, string> {
  const out = new Map<string, string>();
  const keys = new Set<string>();
  const bad = (why: string): CnabError =>
    tarError('ARCHIVE_BAD_ENTRY', `pax header at ${at}: ${why}`, { offset: at });
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0 && body.subarray(i).equals(Buffer.alloc(body.length - i))) break; // NUL padding
    let len = 0;
    let j = i;
    for (; j < body.length && j - i <= 12 && body[j] !== 0x20; j++) {
      const c = body[j] ?? 0;
      if (c < 0x30 || c > 0x39 || (j === i && c === 0x30)) throw bad('a record length is not a number');
      len = len * 10 + (c - 0x30);
    }
    if (body[j] !== 0x20 || j === i) throw bad('a record has no length');
    const end = i + len;
    if (end > body.length || end <= j + 1 || body[end - 1] !== 0x0a)
      throw bad('a record overruns the header');
    const eq = body.indexOf(0x3d, j + 1);
    if (eq <= j + 1 || eq >= end || eq - j - 1 > MAX_PAX_KEY)
      throw bad('a record has no key, or a key too long');
    const key = body.toString('latin1', j + 1, eq);
    if (keys.has(key)) throw bad(`record ${quote(key, 40)} is repeated`);
    if (key.startsWith('GNU.sparse.')) throw bad('sparse files are not supported');
    keys.add(key);
    if (PAX_USED.has(key)) out.set(key, body.toString('latin1', eq + 1, end - 1));
    i = end;
  }
  return out;
}

interface Pending {
  longName?: string;
  pax?: Map<string, string>;
  seen: Set<string>;
}

interface Entry {
  type: string;
  name: string;
  size: number;
  /** Bytes of data still to skip or read, padded to the block. */
  remaining: number;
  at: number;
  /** Collected data (metadata records and bundle.json only). */
  body: Buffer[] | undefined;
  collected: number;
}

/** Push decompressed bytes in order; `ended` once the end-of-archive block is read. */
export class TarScanner {
  readonly limits: TarLimits;
  private readonly head = Buffer.alloc(BLOCK);
  private headLen = 0;
  private entry: Entry | undefined;
  private pending: Pending = { seen: new Set() };
  private readonly names = new Set<string>();
  private offset = 0;
  private metaBytes = 0;
  entries = 0;
  bundleJson: Buffer | undefined;
  ended = false;

  constructor(limits: Partial<TarLimits> = {}) {
    this.limits = { ...DEFAULT_TAR_LIMITS, ...limits };
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.ended) {
      const e = this.entry;
      if (e === undefined) {
        const take = Math.min(BLOCK - this.headLen, chunk.length - off);
        if (this.headLen === 0 && take === BLOCK) {
          this.header(chunk.subarray(off, off + BLOCK));
        } else {
          chunk.copy(this.head, this.headLen, off, off + take);
          this.headLen += take;
          if (this.headLen === BLOCK) {
            this.headLen = 0;
            this.header(this.head);
          }
        }
        off += take;
        this.offset += take;
        continue;
      }
      const take = Math.min(e.remaining, chunk.length - off);
      if (e.body !== undefined && e.collected < e.size) {
        const keep = Math.min(take, e.size - e.collected);
        e.body.push(chunk.subarray(off, off + keep));
        e.collected += keep;
      }
      off += take;
      this.offset += take;
      e.remaining -= take;
      if (e.remaining === 0) this.finish(e);
    }
  }

  /** At the end of the decompressed stream: refuse a cut entry or dangling metadata. */
  end(): void {
    if (this.ended) return;
    if (this.entry !== undefined || this.headLen !== 0 || this.pending.seen.size > 0) {
      throw tarError('ARCHIVE_BAD_ENTRY', `the archive is truncated (at byte ${this.offset} of the tar)`, {
        offset: this.offset,
      });
    }
  }

  private header(h: Buffer): void {
    const at = this.offset;
    if (h.equals(ZERO_BLOCK)) {
      if (this.pending.seen.size > 0) {
        throw tarError('ARCHIVE_BAD_ENTRY', `tar metadata record with no entry before the end (at ${at})`);
      }
      this.ended = true;
      return;
    }
    const magic = h.toString('latin1', 257, 265);
    const posix = magic === 'ustar\x0000';
    if (!posix && magic !== 'ustar  \0' && magic !== '\0'.repeat(8)) {
      throw tarError('ARCHIVE_BAD_ENTRY', `tar header at ${at}: unknown format ${quote(magic, 10)}`, {
        offset: at,
      });
    }
    if (!checksumOk(h, at)) {
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `tar header at ${at}: bad checksum (not a tar archive, or corrupt)`,
        {
          offset: at,
        },
      );
    }
    for (const [s, l, f] of [
      [100, 8, 'mode'],
      [108, 8, 'uid'],
      [116, 8, 'gid'],
      [136, 12, 'mtime'],
    ] as const)
      numberField(h, s, l, f, at);
    const type = String.fromCharCode(h[156] ?? 0);
    const headerSize = numberField(h, 124, 12, 'size', at);
    if (META.has(type)) {
      this.startMeta(type, headerSize, at);
      return;
    }
    if (++this.entries > this.limits.maxEntries) {
      throw tarError('ARCHIVE_TOO_LARGE', `the archive has more than ${this.limits.maxEntries} entries`, {
        limit: this.limits.maxEntries,
      });
    }
    const base = cstring(h, 0, 100);
    const prefix = posix ? cstring(h, 345, 155) : '';
    const p = this.pending;
    this.pending = { seen: new Set() };
    const paxPath = p.pax?.get('path');
    if (paxPath !== undefined && p.longName !== undefined) {
      throw tarError('ARCHIVE_BAD_ENTRY', `tar entry at ${at} has both a GNU long name and a pax path`);
    }
    const raw = paxPath ?? p.longName ?? (prefix === '' ? base : `${prefix}/${base}`);
    const paxSize = p.pax?.get('size');
    if (paxSize !== undefined && !/^[0-9]{1,15}$/.test(paxSize)) {
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `pax size ${quote(paxSize, 20)} of the entry at ${at} is not a number`,
      );
    }
    const size = paxSize === undefined ? headerSize : Number(paxSize);
    this.begin(this.checkEntry(type, raw, size, at), type, size, at);
  }

  /** Path, type and size checks of a file entry; returns its normalized path. */
  private checkEntry(type: string, raw: string, size: number, at: number): string {
    const name = normalizeEntryPath(raw, this.limits.maxNameBytes);
    const shown = (): string => show(raw);
    if (!REGULAR.has(type) && !NO_DATA.has(type)) {
      throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has unsupported type ${quote(type, 4)}`, {
        offset: at,
      });
    }
    // python tarfile reads a regular entry whose name ends in / as a directory, without data
    const directory = type === '5' || raw.endsWith('/') || name === '';
    if ((NO_DATA.has(type) || directory) && size !== 0) {
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `archive entry ${shown()} is not a regular file but has ${size} bytes of data`,
      );
    }
    if (name === '' && !directory)
      throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} names the root`);
    const key =
      name.length <= 64 ? name : `\0${createHash('sha256').update(name, 'latin1').digest('base64')}`;
    if (this.names.has(key)) {
      throw tarError(
        'ARCHIVE_DUPLICATE_ENTRY',
        `the archive has ${shown()} more than once (paths compared normalized)`,
        {
          entry: Buffer.from(name, 'latin1').toString('utf8').slice(0, 200),
        },
      );
    }
    this.names.add(key);
    if (name === 'bundle.json') {
      if (!REGULAR.has(type) || directory) {
        throw tarError(
          'ARCHIVE_BAD_ENTRY',
          `bundle.json in the archive is not a regular file (type ${quote(type, 4)})`,
        );
      }
      if (size > this.limits.maxBundleJsonBytes) {
        throw tarError(
          'ARCHIVE_TOO_LARGE',
          `bundle.json in the archive is ${size} bytes, over the limit of ${this.limits.maxBundleJsonBytes}`,
          { limit: this.limits.maxBundleJsonBytes, size },
        );
      }
    }
    return name;
  }

  private startMeta(type: string, size: number, at: number): void {
    if (this.pending.seen.has(type)) {
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `tar header at ${at}: a second ${quote(type, 4)} record for one entry`,
      );
    }
    if (size > this.limits.maxMetaBytes) {
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `tar header at ${at}: a ${quote(type, 4)} record of ${size} bytes (limit ${this.limits.maxMetaBytes})`,
        { offset: at, size },
      );
    }
    this.metaBytes += size;
    if (this.metaBytes > this.limits.maxMetaTotalBytes) {
      throw tarError(
        'ARCHIVE_TOO_LARGE',
        `the archive's pax and long-name records exceed ${this.limits.maxMetaTotalBytes} bytes in all`,
        { limit: this.limits.maxMetaTotalBytes },
      );
    }
    if (type !== 'g') this.pending.seen.add(type);
    this.begin('', type, size, at);
  }

  private begin(name: string, type: string, size: number, at: number): void {
    const collect = META.has(type) || name === 'bundle.json';
    const e: Entry = {
      type,
      name,
      size,
      remaining: Math.ceil(size / BLOCK) * BLOCK,
      at,
      body: collect ? [] : undefined,
      collected: 0,
    };
    this.entry = e;
    if (e.remaining === 0) this.finish(e);
  }

  private finish(e: Entry): void {
    this.entry = undefined;
    if (e.body === undefined) return;
    const body = Buffer.concat(e.body);
    if (e.type === 'L') this.pending.longName = cstring(body, 0, body.length);
    else if (e.type === 'x') this.pending.pax = paxRecords(body, e.at);
    else if (e.type === 'g') {
      const g = paxRecords(body, e.at);
      if (g.has('path') || g.has('size')) {
        throw tarError(
          'ARCHIVE_BAD_ENTRY',
          `global pax header at ${e.at} sets a path or size for every entry`,
        );
      }
    } else if (e.type === 'K') {
      /* long link name: not needed */
    } else this.bundleJson = body;
  }
}
