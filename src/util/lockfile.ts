/**
 * An exclusive lock file with stale-owner takeover, shared by the repository lock
 * (../tuf/lock.ts, ADR 0003) and the key-file lock (../crypto/keyfile.ts).
 *
 * The lock is a file holding `{pid, hostname, startedAt, nonce}`. It appears atomically with
 * its content: written to a unique temporary file, then hard-linked to the lock name (link(2)
 * fails with EEXIST when the lock exists: exclusive create).
 *
 * A lock whose owner is dead (same host, `kill(pid, 0)` → ESRCH) is stale and is taken over
 * under a guard file `<lock>.takeover` (exclusive create): the guard holder re-reads the lock
 * and removes it only when it is still the very lock judged stale (same nonce), so two
 * processes can never both take over one stale lock. A lock of another host is never taken
 * over automatically (the directory may be shared).
 *
 * Errors of the file system (errno) are thrown as they are; the caller names them in its own
 * layer's error. A lock held by someone else is not an exception here: it is returned.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { errnoOf } from './errno.js';
import { createNewFile } from './fs.js';

export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  nonce: string;
}

/** Who holds the lock: its owner, or 'unreadable'; `path` is the lock file or its takeover guard. */
export interface LockHeld {
  owner: LockOwner | 'unreadable';
  path: string;
}

export type ReleaseLockFile = () => Promise<void>;

export type LockFileResult = { release: ReleaseLockFile } | { held: LockHeld };

const POLL_MS = 50;

/**
 * The owner written in the lock file. Read without following a symlink and without blocking
 * (a FIFO put in its place must not hang every writer), at most 4 KiB: anything but a
 * readable regular file holding an owner is 'unreadable'.
 */
export async function readLockOwner(file: string): Promise<LockOwner | 'missing' | 'unreadable'> {
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

/** Remove the stale lock `judged` if it is still the lock at `file`; true when removed. */
async function takeOver(file: string, judged: LockOwner, mode: number): Promise<boolean> {
  const guard = `${file}.takeover`;
  const me = JSON.stringify({ pid: process.pid, hostname: hostname(), nonce: judged.nonce });
  if (!(await createNewFile(guard, me, mode))) return false;
  try {
    const now = await readLockOwner(file);
    if (typeof now !== 'object' || now.nonce !== judged.nonce || !isStale(now)) return false;
    await fsp.rm(file, { force: true });
    return true;
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

async function tryOnce(
  file: string,
  me: LockOwner,
  mode: number,
  attempts = 4,
): Promise<LockHeld | undefined> {
  if (await createNewFile(file, JSON.stringify(me) + '\n', mode)) return undefined;
  const owner = await readLockOwner(file);
  const again = attempts > 0;
  if (owner === 'missing') {
    // released between our attempt and the read: try again at once
    return again ? tryOnce(file, me, mode, attempts - 1) : { owner: 'unreadable', path: file };
  }
  if (owner !== 'unreadable' && isStale(owner)) {
    if ((await takeOver(file, owner, mode)) && again) return tryOnce(file, me, mode, attempts - 1);
    return { owner, path: `${file}.takeover` };
  }
  return { owner, path: file };
}

export interface LockFileOptions {
  /** Keep trying this long (ms) while another live process holds the lock; default 0. */
  waitMs?: number;
  /** Mode of the lock file; default 0644. */
  mode?: number;
}

/** Take the lock `file`: `{release}`, or `{held}` when another live owner still holds it after `waitMs`. */
export async function acquireLockFile(file: string, options: LockFileOptions = {}): Promise<LockFileResult> {
  const mode = options.mode ?? 0o644;
  const me: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(16).toString('hex'),
  };
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    const held = await tryOnce(file, me, mode);
    if (held === undefined) break;
    if (Date.now() >= deadline) return { held };
    await new Promise((r) => setTimeout(r, POLL_MS + Math.floor(Math.random() * POLL_MS)));
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      const now = await readLockOwner(file);
      if (typeof now === 'object' && now.nonce === me.nonce) await fsp.rm(file, { force: true });
    },
  };
}

/** This host's name, as lock owners record it. */
export function lockHost(): string {
  return hostname();
}
