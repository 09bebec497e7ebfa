/**
 * A repository that lost files is never mistaken for a new one (ADR 0003 "Lost files"): the
 * published chain a client needs (`1..N.root.json`, `timestamp.json`, the snapshot it lists,
 * the roles the snapshot lists) is checked on open, and a publish never rewrites a versioned
 * file or reuses a version number found on disk (a client or CDN may hold that file).
 */
import { RepositoryError } from './errors.js';
import type { MetadataStore } from './store.js';
import { quote } from '../util/json.js';

/** Temporary files of an interrupted atomic write (util/fs.ts `tempPathFor`). */
const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;
const VERSIONED = /^(\d+)\.(.+)\.json$/;

export function incomplete(location: string, file: string, why: string): RepositoryError {
  return new RepositoryError('REPOSITORY_INCOMPLETE', `${location}: ${quote(file)} is missing (${why})`, {
    details: { path: file },
    hint: `restore ${file} (and the rest of metadata/) from a backup or from the server clients fetch from; never re-initialise or publish over it: clients that trusted it would refuse every new version`,
  });
}

/** Highest version of each role found as `<version>.<role>.json` among `files`. */
export function versionsOnDisk(files: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of files) {
    const m = VERSIONED.exec(f);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    let role: string;
    try {
      role = decodeURIComponent(m[2]);
    } catch {
      continue;
    }
    out.set(role, Math.max(out.get(role) ?? 0, Number(m[1])));
  }
  return out;
}

/**
 * Check the published file names before loading: every root version 1..N (a client pinned at
 * any of them walks the chain, TUF §5.3), and `timestamp.json` once any root is published
 * (publish writes the timestamp before the first root). Without both, files of a version
 * above 1 mean lost files, not a new repository.
 */
export function checkPublishedFiles(location: string, files: string[]): void {
  const versions = versionsOnDisk(files);
  const latestRoot = versions.get('root') ?? 0;
  for (let v = 1; v <= latestRoot; v++) {
    if (!files.includes(`${v}.root.json`))
      throw incomplete(location, `metadata/${v}.root.json`, `root v${latestRoot} is published`);
  }
  if (files.includes('timestamp.json')) return;
  if (latestRoot > 0)
    throw incomplete(location, 'metadata/timestamp.json', `root v${latestRoot} is published`);
  for (const [role, v] of versions) {
    if (v > 1) throw incomplete(location, 'metadata/timestamp.json', `${role} v${v} is published`);
  }
}

/** A directory of decoded role copies (`<version>.<first segment>`, ADR 0012), or one inside it. */
const DECODED_DIR = /^\d+\.[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Role names are at most 200 characters URL-encoded (./names.ts): at most 100 segments. */
const MAX_DECODED_DEPTH = 100;

/**
 * Remove temporary files left by a process killed in the middle of a write (under the lock),
 * in `dirs` and, under `metadata/`, in the directories of decoded role copies
 * (`metadata/3.targets/.releases.json.<pid>.<rand>.tmp`), which are removed once empty.
 */
export async function removeLeftoverTemps(store: MetadataStore, dirs: string[]): Promise<void> {
  for (const dir of dirs) await removeTempsIn(store, dir, dir === 'metadata' ? 0 : -1);
}

async function removeTempsIn(store: MetadataStore, dir: string, depth: number): Promise<void> {
  let left = 0;
  for (const f of await listDir(store, dir)) {
    if (TEMP_FILE.test(f)) {
      await store.remove(`${dir}/${f}`);
      continue;
    }
    left++;
    const nested = depth === 0 ? DECODED_DIR.test(f) && !f.endsWith('.json') : depth > 0 && SEGMENT.test(f);
    if (nested && depth < MAX_DECODED_DEPTH) await removeTempsIn(store, `${dir}/${f}`, depth + 1);
  }
  if (depth > 0 && left === 0) await store.removeEmptyDir?.(dir);
}

/** The entries of `dir`; none when it is a regular file (a `5.x` file is not a decoded directory). */
async function listDir(store: MetadataStore, dir: string): Promise<string[]> {
  try {
    return await store.list(dir);
  } catch (e) {
    if ((e as { details?: { errno?: unknown } }).details?.errno === 'ENOTDIR') return [];
    throw e;
  }
}
