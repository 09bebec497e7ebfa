/**
 * The metadata store port: where a repository keeps its configuration, staged metadata and
 * published metadata. `FsMetadataStore` is a directory (atomic per-file writes);
 * `MemoryMetadataStore` backs the in-memory repository simulator used by scenario tests.
 * Paths are relative, `/`-separated.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, readFileIfExists } from '../util/fs.js';
import { acquireRepositoryLock, type LockOptions, type ReleaseLock } from './lock.js';

export interface MetadataStore {
  /** A human-readable location for messages. */
  readonly location: string;
  read(file: string): Promise<Uint8Array | undefined>;
  write(file: string, data: Uint8Array): Promise<void>;
  remove(file: string): Promise<void>;
  /** File names directly inside `dir` (not recursive); empty when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Take the exclusive writer lock of the store (./lock.ts); stores without one need none. */
  lock?(options?: LockOptions): Promise<ReleaseLock>;
}

export class FsMetadataStore implements MetadataStore {
  constructor(readonly location: string) {}

  private abs(file: string): string {
    return path.join(this.location, ...file.split('/'));
  }

  read(file: string): Promise<Uint8Array | undefined> {
    return readFileIfExists(this.abs(file));
  }

  lock(options?: LockOptions): Promise<ReleaseLock> {
    return acquireRepositoryLock(this.location, options);
  }

  async write(file: string, data: Uint8Array): Promise<void> {
    const abs = this.abs(file);
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await writeFileAtomic(abs, data);
  }

  async remove(file: string): Promise<void> {
    await fsp.rm(this.abs(file), { force: true });
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await fsp.readdir(this.abs(dir), { withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => d.name);
    } catch {
      return [];
    }
  }
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
