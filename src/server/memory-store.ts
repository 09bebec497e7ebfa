/**
 * The in-memory `TrustStore` (./store.ts; ADR 0026): the reference the other adapters
 * (./sqlite-store.ts, PostgreSQL in issue 15) are checked against by the shared contract suite
 * (test/helpers/store-contract.js), and a store for tests that need no file.
 *
 * The same semantics as the SQLite adapter, without a driver: a write holds the repository's
 * mutex (./repo-lock.ts) across the awaits of `work`, then ONE synchronous commit re-checks
 * what `work` read (`checkObserved`: another store on the same data, see `peer()`, may have
 * written in between) and every version, and only then changes the data; a throw before that
 * point leaves it untouched. Bytes are copied in and out: a caller's buffer is never shared.
 */
import { ServerError } from './errors.js';
import { WriteGate } from './repo-lock.js';
import { sha256Hex, type RepositoryState } from './upload-parse.js';
import {
  stateOf,
  versionConflict,
  type ExpiringRole,
  type StoredMeta,
  type StoredTargetFile,
  type TransactOptions,
  type TransactResult,
  type TrustStore,
  type TrustTx,
} from './store.js';
import { checkObserved, runQueuedTx, type QueuedTx } from './store-tx.js';

export interface MemoryStoreOptions {
  /** How long a write waits for the repository's mutex, ms. Default 30000. */
  lockTimeoutMs?: number;
  /** Largest metadata file stored, bytes. Default 64 MiB (as ./sqlite-store.ts). */
  maxMetaBytes?: number;
  /** Largest target file stored, bytes. Default 16 MiB. */
  maxTargetFileBytes?: number;
  /** The clock for `createdAt`. */
  now?: () => Date;
}

/** One repository's rows: role → versions ascending; path → files, the latest last. */
interface RepoData {
  metas: Map<string, StoredMeta[]>;
  targets: Map<string, StoredTargetFile[]>;
}

/** The data several stores may share (each standing for one server process). */
type Data = Map<string, RepoData>;

const MiB = 1024 * 1024;

function closedError(what: string): ServerError {
  return new ServerError('STORE_IO', `${what}: the store is closed`, {
    hint: 'open the store again (the server is shutting down)',
  });
}

function copyMeta(m: StoredMeta): StoredMeta {
  return {
    ...m,
    bytes: Buffer.from(m.bytes),
    createdAt: new Date(m.createdAt.getTime()),
    expiresAt: m.expiresAt === undefined ? undefined : new Date(m.expiresAt.getTime()),
  };
}

function copyTarget(f: StoredTargetFile): StoredTargetFile {
  return { ...f, bytes: Buffer.from(f.bytes), createdAt: new Date(f.createdAt.getTime()) };
}

