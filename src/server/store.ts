/**
 * The metadata server's storage port, `TrustStore` (issue 13 items 1 and 6, ADR 0020; rules 2,
 * 3 and 6 of ../shared/facts/server-architecture-anchors.md §6), after notary's `MetaStore`
 * (`server/storage/interface.go`) and verdaccio's `updatePackage`. A name of its own: the
 * file-level `MetadataStore` of ../tuf/store.ts is a local repository's directory.
 *
 * - Reads are lock-free and see committed state only: `getCurrent` (the highest stored
 *   version of a role), `getVersion`, `getChecksum` (by the sha256 of the bytes, the
 *   `<role>.<sha256>.json` path), `currentState` (what `validateUpload` takes).
 * - Writes go through `transact(repo, work)`: one writer per repository at a time; `work`
 *   reads through its `tx` and queues appends; the appends commit atomically once `work`
 *   resolves, nothing commits if it throws. A write based on state that changed under it, or
 *   of a version already stored, fails with VERSION_CONFLICT (HTTP 409) and stores nothing.
 *
 * No driver here: ./sqlite-store.ts implements it on better-sqlite3, PostgreSQL (issue 15)
 * the same way (ADR 0020). The adapters between stored rows and ./validate.ts are at the end.
 */
import { parseJsonBounded } from '../util/json.js';
import { ServerError } from './errors.js';
import type { RepositoryState } from './upload-parse.js';
import type { AcceptedRole } from './validate.js';
import type { AcceptedTargetFile } from './validate-meta.js';

/** One stored metadata file (a row of `tuf_files`). */
export interface StoredMeta {
  role: string;
  version: number;
  /** Lowercase hex sha256 of `bytes`, computed by the store. */
  sha256: string;
  bytes: Uint8Array;
  createdAt: Date;
  /** The role's `signed.expires`, when the writer gave it. */
  expiresAt: Date | undefined;
}

/** A metadata file to store: exactly the bytes that were signed (or uploaded). */
export interface MetaUpdate {
  role: string;
  version: number;
  bytes: Uint8Array;
  expiresAt?: Date;
}

/** One stored target file (an in-toto layout, link or public key, doc 303). */
export interface StoredTargetFile {
  path: string;
  sha256: string;
  bytes: Uint8Array;
  createdAt: Date;
}

export interface TargetFileUpdate {
  path: string;
  bytes: Uint8Array;
}

/** A current role near or past expiry (`listExpiring`), for the refresher. */
export interface ExpiringRole {
  repo: string;
  role: string;
  version: number;
  expiresAt: Date;
}

/** What `work` sees inside `transact`: the repository under its lock. */
export interface TrustTx {
  readonly repo: string;
  /** The current version of `role` (committed state; the tx's own appends are not visible). */
  current(role: string): Promise<StoredMeta | undefined>;
  /** Every role's current version, keyed by role name. */
  currentAll(): Promise<ReadonlyMap<string, StoredMeta>>;
  /** Queue metadata files; each version must be above the role's current one at commit. */
  append(updates: readonly MetaUpdate[]): void;
  /** Queue target files; a path stored again with other bytes becomes that path's latest. */
  appendTargetFile(files: readonly TargetFileUpdate[]): void;
}

export interface TransactOptions {
  /** false: fail at once with STORE_BUSY when another write holds the repository. Default true. */
  wait?: boolean;
}

export interface TransactResult<T> {
  value: T;
  /** The rows committed, in append order. */
  stored: StoredMeta[];
}

export interface TrustStore {
  getCurrent(repo: string, role: string): Promise<StoredMeta | undefined>;
  getVersion(repo: string, role: string, version: number): Promise<StoredMeta | undefined>;
  getChecksum(repo: string, role: string, sha256: string): Promise<StoredMeta | undefined>;
  /** The current bytes of every role, as `validateUpload` takes them. */
  currentState(repo: string): Promise<RepositoryState>;
  /** The latest stored file at `path`, or the one with `sha256` when given. */
  getTargetFile(repo: string, path: string, sha256?: string): Promise<StoredTargetFile | undefined>;
  transact<T>(
    repo: string,
    work: (tx: TrustTx) => Promise<T>,
    options?: TransactOptions,
  ): Promise<TransactResult<T>>;
  /** Remove every metadata and target file of `repo`; false when there was none. */
  deleteRepo(repo: string): Promise<boolean>;
  /** Current roles whose expiry is before `before`, soonest first, at most `limit`. */
  listExpiring(before: Date, limit: number): Promise<ExpiringRole[]>;
  /** Create or upgrade the schema; refuses (STORE_SCHEMA) a database newer than this code. */
  migrate(): Promise<void>;
  /** Throws STORE_IO when the database does not answer. */
  ping(): Promise<void>;
  /** Refuse new work, wait for the writes in flight, release the database. */
  close(): Promise<void>;
}

/** The state `validateUpload` takes, from `currentAll()` (or any map of current rows). */
export function stateOf(current: ReadonlyMap<string, StoredMeta>): RepositoryState {
  const out: Record<string, Uint8Array> = {};
  for (const [role, m] of current) out[role] = m.bytes;
  return out;
}

/** The signed `expires` of a metadata file, or undefined when it has none a Date can carry. */
export function expiresOf(role: string, bytes: Uint8Array): Date | undefined {
  const doc = parseJsonBounded(bytes, { source: `${role}.json`, integersOnly: true });
  if (typeof doc !== 'object' || doc === null || !('signed' in doc)) return undefined;
  const signed = doc.signed;
  if (typeof signed !== 'object' || signed === null || !('expires' in signed)) return undefined;
  const expires = signed.expires;
  if (typeof expires !== 'string') return undefined;
  const d = new Date(expires);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The rows to append for what `validateUpload` accepted (with their expiry). */
export function metaUpdates(accepted: readonly AcceptedRole[]): MetaUpdate[] {
  return accepted.map((a) => {
    const expiresAt = expiresOf(a.role, a.bytes);
    return {
      role: a.role,
      version: a.version,
      bytes: a.bytes,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
  });
}

/** The target files to append for what `validateUpload` accepted. */
export function targetFileUpdates(files: readonly AcceptedTargetFile[]): TargetFileUpdate[] {
  return files.map((f) => ({ path: f.path, bytes: f.bytes }));
}

/** The VERSION_CONFLICT a writer gets when it lost a race for `role`. */
export function versionConflict(repo: string, role: string, version: number, message: string): ServerError {
  return new ServerError('VERSION_CONFLICT', `${repo}: ${role} version ${version}: ${message}`, {
    details: { repo, role, version },
    hint: 'someone published first: pull the current state and retry',
  });
}
