/**
 * The metadata store port: where a repository keeps its configuration, staged metadata and
 * published metadata. `FsMetadataStore` is a directory (atomic per-file writes);
 * `MemoryMetadataStore` backs the in-memory repository simulator used by scenario tests.
 * Paths are relative, `/`-separated.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, readFileIfExists } from '../util/fs.js';
import { quote } from '../util/json.js';
import { RepositoryError } from './errors.js';

export interface MetadataStore {
  /** A human-readable location for messages. */
  readonly location: string;
  read(file: string): Promise<Uint8Array | undefined>;
  write(file: string, data: Uint8Array): Promise<void>;
  remove(file: string): Promise<void>;
  /** File names directly inside `dir` (not recursive); empty when it does not exist. */
  list(dir: string): Promise<string[]>;
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

  read(file: string): Promise<Uint8Array | undefined> {
    return readFileIfExists(this.abs(file));
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
