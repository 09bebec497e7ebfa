/**
 * The strict reader of trust archives (ADR 0030): it accepts exactly what ./tar-write.ts writes
 * for `cnabsec trust export` and refuses anything else before it is used. Bounds and checks:
 *  - gzip'd ustar; every header checksummed, regular files only (no links, directories or
 *    devices), no prefix, pax or GNU names; nothing but zeros after the end-of-archive block;
 *  - the first entry is the manifest (`cnabsec-trust.json`, at most 1 MiB, bounded JSON), and
 *    every later entry is one it lists, once, with the length it lists (checked from the header,
 *    before the data is read) and the sha256 it lists (checked at the entry's end); every
 *    listed entry must be present;
 *  - names are the writer's own: `metadata/<TUF file name>`, `targets/<n>`, `bundle/bundle.json`
 *    or `bundle/bundle.tgz` (no `/` inside, no `..`, no absolute path);
 *  - sizes: metadata files within the client's bounds (root 128 KiB, others 5 MB), target files
 *    32 MiB each, all of them together 256 MiB, a thin bundle its usual bound, a thick bundle up
 *    to 8 GiB (streamed to a temporary file, never held in memory), at most 4096 entries.
 * The manifest's hashes only say the archive is intact; trust comes from the TUF update the
 * import runs on its content (../tuf/client/import.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { BLOCK, checksumOk, cstring, numberField } from './tar-fields.js';
import { CnabError } from './errors.js';
import { MANIFEST_NAME, type ManifestFile, type TrustManifest } from './trust-archive.js';
import {
  bad,
  BUNDLE_NAME,
  checkManifest,
  META_NAME,
  TRUST_ARCHIVE_LIMITS,
  type TrustArchiveLimits,
} from './trust-archive-manifest.js';
import type { BundleKind } from '../tuf/client/offline.js';
import { isCnabsecError, messageOf } from '../errors.js';
import { parseJsonBounded, quote } from '../util/json.js';
export { TRUST_ARCHIVE_LIMITS, type TrustArchiveLimits } from './trust-archive-manifest.js';
import { describeErrno, errnoOf } from '../util/errno.js';

export interface TrustArchive {
  manifest: TrustManifest;
  metadata: { file: string; bytes: Buffer }[];
  targets: { path: string; bytes: Buffer }[];
  bundle?: { kind: BundleKind; file: string; length: number; sha256: string };
  /** Temporary directory holding the bundle: the caller removes it (`dispose`). */
  dispose: () => Promise<void>;
}

interface Current {
  name: string;
  size: number;
  left: number;
  hash: Hash;
  chunks?: Buffer[];
  out?: WriteStream;
}

/** The block-level state machine over the decompressed stream. */
class Reader {
  manifest: TrustManifest | undefined;
  readonly listed = new Map<string, ManifestFile>();
  readonly seen = new Set<string>();
  readonly data = new Map<string, Buffer>();
  bundle: TrustArchive['bundle'];
  private cur: Current | undefined;
  private pad = 0;
  private offset = 0;
  ended = false;
  private trailing = 0;
  /** The thick bundle's file, until it is closed. */
  closing: Promise<unknown> | undefined;
  abort: () => void = () => undefined;

  constructor(
    private readonly file: string,
    private readonly tmp: string,
    private readonly limits: TrustArchiveLimits,
  ) {}