/** Each role's current (highest) version, sorted by role. */
function currents(d: RepoData | undefined): [string, StoredMeta][] {
  const out: [string, StoredMeta][] = [];
  for (const [role, vs] of d?.metas ?? []) {
    const last = vs.at(-1);
    if (last !== undefined) out.push([role, last]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export class MemoryTrustStore implements TrustStore {
  private readonly writes: WriteGate;
  private readonly limits: { meta: number; target: number };
  private readonly now: () => Date;
  private closed: Promise<void> | undefined;
  private isClosed = false;

  constructor(
    private readonly options: MemoryStoreOptions = {},
    private readonly data: Data = new Map(),
  ) {
    this.writes = new WriteGate(
      options.lockTimeoutMs ?? 30_000,
      (repo) =>
        new ServerError('STORE_IO', `${repo}: the store is closing`, { hint: 'retry on another server' }),
    );
    this.limits = { meta: options.maxMetaBytes ?? 64 * MiB, target: options.maxTargetFileBytes ?? 16 * MiB };
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Another store on the same data with its own mutex: what a second server process on the
   * same database is to ./sqlite-store.ts (tests of the commit-time re-check).
   */
  peer(options: MemoryStoreOptions = this.options): MemoryTrustStore {
    return new MemoryTrustStore(options, this.data);
  }

  /** `fn`'s result as a promise; STORE_IO once closed. */
  private read<T>(what: string, fn: () => T): Promise<T> {
    return new Promise((resolve) => {
      if (this.isClosed) throw closedError(what);
      resolve(fn());
    });
  }

  private versions(repo: string, role: string): StoredMeta[] {
    return this.data.get(repo)?.metas.get(role) ?? [];
  }

  getCurrent(repo: string, role: string): Promise<StoredMeta | undefined> {
    return this.read(repo, () => {
      const last = this.versions(repo, role).at(-1);
      return last && copyMeta(last);
    });
  }

  getVersion(repo: string, role: string, version: number): Promise<StoredMeta | undefined> {
    return this.read(repo, () => {
      const m = this.versions(repo, role).find((v) => v.version === version);
      return m && copyMeta(m);
    });
  }

  /** Several versions may share bytes only in theory (the version is signed): the newest wins. */
  getChecksum(repo: string, role: string, sha256: string): Promise<StoredMeta | undefined> {
    const want = sha256.toLowerCase();
    return this.read(repo, () => {
      const m = this.versions(repo, role).findLast((v) => v.sha256 === want);
      return m && copyMeta(m);
    });
  }

  /** Every role's current row, sorted by role. */
  currentRows(repo: string): Promise<Map<string, StoredMeta>> {
    return this.read(repo, () => {
      return new Map(currents(this.data.get(repo)).map(([role, m]) => [role, copyMeta(m)]));
    });
  }

  async currentState(repo: string): Promise<RepositoryState> {
    return stateOf(await this.currentRows(repo));
  }

  getTargetFile(repo: string, path: string, sha256?: string): Promise<StoredTargetFile | undefined> {
    return this.read(repo, () => {
      const files = this.data.get(repo)?.targets.get(path) ?? [];
      const want = sha256?.toLowerCase();
      const f = want === undefined ? files.at(-1) : files.find((x) => x.sha256 === want);
      return f && copyTarget(f);
    });
  }

  async transact<T>(
    repo: string,
    work: (tx: TrustTx) => Promise<T>,
    options: TransactOptions = {},
  ): Promise<TransactResult<T>> {
    return runQueuedTx(this.writes, this, this.limits, repo, work, options, (tx) => this.commit(tx));
  }

  /** Check everything first, then change the data: all or nothing, with no await in between. */
  private commit(tx: QueuedTx): StoredMeta[] {
    if (this.isClosed) throw closedError(tx.repo);
    if (tx.metas.length === 0 && tx.targets.length === 0) return [];
    const repo = tx.repo;
    const old = this.data.get(repo);
    const current = new Map(currents(old).map(([role, m]) => [role, m.version]));
    checkObserved(tx, current);
    const createdAt = this.now().getTime();
    const rows: StoredMeta[] = [];
    for (const u of tx.metas) {
      const cur = current.get(u.role) ?? 0;
      if (u.version <= cur)
        throw versionConflict(repo, u.role, u.version, `version ${cur} is already stored`);
      current.set(u.role, u.version);
      const bytes = Buffer.from(u.bytes);
      rows.push({
        role: u.role,
        version: u.version,
        sha256: sha256Hex(bytes),
        bytes,
        createdAt: new Date(createdAt),
        expiresAt: u.expiresAt === undefined ? undefined : new Date(u.expiresAt.getTime()),
      });
    }
    const files = tx.targets.map((f) => {
      const bytes = Buffer.from(f.bytes);
      return { path: f.path, sha256: sha256Hex(bytes), bytes, createdAt: new Date(createdAt) };
    });
    // Nothing can fail from here on.
    const into: RepoData = old ?? { metas: new Map(), targets: new Map() };
    this.data.set(repo, into);
    for (const row of rows) into.metas.set(row.role, [...(into.metas.get(row.role) ?? []), row]);
    for (const f of files) {
      const kept = (into.targets.get(f.path) ?? []).filter((x) => x.sha256 !== f.sha256);
      into.targets.set(f.path, [...kept, f]);
    }
    return rows.map(copyMeta);
  }

  async deleteRepo(repo: string): Promise<boolean> {
    return this.writes.run(repo, true, () =>
      this.read(repo, () => {
        const had = this.data.get(repo);
        this.data.delete(repo);
        return had !== undefined && (had.metas.size > 0 || had.targets.size > 0);
      }),
    );
  }

  /** Current roles with an expiry before `before`, by expiry, then repo, then role (as SQL). */
  listExpiring(before: Date, limit: number): Promise<ExpiringRole[]> {
    return this.read('listExpiring', () => {
      const out: ExpiringRole[] = [];
      for (const [repo, d] of this.data)
        for (const [role, cur] of currents(d)) {
          if (cur.expiresAt !== undefined && cur.expiresAt.getTime() < before.getTime())
            out.push({ repo, role, version: cur.version, expiresAt: new Date(cur.expiresAt.getTime()) });
        }
      const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
      out.sort(
        (a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || cmp(a.repo, b.repo) || cmp(a.role, b.role),
      );
      return out.slice(0, Math.max(0, Math.floor(limit)));
    });
  }

  /** Nothing to create; refuses after `close()` like the other adapters. */
  migrate(): Promise<void> {
    return this.read('migrate', () => undefined);
  }

  ping(): Promise<void> {
    return this.read('ping', () => undefined);
  }

  close(): Promise<void> {
    this.closed ??= this.writes.close().then(() => {
      this.isClosed = true;
    });
    return this.closed;
  }
}

/** A memory store, opened like `openSqliteStore` (nothing to migrate). */
export function openMemoryStore(options: MemoryStoreOptions = {}): Promise<MemoryTrustStore> {
  return Promise.resolve(new MemoryTrustStore(options));
}
