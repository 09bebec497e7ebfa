/**
 * The `tx` of every adapter's `transact` (./sqlite-store.ts, ./memory-store.ts; ADR 0020,
 * 0026): reads go to the store (lock-free, committed state) and are remembered, appends are
 * queued and size-checked; the adapter commits them in one atomic step after `work` resolves,
 * first re-checking what was read with `checkObserved`.
 */
import { ServerError } from './errors.js';
import type { WriteGate } from './repo-lock.js';
import {
  versionConflict,
  type MetaUpdate,
  type StoredMeta,
  type TargetFileUpdate,
  type TransactOptions,
  type TransactResult,
  type TrustTx,
} from './store.js';

/** The reads a tx makes through its store. */
export interface TxReader {
  getCurrent(repo: string, role: string): Promise<StoredMeta | undefined>;
  currentRows(repo: string): Promise<Map<string, StoredMeta>>;
}

/** What `work` read and queued; committed by the adapter's commit. */
export class QueuedTx implements TrustTx {
  /** Role → the version `work` saw (0: absent). */
  readonly observed = new Map<string, number>();
  /** `currentAll` was called: the set of roles must not change either. */
  sawAll = false;
  readonly metas: MetaUpdate[] = [];
  readonly targets: TargetFileUpdate[] = [];
  closed = false;

  constructor(
    readonly repo: string,
    private readonly store: TxReader,
    private readonly limits: { meta: number; target: number },
  ) {}

  current(role: string): Promise<StoredMeta | undefined> {
    this.open();
    return this.store.getCurrent(this.repo, role).then((m) => {
      this.observed.set(role, m?.version ?? 0);
      return m;
    });
  }

  async currentAll(): Promise<ReadonlyMap<string, StoredMeta>> {
    this.open();
    const all = await this.store.currentRows(this.repo);
    this.sawAll = true;
    for (const [role, m] of all) this.observed.set(role, m.version);
    return all;
  }

  append(updates: readonly MetaUpdate[]): void {
    this.open();
    for (const u of updates) {
      if (!Number.isSafeInteger(u.version) || u.version < 1)
        throw new Error(`append: ${u.role} version ${u.version} is not a positive integer`);
      if (u.bytes.byteLength > this.limits.meta) throw tooLarge(this.repo, u.role, u.bytes, this.limits.meta);
    }
    this.metas.push(...updates);
  }

  appendTargetFile(files: readonly TargetFileUpdate[]): void {
    this.open();
    for (const f of files)
      if (f.bytes.byteLength > this.limits.target)
        throw tooLarge(this.repo, f.path, f.bytes, this.limits.target);
    this.targets.push(...files);
  }

  private open(): void {
    if (this.closed)
      throw new Error(`transact(${this.repo}): the transaction is over (used after work resolved)`);
  }
}

/**
 * Every adapter's `transact`: under the repository's write gate, run `work` on a QueuedTx over
 * `reader`, close the tx (a late use throws), then `commit` what it queued in one atomic step.
 */
export function runQueuedTx<T>(
  gate: WriteGate,
  reader: TxReader,
  limits: { meta: number; target: number },
  repo: string,
  work: (tx: TrustTx) => Promise<T>,
  options: TransactOptions,
  commit: (tx: QueuedTx) => StoredMeta[],
): Promise<TransactResult<T>> {
  return gate.run(repo, options.wait ?? true, async () => {
    const tx = new QueuedTx(repo, reader, limits);
    try {
      const value = await work(tx);
      tx.closed = true;
      return { value, stored: commit(tx) };
    } finally {
      tx.closed = true;
    }
  });
}

/**
 * VERSION_CONFLICT when a role `work` read changed (or, after `currentAll`, a role appeared)
 * in `now` (role → current version, read inside the adapter's commit): another process wrote
 * the repository between `work`'s read and the commit.
 */
export function checkObserved(tx: QueuedTx, now: ReadonlyMap<string, number>): void {
  for (const [role, seen] of tx.observed) {
    const v = now.get(role) ?? 0;
    if (v !== seen) throw versionConflict(tx.repo, role, v, `changed since it was read (was ${seen})`);
  }
  if (!tx.sawAll) return;
  for (const [role, v] of now)
    if (!tx.observed.has(role))
      throw versionConflict(tx.repo, role, v, 'appeared since the repository was read');
}

function tooLarge(repo: string, name: string, bytes: Uint8Array, max: number): ServerError {
  return new ServerError(
    'STORE_TOO_LARGE',
    `${repo}: ${name} is ${bytes.byteLength} bytes, above the store's ${max}`,
    {
      details: { repo, name, bytes: bytes.byteLength, max },
      hint: 'raise the store limit in the server config, or make the file smaller',
    },
  );
}
