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
 *  - an entry whose path goes through an earlier symbolic or hard link entry (`a` → `.`, then
 *    `a/bundle.json`): GNU tar and python tarfile (even with `filter='data'`) follow the link
 *    and write `bundle.json`, which this reader would not take for the root one;
 *  - a GNU long name and a pax path for the same entry, a repeated metadata record, a path set
 *    by a global pax header, metadata records larger than `maxMetaBytes`.
 * The archive ends at its first all-zero header block, where GNU tar and python tarfile stop.
 */
import { createHash } from 'node:crypto';
import { quote } from '../util/json.js';
import {
  BLOCK,
  MAX_NAME_BYTES,
  ZERO_BLOCK,
  checksumOk,
  cstring,
  normalizeEntryPath,
  numberField,
  paxRecords,
  show,
  tarError,
} from './tar-fields.js';

export { BLOCK, normalizeEntryPath, tarError } from './tar-fields.js';

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
  maxNameBytes: MAX_NAME_BYTES,
  maxMetaBytes: 1024 * 1024,
  maxMetaTotalBytes: 32 * 1024 * 1024,
};

const REGULAR = new Set(['0', '\0', '7']);
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
const META = new Set(['x', 'g', 'L', 'K']);

/**
 * Keys (length and two 32-bit polynomial hashes) of the proper prefixes of `name` ending
 * before each `/`, and of `name` itself last: linear in its length, so that checking every
 * entry against the link entries stays linear in the archive. A hash collision can only
 * refuse an archive, never accept one.
 */
function prefixKeys(name: string): string[] {
  const out: string[] = [];
  let a = 0;
  let b = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f) out.push(`${i}:${a}:${b}`);
    a = (Math.imul(a, 31) + c) | 0;
    b = (Math.imul(b, 1_000_003) + c + 7) | 0;
  }
  out.push(`${name.length}:${a}:${b}`);
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
  /** prefixKeys of the link entries ('1', '2') seen so far, with their shown names. */
  private readonly links = new Map<string, string>();
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
        const at = this.offset + take - BLOCK; // where this header starts, once complete
        if (this.headLen === 0 && take === BLOCK) {
          this.header(chunk.subarray(off, off + BLOCK), at);
        } else {
          chunk.copy(this.head, this.headLen, off, off + take);
          this.headLen += take;
          if (this.headLen === BLOCK) {
            this.headLen = 0;
            this.header(this.head, at);
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

  private header(h: Buffer, at: number): void {
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
    this.checkLinks(type, name, shown);
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

  /** Refuse an entry inside an earlier link entry; remember a link entry. */
  private checkLinks(type: string, name: string, shown: () => string): void {
    const isLink = type === '1' || type === '2';
    if (this.links.size === 0 && !isLink) return;
    const keys = prefixKeys(name);
    const own = keys.pop() ?? '';
    for (const k of keys) {
      const link = this.links.get(k);
      if (link === undefined) continue;
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `archive entry ${shown()} is inside the link entry ${link}: tar would write it where the link points`,
      );
    }
    if (isLink) this.links.set(own, shown());
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
