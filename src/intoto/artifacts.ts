/**
 * Recording artifacts (in-toto spec §4.2 materials/products; python `runlib
 * .record_artifacts_as_dict`): paths are normalized (`posixpath.normpath`), directories are
 * walked top-down following symlinked directories, symlinked files are hashed through the
 * link (and recorded under the link's name), broken links and non-regular files are skipped,
 * gitignore-style exclude patterns (default `*.link*`, `.git`, `*.pyc`, `*~`) prune files and
 * whole directories, and `lstripPaths` removes a leading prefix from recorded names.
 * Files are hashed with SHA-256 as streams (never whole in memory), optionally with CRLF and
 * CR line endings normalized to LF as securesystemslib does.
 *
 * Unlike python (which recurses until the OS refuses), a symlink cycle is walked only once.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { IntotoError } from './errors.js';
import { DEFAULT_EXCLUDE_PATTERNS, ExcludeFilter } from './gitwildmatch.js';
import { compareCodePoints } from './canonical.js';
import { pyJoin } from './verify-rules.js';
import type { ArtifactMap, HashDict } from './models.js';

export interface RecordOptions {
  /** gitignore-style patterns; empty or absent means python's defaults. */
  excludePatterns?: readonly string[];
  /** Directory the paths are relative to (default: the current directory). */
  basePath?: string;
  /** Walk into symlinked directories (python in-toto-run and record do). Default true. */
  followSymlinkDirs?: boolean;
  normalizeLineEndings?: boolean;
  lstripPaths?: readonly string[];
}

/** Python `posixpath.normpath`. */
export function pyNormpath(p: string): string {
  if (p === '') return '.';
  let initial = p.startsWith('/') ? 1 : 0;
  if (initial === 1 && p.startsWith('//') && !p.startsWith('///')) initial = 2;
  const out: string[] = [];
  for (const comp of p.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (initial === 0 && out.length === 0) || out[out.length - 1] === '..') out.push(comp);
    else if (out.length > 0) out.pop();
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined === '' ? '.' : joined;
}

function normalizeEol(chunk: Buffer): Buffer {
  if (!chunk.includes(13)) return chunk;
  const out = Buffer.allocUnsafe(chunk.length);
  let n = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i] as number;
    if (b === 13) {
      out[n++] = 10;
      if (chunk[i + 1] === 10) i++;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}

/** SHA-256 of a file as a stream, optionally with line endings normalized. */
export async function hashFile(file: string, normalizeLineEndings = false): Promise<HashDict> {
  const hash = createHash('sha256');
  let pendingCR = false;
  for await (const raw of createReadStream(file, { highWaterMark: 1 << 16 })) {
    let chunk = raw as Buffer;
    if (!normalizeLineEndings) {
      hash.update(chunk);
      continue;
    }
    if (pendingCR) chunk = Buffer.concat([Buffer.from([13]), chunk]);
    pendingCR = chunk.length > 0 && chunk[chunk.length - 1] === 13;
    hash.update(normalizeEol(pendingCR ? chunk.subarray(0, -1) : chunk));
  }
  if (pendingCR) hash.update(Buffer.from([10]));
  return { sha256: hash.digest('hex') };
}

interface Found {
  key: string;
  file: string;
}

class Recorder {
  readonly found: Found[] = [];
  readonly keys = new Set<string>();
  constructor(
    readonly base: string,
    readonly filter: ExcludeFilter,
    readonly opts: RecordOptions,
  ) {}

  fsPath(p: string): string {
    return path.resolve(this.base, p);
  }

  add(p: string): void {
    let key = p.replace(/\\/g, '/');
    const lstrip = this.opts.lstripPaths ?? [];
    if (lstrip.length > 0) {
      const prefix = lstrip.find((x) => key.startsWith(x));
      if (prefix !== undefined) key = key.slice(prefix.length);
      if (this.keys.has(key)) {
        throw new IntotoError(
          'INTOTO_PREFIX_CONFLICT',
          `lstrip-paths made the artifact name ${key} ambiguous`,
        );
      }
    }
    this.keys.add(key);
    this.found.push({ key, file: this.fsPath(p) });
  }

