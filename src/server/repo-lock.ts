/**
 * A per-repository async mutex inside one process (ADR 0020; server-architecture-anchors §6
 * rule 6): it spans the awaits of a `transact`'s `work`, so two writes to one repository in
 * one process run one after the other and writes to other repositories never wait. Across
 * processes the adapter's commit decides (./sqlite-store.ts: BEGIN IMMEDIATE and a re-read).
 * Waiters are served first come, first served; a wait is bounded (STORE_BUSY).
 */
import { ServerError } from './errors.js';

export interface AcquireOptions {
  /** false: STORE_BUSY at once when the repository is held. */
  wait: boolean;
  /** Longest wait in milliseconds before STORE_BUSY. */
  timeoutMs: number;
}

export type Release = () => void;

function busy(repo: string, why: string): ServerError {
  return new ServerError('STORE_BUSY', `${repo}: another write holds the repository (${why})`, {
    details: { repo },
    hint: 'retry in a moment',
  });
}

export class RepoLocks {
  /** Held repositories and their waiters (a repository is absent when free). */
  private readonly queues = new Map<string, (() => void)[]>();

  /** Whether a write holds `repo` now. */
  isHeld(repo: string): boolean {
    return this.queues.has(repo);
  }

  async acquire(repo: string, options: AcquireOptions): Promise<Release> {
    const queue = this.queues.get(repo);
    if (queue === undefined) {
      this.queues.set(repo, []);
      return this.releaser(repo);
    }
    if (!options.wait) throw busy(repo, 'not waiting');
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        reject(busy(repo, `waited ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      queue.push(grant);
    });
    return this.releaser(repo);
  }

  /** Hand the repository to the next waiter, or free it; calling it twice is harmless. */
  private releaser(repo: string): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.queues.get(repo)?.shift();
      if (next === undefined) this.queues.delete(repo);
      else next();
    };
  }
}

/**
 * The writes of one store: each runs holding its repository's mutex and is counted in flight,
 * so `close()` can refuse new writes and wait for those started (graceful shutdown, issue 13
 * item 1). Waiting for the mutex counts as in flight: a write queued before `close()` runs.
 */
export class WriteGate {
  private readonly locks = new RepoLocks();
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private closing = false;

  constructor(
    private readonly lockTimeoutMs: number,
    /** The error a write started after `close()` gets (the adapter's STORE_IO). */
    private readonly refused: (repo: string) => Error,
  ) {}

  /** Run `fn` holding `repo`'s mutex; `wait: false` is STORE_BUSY at once when it is held. */
  async run<T>(repo: string, wait: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw this.refused(repo);
    this.inFlight++;
    try {
      const release = await this.locks.acquire(repo, { wait, timeoutMs: this.lockTimeoutMs });
      try {
        return await fn();
      } finally {
        release();
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  /** Refuse new writes; resolves once none is in flight. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }
}
