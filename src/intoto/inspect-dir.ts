/**
 * The inspections' private working directory: a bounded copy of the source directory, so
 * that an inspection can neither write into the user's directory (through a symlink or
 * otherwise) nor see more than that directory holds.
 *
 * - regular files are copied (copy-on-write where the file system can), directories are
 *   created, everything else (FIFOs, sockets, devices) is left out;
 * - a symlink whose target, fully resolved, is inside the source directory is re-created as
 *   a relative symlink to the copy of that target; a symlink leading out of the directory (or
 *   broken) is left out, never followed;
 * - at most `maxEntries` entries and `maxBytes` bytes of file content, else
 *   `INTOTO_INSPECTION_DIR_TOO_LARGE`; the destination, if it lies inside the source, is
 *   skipped.
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { IntotoError } from './errors.js';

export interface CopyLimits {
  /** Most entries (files, directories, symlinks) copied (default 100 000). */
  maxEntries?: number;
  /** Most bytes of file content copied (default 8 GiB). */
  maxBytes?: number;
}

export const DEFAULT_COPY_MAX_ENTRIES = 100_000;
export const DEFAULT_COPY_MAX_BYTES = 8 * 1024 ** 3;

interface Walk {
  root: string;
  dest: string;
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  links: { from: string; at: string }[];
}

function tooLarge(w: Walk, what: string): IntotoError {
  return new IntotoError(
    'INTOTO_INSPECTION_DIR_TOO_LARGE',
    `the inspection directory ${w.root} holds more than ${what}`,
    {
      details: { dir: w.root, maxEntries: w.maxEntries, maxBytes: w.maxBytes },
      hint: 'point --inspection-dir at a directory that holds only what the inspections need',
    },
  );
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

async function copyEntry(w: Walk, src: string, dst: string, pending: [string, string][]): Promise<void> {
  const st = await fsp.lstat(src);
  if (st.isDirectory()) {
    if (src === w.dest) return; // our own destination, when it lies inside the source
    await fsp.mkdir(dst, { mode: 0o700 });
    for (const name of await fsp.readdir(src)) pending.push([path.join(src, name), path.join(dst, name)]);
  } else if (st.isFile()) {
    w.bytes += st.size;
    if (w.bytes > w.maxBytes) throw tooLarge(w, `${w.maxBytes} bytes`);
    await fsp.copyFile(src, dst, constants.COPYFILE_FICLONE);
    const copied = (await fsp.stat(dst)).size; // it may have grown meanwhile
    w.bytes += copied - st.size;
    if (w.bytes > w.maxBytes) throw tooLarge(w, `${w.maxBytes} bytes`);
  } else if (st.isSymbolicLink()) {
    w.links.push({ from: src, at: dst });
  }
}

/** Re-create the symlinks that stay inside the tree, relative to the copy. */
async function linkInside(w: Walk): Promise<void> {
  for (const { from, at } of w.links) {
    const real = await fsp.realpath(from).catch(() => undefined);
    if (real === undefined || !inside(w.root, real) || inside(w.dest, real)) continue;
    const target = path.join(w.dest, path.relative(w.root, real));
    await fsp.symlink(path.relative(path.dirname(at), target) || '.', at);
  }
}

/** Copy `source` (its entries) into the existing empty directory `dest`. */
export async function copyInspectionDir(
  source: string,
  dest: string,
  limits: CopyLimits = {},
): Promise<void> {
  let root: string;
  try {
    root = await fsp.realpath(source);
    if (!(await fsp.stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new IntotoError('INTOTO_IO', `cannot read the inspection source directory ${source}`, {
      cause: e,
      hint: 'give --inspection-dir an existing directory',
    });
  }
  const w: Walk = {
    root,
    dest: await fsp.realpath(dest),
    entries: 0,
    bytes: 0,
    maxEntries: limits.maxEntries ?? DEFAULT_COPY_MAX_ENTRIES,
    maxBytes: limits.maxBytes ?? DEFAULT_COPY_MAX_BYTES,
    links: [],
  };
  const pending: [string, string][] = (await fsp.readdir(root)).map((n) => [
    path.join(root, n),
    path.join(w.dest, n),
  ]);
  try {
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (++w.entries > w.maxEntries) throw tooLarge(w, `${w.maxEntries} entries`);
      await copyEntry(w, next[0], next[1], pending);
    }
    await linkInside(w);
  } catch (e) {
    if (e instanceof IntotoError) throw e;
    throw new IntotoError(
      'INTOTO_IO',
      `cannot copy the inspection directory ${root}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}
