/**
 * Crash-safe file writing. Every file cnabsec writes goes to a temporary file in the same
 * directory, is flushed, and is renamed over its target, so a reader sees either the old or
 * the new content and never a partial file.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { traceRead } from './trace.js';

export interface WriteOptions {
  /** File mode of the new file (default 0o644). */
  mode?: number;
}

/** Temporary sibling path of `file`, unique per call. */
export function tempPathFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
}

/** Write `data` to `file` atomically (write temp, fsync, rename). */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(file);
  const handle = await fsp.open(tmp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Write `data` to `file` only if `file` does not exist, atomically: a temporary file is written
 * and flushed, then hard-linked to `file` (which fails with EEXIST when it exists, also when
 * another writer won a race), then the temporary name is removed. Resolves to false when `file`
 * existed; other failures are errno errors. Used for key backups and the repository lock.
 */
export async function createNewFile(file: string, data: string, mode: number): Promise<boolean> {
  const tmp = tempPathFor(file);
  const handle = await fsp.open(tmp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException | null)?.code === 'EEXIST') return false;
    throw e;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Read a file named by a user (a key, payload, root, map, --custom file) of at most `maxBytes`:
 * a regular file only (a FIFO or /dev/zero would block or never end), opened without
 * blocking, at most `maxBytes` + 1 bytes read. Errors are errno-style (`code` ENOENT, EISDIR,
 * EFTYPE for "not a regular file", EFBIG for too large), for the caller to wrap in its typed error.
 */
export async function readUserFile(file: string, maxBytes: number): Promise<Buffer> {
  const fh = await fsp.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error(`${file}: is a directory`), { code: 'EISDIR' });
    if (!st.isFile()) throw Object.assign(new Error(`${file}: not a regular file`), { code: 'EFTYPE' });
    if (st.size > maxBytes)
      throw Object.assign(new Error(`${file}: larger than ${maxBytes} bytes`), { code: 'EFBIG' });
    // one byte more than its size: a file that grows while read is refused, not cut
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length)
        throw Object.assign(new Error(`${file}: changed while it was read`), { code: 'EAGAIN' });
    }
    traceRead(file, n);
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}