  /** Handle one header block. */
  private header(h: Buffer): void {
    const at = this.offset;
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    if (!checksumOk(h, at)) throw bad('ARCHIVE_BAD_ENTRY', this.file, `bad header checksum at ${at}`);
    const type = String.fromCharCode(h[156] ?? 0);
    const name = cstring(h, 0, 100);
    if (type !== '0')
      throw bad(
        'ARCHIVE_BAD_ENTRY',
        this.file,
        `entry ${quote(name, 120)} is not a regular file (type ${quote(type)})`,
      );
    if (
      h.toString('latin1', 257, 265) !== 'ustar\u000000' ||
      cstring(h, 345, 155) !== '' ||
      cstring(h, 157, 100) !== ''
    )
      throw bad('ARCHIVE_BAD_ENTRY', this.file, `entry ${quote(name, 120)} is not a plain ustar entry`);
    if (name.startsWith('/') || name.split('/').includes('..'))
      throw bad(
        'ARCHIVE_BAD_ENTRY',
        this.file,
        `entry ${quote(name, 120)} is an absolute path or has a ".." segment`,
      );
    const size = numberField(h, 124, 12, 'size', at);
    if (this.seen.has(name))
      throw bad('ARCHIVE_DUPLICATE_ENTRY', this.file, `entry ${quote(name, 120)} appears twice`);
    if (this.seen.size >= this.limits.entries + 1)
      throw bad('ARCHIVE_TOO_LARGE', this.file, `more than ${this.limits.entries} entries`);
    this.seen.add(name);
    if (this.manifest === undefined) {
      if (name !== MANIFEST_NAME)
        throw bad(
          'TRUST_ARCHIVE_INVALID',
          this.file,
          `the first entry is ${quote(name, 120)}, not ${MANIFEST_NAME}`,
        );
      if (size > this.limits.manifestBytes)
        throw bad(
          'ARCHIVE_TOO_LARGE',
          this.file,
          `${MANIFEST_NAME} is over ${this.limits.manifestBytes} bytes`,
        );
    } else {
      const listed = this.listed.get(name);
      if (listed === undefined)
        throw bad('TRUST_ARCHIVE_INVALID', this.file, `entry ${quote(name, 120)} is not in the manifest`);
      if (size !== listed.length)
        throw bad(
          'ARCHIVE_TOO_LARGE',
          this.file,
          `entry ${quote(name)} has ${size} bytes, the manifest lists ${listed.length}`,
          { entry: name },
        );
    }
    const cur: Current = { name, size, left: size, hash: createHash('sha256') };
    if (BUNDLE_NAME.test(name) && name.endsWith('.tgz')) {
      const out = createWriteStream(path.join(this.tmp, 'bundle'), { flags: 'wx', mode: 0o600 });
      // a write error (disk full, EFBIG) is kept and thrown by push(), never left unhandled
      out.on('error', (e) => {
        this.writeError ??= e;
      });
      this.abort = () => out.destroy();
      cur.out = out;
    } else cur.chunks = [];
    this.cur = cur;
    this.pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.finish();
  }

  private finish(): void {
    const cur = this.cur;
    if (cur === undefined) return;
    this.cur = undefined;
    const digest = cur.hash.digest('hex');
    if (this.manifest === undefined) {
      const bytes = Buffer.concat(cur.chunks ?? []);
      let value: unknown;
      try {
        value = parseJsonBounded(bytes, { source: MANIFEST_NAME, maxBytes: this.limits.manifestBytes });
      } catch (e) {
        throw bad(
          'TRUST_ARCHIVE_INVALID',
          this.file,
          `manifest ${MANIFEST_NAME} is not JSON: ${messageOf(e)}`,
        );
      }
      this.manifest = checkManifest(value, this.file, this.limits);
      for (const f of this.manifest.files) this.listed.set(f.name, f);
      return;
    }
    const listed = this.listed.get(cur.name);
    if (listed?.sha256 !== digest)
      throw bad(
        'TRUST_ARCHIVE_INVALID',
        this.file,
        `entry ${quote(cur.name)} does not match its sha256 in the manifest`,
        { entry: cur.name },
      );
    const b = BUNDLE_NAME.exec(cur.name);
    if (b !== null) {
      const kind: BundleKind = b[1] === 'json' ? 'thin' : 'thick';
      const file = path.join(this.tmp, 'bundle');
      this.bundle = { kind, file, length: cur.size, sha256: digest };
      const out = cur.out;
      if (out !== undefined)
        this.closing = new Promise<void>((r) => {
          if (out.destroyed) r();
          else out.once('close', r).end();
        }).then(() => {
          this.checkWrite();
        });
      else this.data.set(cur.name, Buffer.concat(cur.chunks ?? []));
      return;
    }
    this.data.set(cur.name, Buffer.concat(cur.chunks ?? []));
  }

  /** The thick bundle's temporary file could not be written: ARCHIVE_WRITE_FAILED. */
  checkWrite(): void {
    if (this.writeError !== undefined)
      throw tempWriteError(this.file, path.join(this.tmp, 'bundle'), this.writeError);
  }

