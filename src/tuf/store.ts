/**
 * The metadata store port: where a repository keeps its configuration, staged metadata and
 * published metadata. `FsMetadataStore` is a directory (atomic per-file writes);
 * `MemoryMetadataStore` backs the in-memory repository simulator used by scenario tests.
 * Paths are relative, `/`-separated.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { traceRead } from '../util/trace.js';
import { describeErrno, errnoOf } from '../util/errno.js';
import { TufError } from './errors.js';
import { acquireRepositoryLock, type LockOptions, type ReleaseLock } from './lock.js';
import { quote } from '../util/json.js';
import { RepositoryError } from './errors.js';

export interface MetadataStore {
  /** A human-readable location for messages. */
  readonly location: string;
  /** The file's bytes; undefined only when it does not exist (any other failure: STORE_IO). */
  read(file: string): Promise<Uint8Array | undefined>;
  write(file: string, data: Uint8Array): Promise<void>;
  remove(file: string): Promise<void>;
  /**
   * Names of the entries directly inside `dir` (not recursive); empty when it does not exist.
   * Entries of any type are listed, so that a directory in place of a metadata file is read,
   * and reported, instead of being taken for an unpublished role.
   */
  list(dir: string): Promise<string[]>;
  /** Remove the directory `dir` if it is empty (decoded role copies, ./publish-write.ts). */
  removeEmptyDir?(dir: string): Promise<void>;
  /** Take the exclusive writer lock of the store (./lock.ts); stores without one need none. */
  lock?(options?: LockOptions): Promise<ReleaseLock>;
}

export class FsMetadataStore implements MetadataStore {
  constructor(readonly location: string) {}

  /** Absolute path of `file`; never outside the store, whatever the name (defence in depth). */
  private abs(file: string): string {
    const root = path.resolve(this.location);
    const abs = path.resolve(root, ...file.split('/'));
    if (abs === root || !abs.startsWith(root + path.sep) || file.includes('\0')) {
      throw new RepositoryError('REPO_CORRUPT', `store path ${quote(file)} is outside ${root}`, {
        details: { path: file.slice(0, 240) },
        hint: 'a role or file name with . or .. segments reached the store: report this, it should have been refused',
      });
    }
    return abs;
  }

  async read(file: string): Promise<Uint8Array | undefined> {
    // async: a path outside the store (this.abs) is a rejection, like any store failure
    return storeIo(
      'read',
      this.abs(file),
      async (abs) => {
        const bytes = await fsp.readFile(abs);
        traceRead(abs, bytes.length);
        return bytes;
      },
      ABSENT,
      undefined,
    );
  }

  lock(options?: LockOptions): Promise<ReleaseLock> {
    return acquireRepositoryLock(this.location, options);
  }

  async write(file: string, data: Uint8Array): Promise<void> {
    return storeIo('write', this.abs(file), async (abs) => {
      await fsp.mkdir(path.dirname(abs), { recursive: true });
      await writeFileAtomic(abs, data);
    });
  }

  async remove(file: string): Promise<void> {
    return storeIo('remove', this.abs(file), (abs) => fsp.rm(abs, { force: true }));
  }

  /** Remove `dir` if it is an empty directory; anything else (absent, not empty) is left as is. */
  async removeEmptyDir(dir: string): Promise<void> {
    return storeIo('remove', this.abs(dir), (abs) => fsp.rmdir(abs), NOT_EMPTY_DIR, undefined);
  }

  async list(dir: string): Promise<string[]> {
    return storeIo('list', this.abs(dir), (abs) => fsp.readdir(abs), ABSENT, []);
  }
}

type StoreOp = 'read' | 'list' | 'write' | 'remove';
const ABSENT: readonly string[] = ['ENOENT'];
const NOT_EMPTY_DIR: readonly string[] = ['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'];

/**
 * Run one file-system operation of the store on `abs`. Only the errno codes in `absent` give
 * `fallback` (for reads: ENOENT alone, ADR 0010); any other errno failure is STORE_IO, and a
 * failure without an errno (a programming error) is rethrown as it is.
 */
async function storeIo<T>(
  op: StoreOp,
  abs: string,
  fn: (abs: string) => Promise<T>,
  absent: readonly string[] = [],
  fallback?: T,
): Promise<T> {
  try {
    return await fn(abs);
  } catch (e) {
    const code = errnoOf(e);
    if (code === undefined) throw e;
    if (absent.includes(code)) return fallback as T;
    throw storeIoError(op, abs, e);
  }
}

/** STORE_IO: the store exists but a file or directory of it cannot be read (not "absent"). */
export function storeIoError(op: StoreOp, abs: string, e: unknown): TufError {
  const what = op === 'list' ? 'a directory' : 'a regular file';
  const can = op === 'read' || op === 'list' ? 'read' : 'write';
  return new TufError('STORE_IO', `cannot ${op} ${abs}: ${describeErrno(e)}`, {
    cause: e,
    details: { path: abs, errno: errnoOf(e), operation: op },
    hint: `the repository is damaged or not accessible to you: ${abs} must be ${what} you can ${can} (restore it from a backup)`,
  });
}

export class MemoryMetadataStore implements MetadataStore {
  readonly files = new Map<string, Uint8Array>();
  constructor(readonly location = 'memory:') {}

  read(file: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.files.get(file));
  }

  write(file: string, data: Uint8Array): Promise<void> {
    this.files.set(file, Uint8Array.from(data));
    return Promise.resolve();
  }

  remove(file: string): Promise<void> {
    this.files.delete(file);
    return Promise.resolve();
  }

  list(dir: string): Promise<string[]> {
    const prefix = dir === '' ? '' : `${dir}/`;
    return Promise.resolve(
      [...this.files.keys()]
        .filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/'))
        .map((f) => f.slice(prefix.length)),
    );
  }
}
