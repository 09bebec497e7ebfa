/**
 * The repository lock (ADR 0003 "Writers are serialized"): every command that stages or
 * publishes holds an exclusive lock on the repository directory, so two writers never read
 * the same state and both write (a lost target, or two different `N.snapshot.json`).
 *
 * The lock is the file `<dir>/.cnabsec.lock` holding `{pid, hostname, startedAt, nonce}`. It
 * appears atomically with its content: written to a unique temporary file, then hard-linked
 * to the lock name (link(2) fails with EEXIST when the lock exists: exclusive create).
 *
 * A lock whose owner is dead (same host, `kill(pid, 0)` → ESRCH) is stale and is taken over
 * under a guard file `<dir>/.cnabsec.lock.takeover` (exclusive create): the guard holder
 * re-reads the lock and removes it only when it is still the very lock judged stale (same
 * nonce), so two processes can never both take over one stale lock. A lock of another host is
 * never taken over automatically (the directory may be shared).
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { RepositoryError, TufError } from './errors.js';
import { quote } from '../util/json.js';
import { describeErrno, errnoOf } from '../util/errno.js';
import { createNewFile } from '../util/fs.js';

export const LOCK_FILE = '.cnabsec.lock';

export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  nonce: string;
}

export interface LockOptions {
  /** Keep trying this long (ms) while another live process holds the lock; default 0 (fail fast). */
  waitMs?: number;
  /** Create the directory when missing (`init`); else a missing directory is REPO_NOT_FOUND. */
  create?: boolean;
}

export type ReleaseLock = () => Promise<void>;

const POLL_MS = 50;

/**
 * The owner written in the lock file. Read without following a symlink and without blocking
 * (a FIFO put in its place must not hang every writer), at most 4 KiB: anything but a
 * readable regular file holding an owner is 'unreadable' (REPOSITORY_LOCKED, remove it).
 */
async function readOwner(file: string): Promise<LockOwner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    const fh = await fsp.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) return 'unreadable';
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      text = buf.toString('utf8', 0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return 'missing';
    if (errnoOf(e) !== undefined) return 'unreadable';
    throw e;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.nonce === 'string')
      return { pid: o.pid, hostname: o.hostname, startedAt: String(o.startedAt), nonce: o.nonce };
  } catch {
    /* unreadable below */
  }
  return 'unreadable';
}

/** STORE_IO: the lock (or its directory) cannot be created: permissions, a file in the way. */
function lockIoError(file: string, e: unknown): TufError {
  return new TufError('STORE_IO', `cannot take the repository lock ${file}: ${describeErrno(e)}`, {
    cause: e,
    details: { path: file, errno: errnoOf(e), operation: 'lock' },
    hint: `the repository directory must be a directory you can write; check ${path.dirname(file)}`,
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) !== 'ESRCH'; // EPERM: alive, owned by another user
  }
}

function isStale(owner: LockOwner): boolean {
  return owner.hostname === hostname() && owner.pid !== process.pid && !alive(owner.pid);
}

/** Create `file` with `content` atomically and exclusively; false when it exists. */
function createExclusive(file: string, content: string): Promise<boolean> {
  return createNewFile(file, content, 0o644);
}

/** Remove the stale lock `judged` if it is still the lock at `file`; true when removed. */
async function takeOver(file: string, judged: LockOwner): Promise<boolean> {
  const guard = `${file}.takeover`;
  const me = JSON.stringify({ pid: process.pid, hostname: hostname(), nonce: judged.nonce });
  if (!(await createExclusive(guard, me))) return false;
  try {
    const now = await readOwner(file);
    if (typeof now !== 'object' || now.nonce !== judged.nonce || !isStale(now)) return false;
    await fsp.rm(file, { force: true });
    return true;
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

function lockedError(file: string, owner: LockOwner | 'unreadable', guard: boolean): RepositoryError {
  const who =
    owner === 'unreadable'
      ? 'an unreadable lock file'
      : `pid ${owner.pid} on ${quote(owner.hostname, 64)} since ${quote(owner.startedAt, 40)}`;
  const at = guard ? `${file}.takeover` : file;
  return new RepositoryError('REPOSITORY_LOCKED', `repository is locked by ${who} (lock ${at})`, {
    details: { path: at, ...(owner === 'unreadable' ? {} : { pid: owner.pid, hostname: owner.hostname }) },
    hint:
      owner !== 'unreadable' && owner.hostname !== hostname()
        ? `another host holds the lock; wait for it, or remove ${at} once no cnabsec runs there`
        : `wait for the other cnabsec command to finish and retry (CNABSEC_LOCK_WAIT=<seconds> waits); if no cnabsec runs, remove ${at}`,
  });
}

async function tryOnce(file: string, me: LockOwner, attempts = 4): Promise<RepositoryError | undefined> {
  if (await createExclusive(file, JSON.stringify(me) + '\n')) return undefined;
  const owner = await readOwner(file);
  const again = attempts > 0;
  if (owner === 'missing') {
    // released between our attempt and the read: try again at once
    return again ? tryOnce(file, me, attempts - 1) : lockedError(file, 'unreadable', false);
  }
  if (owner !== 'unreadable' && isStale(owner)) {
    if ((await takeOver(file, owner)) && again) return tryOnce(file, me, attempts - 1);
    return lockedError(file, owner, true);
  }
  return lockedError(file, owner, false);
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
  const file = path.join(dir, LOCK_FILE);
  const me: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(16).toString('hex'),
  };
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    const refused = await tryOnce(file, me);
    if (refused === undefined) break;
    if (Date.now() >= deadline) throw refused;
    await new Promise((r) => setTimeout(r, POLL_MS + Math.floor(Math.random() * POLL_MS)));
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const now = await readOwner(file);
    if (typeof now === 'object' && now.nonce === me.nonce) await fsp.rm(file, { force: true });
  };
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