  /** Feed decompressed bytes; returns a promise when a file write must drain first. */
  async push(chunk: Buffer): Promise<void> {
    let i = 0;
    while (i < chunk.length) {
      if (this.ended) {
        const rest = chunk.subarray(i);
        this.trailing += rest.length;
        if (rest.some((b) => b !== 0) || this.trailing > this.limits.trailingBytes)
          throw bad('TRUST_ARCHIVE_INVALID', this.file, 'data after the end of the archive');
        return;
      }
      const cur = this.cur;
      if (cur !== undefined) {
        const n = Math.min(cur.left, chunk.length - i);
        const part = chunk.subarray(i, i + n);
        cur.hash.update(part);
        if (cur.out !== undefined) {
          this.checkWrite();
          if (!cur.out.write(part)) await drained(cur.out);
          this.checkWrite();
        } else cur.chunks?.push(Buffer.from(part));
        cur.left -= n;
        i += n;
        this.offset += n;
        if (cur.left === 0) this.finish();
        continue;
      }
      if (this.pad > 0) {
        const n = Math.min(this.pad, chunk.length - i);
        if (chunk.subarray(i, i + n).some((b) => b !== 0))
          throw bad('ARCHIVE_BAD_ENTRY', this.file, `padding at ${this.offset} is not zero`);
        this.pad -= n;
        i += n;
        this.offset += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headLen, chunk.length - i);
      chunk.copy(this.head, this.headLen, i, i + n);
      this.headLen += n;
      i += n;
      if (this.headLen === BLOCK) {
        this.headLen = 0;
        this.header(this.head);
        this.offset += BLOCK;
      }
    }
  }

  private writeError: Error | undefined;
  private readonly head = Buffer.alloc(BLOCK);
  private headLen = 0;
}

/** The bundle of archive `file` could not be written to `where` (the temporary directory). */
function tempWriteError(file: string, where: string, e: unknown): CnabError {
  return new CnabError(
    'ARCHIVE_WRITE_FAILED',
    `trust archive ${file}: cannot write its bundle to ${where}: ${describeErrno(e)}`,
    {
      cause: e,
      details: { path: file, errno: errnoOf(e) ?? null },
      hint: 'the bundle is unpacked to the temporary directory first: make room there, or point TMPDIR at a larger file system',
    },
  );
}

/** Until `out` drains, or closes (after an error, kept by its error listener). */
function drained(out: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (out.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

function split(reader: Reader, manifest: TrustManifest): Pick<TrustArchive, 'metadata' | 'targets'> {
  const metadata: TrustArchive['metadata'] = [];
  const targets: TrustArchive['targets'] = [];
  for (const f of manifest.files) {
    const bytes = reader.data.get(f.name);
    if (bytes === undefined) continue; // the bundle
    const meta = META_NAME.exec(f.name);
    if (meta !== null) metadata.push({ file: meta[1] ?? '', bytes });
    else if (f.target !== undefined) targets.push({ path: f.target, bytes });
  }
  return { metadata, targets };
}

/** Read and check a trust archive (see the file comment). */
export async function readTrustArchive(
  file: string,
  limits: TrustArchiveLimits = TRUST_ARCHIVE_LIMITS,
): Promise<TrustArchive> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'cnabsec-import-')).catch((e: unknown) => {
    throw tempWriteError(file, tmpdir(), e);
  });
  const dispose = (): Promise<void> => rm(tmp, { recursive: true, force: true });
  const reader = new Reader(file, tmp, limits);
  try {
    try {
      const st = await stat(file);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EFTYPE' });
      const source = createReadStream(file);
      const gunzip = source.pipe(createGunzip());
      source.once('error', (e) => gunzip.destroy(e));
      for await (const chunk of gunzip as AsyncIterable<Buffer>) await reader.push(chunk);
    } catch (e) {
      if (isCnabsecError(e)) throw e;
      const errno = (e as NodeJS.ErrnoException).code;
      const why =
        errno?.startsWith('Z_') === true
          ? 'not a gzip file, or a damaged one'
          : errno !== undefined
            ? describeErrno(e)
            : messageOf(e);
      throw bad('TRUST_ARCHIVE_INVALID', file, `cannot read it: ${why}`);
    }
    await reader.closing;
    const manifest = reader.manifest;
    if (!reader.ended || manifest === undefined)
      throw bad('TRUST_ARCHIVE_INVALID', file, 'the archive is truncated');
    const missing = manifest.files.filter((f) => !reader.seen.has(f.name)).map((f) => f.name);
    if (missing.length > 0)
      throw bad(
        'TRUST_ARCHIVE_INVALID',
        file,
        `entries listed in the manifest are missing: ${missing.slice(0, 5).join(', ')}`,
      );
    const bundle = reader.bundle;
    if (bundle?.kind === 'thin') {
      await writeFile(bundle.file, reader.data.get('bundle/bundle.json') ?? Buffer.alloc(0), {
        flag: 'wx',
        mode: 0o600,
      });
    }
    return { manifest, ...split(reader, manifest), ...(bundle === undefined ? {} : { bundle }), dispose };
  } catch (e) {
    reader.abort();
    await reader.closing?.catch(() => undefined);
    await dispose();
    if (!isCnabsecError(e) && errnoOf(e) !== undefined) throw tempWriteError(file, tmp, e);
    throw e;
  }
}