  /** Apply the exclude patterns to names; python returns them sorted. */
  keep(names: string[]): string[] {
    return [...new Set(names.filter((n) => !this.filter.excludes(n)))].sort(compareCodePoints);
  }

  async walk(root: string, seen: ReadonlySet<string>): Promise<void> {
    let entries: Dirent[];
    let real: string;
    try {
      real = await fsp.realpath(this.fsPath(root));
      entries = await fsp.readdir(this.fsPath(root), { withFileTypes: true });
    } catch {
      return; // python's os.walk ignores unreadable directories
    }
    if (seen.has(real)) return;
    const below = new Set(seen).add(real);
    const dirs: { name: string; link: boolean }[] = [];
    const files: string[] = [];
    for (const e of entries) {
      const isLink = e.isSymbolicLink();
      const isDir =
        e.isDirectory() || (isLink && (await statOf(this.fsPath(pyJoin(root, e.name))))?.isDirectory());
      if (isDir === true) dirs.push({ name: e.name, link: isLink });
      else files.push(pyNormpath(pyJoin(root, e.name)));
    }
    for (const f of this.keep(files)) {
      if ((await statOf(this.fsPath(f)))?.isFile() === true) this.add(f);
    }
    const keptDirs = new Set(this.keep(dirs.map((d) => pyNormpath(pyJoin(root, d.name)))));
    for (const d of dirs) {
      const p = pyNormpath(pyJoin(root, d.name));
      if (!keptDirs.has(p)) continue;
      if (d.link && this.opts.followSymlinkDirs === false) continue;
      await this.walk(p, below);
    }
  }
}

async function statOf(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch {
    return undefined;
  }
}

async function hashAll(found: Found[], normalize: boolean): Promise<HashDict[]> {
  const out: HashDict[] = new Array<HashDict>(found.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < found.length) {
      const i = next++;
      const f = found[i] as Found;
      try {
        out[i] = await hashFile(f.file, normalize);
      } catch (e) {
        throw new IntotoError('INTOTO_IO', `cannot hash ${f.file}: ${(e as Error).message}`, { cause: e });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, found.length) }, worker));
  return out;
}

/** Record paths (files or directories) as an artifact map {path: {sha256}}. */
export async function recordArtifacts(
  paths: readonly string[],
  opts: RecordOptions = {},
): Promise<ArtifactMap> {
  if (paths.length === 0) return {};
  const base = path.resolve(opts.basePath ?? '.');
  if ((await statOf(base))?.isDirectory() !== true) {
    throw new IntotoError('INTOTO_IO', `cannot use ${base} as base path: not a directory`);
  }
  const patterns =
    opts.excludePatterns && opts.excludePatterns.length > 0 ? opts.excludePatterns : DEFAULT_EXCLUDE_PATTERNS;
  const lstrip = opts.lstripPaths ?? [];
  for (let i = 0; i < lstrip.length; i++) {
    for (let j = i + 1; j < lstrip.length; j++) {
      const [a, b] = [lstrip[i] as string, lstrip[j] as string];
      if (a.startsWith(b) || b.startsWith(a)) {
        throw new IntotoError('INTOTO_PREFIX_CONFLICT', `lstrip paths '${a}' and '${b}' overlap`);
      }
    }
  }
  const rec = new Recorder(base, new ExcludeFilter(patterns), opts);
  for (const a of rec.keep(paths.map(pyNormpath))) {
    const st = await statOf(rec.fsPath(a));
    if (st?.isFile() === true) rec.add(a);
    else if (st?.isDirectory() === true) await rec.walk(a, new Set());
  }
  const hashes = await hashAll(rec.found, opts.normalizeLineEndings === true);
  const result: ArtifactMap = {};
  rec.found.forEach((f, i) => (result[f.key] = hashes[i] as HashDict));
  return result;
}
