/**
 * The repository lock (ADR 0003 "Writers are serialized"): every command that stages or
 * publishes holds an exclusive lock on the repository directory, so two writers never read
 * the same state and both write (a lost target, or two different `N.snapshot.json`).
 *
 * The lock is the file `<dir>/.cnabsec.lock`, taken with ../util/lockfile.ts (atomic exclusive
 * create, stale same-host owners taken over under a guard file).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { RepositoryError, TufError } from './errors.js';
import { quote } from '../util/json.js';
import { describeErrno, errnoOf } from '../util/errno.js';
import { acquireLockFile, lockHost, type LockHeld } from '../util/lockfile.js';

export type { LockOwner } from '../util/lockfile.js';

export const LOCK_FILE = '.cnabsec.lock';

export interface LockOptions {
  /** Keep trying this long (ms) while another live process holds the lock; default 0 (fail fast). */
  waitMs?: number;
  /** Create the directory when missing (`init`); else a missing directory is REPO_NOT_FOUND. */
  create?: boolean;
}

export type ReleaseLock = () => Promise<void>;

/** STORE_IO: the lock (or its directory) cannot be created: permissions, a file in the way. */
function lockIoError(file: string, e: unknown): TufError {
  return new TufError('STORE_IO', `cannot take the repository lock ${file}: ${describeErrno(e)}`, {
    cause: e,
    details: { path: file, errno: errnoOf(e), operation: 'lock' },
    hint: `the repository directory must be a directory you can write; check ${path.dirname(file)}`,
  });
}

function lockedError({ owner, path: at }: LockHeld): RepositoryError {
  const who =
    owner === 'unreadable'
      ? 'an unreadable lock file'
      : `pid ${owner.pid} on ${quote(owner.hostname, 64)} since ${quote(owner.startedAt, 40)}`;
  return new RepositoryError('REPOSITORY_LOCKED', `repository is locked by ${who} (lock ${at})`, {
    details: { path: at, ...(owner === 'unreadable' ? {} : { pid: owner.pid, hostname: owner.hostname }) },
    hint:
      owner !== 'unreadable' && owner.hostname !== lockHost()
        ? `another host holds the lock; wait for it, or remove ${at} once no cnabsec runs there`
        : `wait for the other cnabsec command to finish and retry (CNABSEC_LOCK_WAIT=<seconds> waits); if no cnabsec runs, remove ${at}`,
  });
}

/**
 * Take the exclusive lock of the repository directory `dir`. Throws
 * REPOSITORY_LOCKED naming the owner and the lock path when it is held after `waitMs`.
 */
export async function acquireRepositoryLock(dir: string, options: LockOptions = {}): Promise<ReleaseLock> {
  try {
    return await acquire(dir, options);
  } catch (e) {
    if (errnoOf(e) === undefined) throw e;
    throw lockIoError(path.join(dir, LOCK_FILE), e);
  }
}

async function acquire(dir: string, options: LockOptions): Promise<ReleaseLock> {
  if (options.create === true) await fsp.mkdir(dir, { recursive: true });
  else if (
    !(await fsp.stat(dir).then(
      (st) => st.isDirectory(),
      () => false,
    ))
  ) {
    throw new TufError('REPO_NOT_FOUND', `no cnabsec repository at ${dir}`, {
      details: { path: dir },
      hint: 'create one with `cnabsec init <dir> --name <bundle repository>`',
    });
  }
  const taken = await acquireLockFile(path.join(dir, LOCK_FILE), { waitMs: options.waitMs ?? 0 });
  if ('held' in taken) throw lockedError(taken.held);
  return taken.release;
}

/** Run `fn` while holding the repository lock of `dir`; the lock is released afterwards. */
export async function withRepositoryLock<T>(
  dir: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const release = await acquireRepositoryLock(dir, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}
