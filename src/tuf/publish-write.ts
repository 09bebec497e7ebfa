/**
 * Writing a publish (ADR 0003 "Write order"): every prefix of the writes is the old or the new
 * state for any client (ours and tuf-js, which probe `N+1.root.json` first, then read
 * `timestamp.json`):
 *
 * 1. target files, delegated roles (under their URL-encoded name and, same bytes, decoded as
 *    `N.targets/releases.json` for static hosts that decode `%2F`), targets, snapshot: new
 *    versioned names no timestamp lists yet, invisible to clients;
 * 2. `timestamp.json`: the commit point, the new state becomes visible;
 * 3. `N+1.root.json`, then the `root.json` copy. Until the new root appears, clients verify the
 *    new timestamp, snapshot and targets with the OLD root: publish signs them with the keys of
 *    both roots (./publish.ts `transitionSign`), so the state after step 2 verifies under both.
 *
 * A versioned file is never rewritten: an existing one with the same bytes (left by an
 * interrupted publish) is kept, one with other bytes refuses the publish (PUBLISHED_FILE_EXISTS).
 * The checks run under the repository lock, before anything is written.
 */
import { RepositoryError } from './errors.js';
import { decodedMetadataFileName, metadataFileName } from './policy.js';
import { METADATA_DIR, type LocalRepository } from './repository.js';
import type { AnyMetadata } from './authority.js';

export interface Pending {
  role: string;
  md: AnyMetadata;
  /** The signed metadata as written: serialized once, used for lengths, hashes and the file. */
  bytes: Uint8Array;
}

interface FileWrite {
  file: string;
  data: Uint8Array;
  /** Versioned (immutable) files are created once; `timestamp.json` and `root.json` are replaced. */
  versioned: boolean;
}

const RANK = ['delegated', 'targets', 'snapshot', 'timestamp', 'root'];
const rank = (role: string): number => Math.max(RANK.indexOf(role), 0);

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/** The writes in commit order (see the module comment), without files already on disk as they are. */
async function plan(
  repo: LocalRepository,
  pending: Pending[],
  targetFiles: { file: string; data: Uint8Array }[],
): Promise<FileWrite[]> {
  const out: FileWrite[] = [];
  for (const t of targetFiles) out.push({ file: t.file, data: t.data, versioned: true });
  for (const { role, md, bytes } of [...pending].sort((a, b) => rank(a.role) - rank(b.role))) {
    const file = `${METADATA_DIR}/${metadataFileName(role, md.signed.version)}`;
    out.push({ file, data: bytes, versioned: role !== 'timestamp' });
    // A delegated role also where %2F-decoding static hosts look (ADR 0012): same bytes.
    const decoded = decodedMetadataFileName(role, md.signed.version);
    if (decoded !== undefined) out.push({ file: `${METADATA_DIR}/${decoded}`, data: bytes, versioned: true });
  }
  const root = pending.find((p) => p.role === 'root');
  const latest = repo.published.get('root');
  const rootBytes =
    root?.bytes ??
    (latest === undefined
      ? undefined
      : await repo.store.read(`${METADATA_DIR}/${metadataFileName('root', latest.signed.version)}`));
  const copy = await repo.store.read(`${METADATA_DIR}/root.json`);
  // the bootstrap copy of the newest root, also repaired when an interrupted publish left it old
  if (rootBytes !== undefined && (copy === undefined || !same(copy, rootBytes)))
    out.push({ file: `${METADATA_DIR}/root.json`, data: rootBytes, versioned: false });
  const writes: FileWrite[] = [];
  for (const w of out) {
    const existing = w.versioned ? await repo.store.read(w.file) : undefined;
    if (existing === undefined) writes.push(w);
    else if (!same(existing, w.data) && !w.file.startsWith(`${METADATA_DIR}/targets/`)) {
      throw new RepositoryError(
        'PUBLISHED_FILE_EXISTS',
        `${repo.store.location}/${w.file} already exists with other content; a published version is never rewritten`,
        {
          details: { path: w.file },
          hint: `clients or caches may hold ${w.file}; if no timestamp ever listed it (an interrupted publish), move it out of metadata/ and publish again`,
        },
      );
    }
  }
  return writes;
}

/** The directories of decoded role copies among `files`, deepest first, removed when empty. */
async function removeDecodedDirs(repo: LocalRepository, files: string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    // metadata/<version>.<segment>/.../<last>.json: every directory below metadata/
    for (let i = parts.length - 1; i > 1; i--) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await repo.store.removeEmptyDir?.(d);
}

/** Write a publish in commit order; on failure before the timestamp, remove what was written. */
export async function writePublish(
  repo: LocalRepository,
  pending: Pending[],
  targetFiles: { file: string; data: Uint8Array }[],
  beforeWrite?: (file: string) => void,
): Promise<void> {
  const writes = await plan(repo, pending, targetFiles);
  const written: string[] = [];
  const attempted: string[] = [];
  let committed = false;
  try {
    for (const { file, data } of writes) {
      beforeWrite?.(file);
      attempted.push(file);
      await repo.store.write(file, data);
      if (file === `${METADATA_DIR}/timestamp.json`) committed = true;
      else written.push(file);
    }
  } catch (e) {
    if (committed) {
      // The new timestamp is visible and verifies under the old root too: never roll it back.
      throw new RepositoryError(
        'PUBLISH_FAILED',
        `publishing to ${repo.store.location} stopped after the new timestamp: the new root is not written yet`,
        {
          cause: e,
          hint: 'clients still update; fix the cause (disk space, permissions) and run publish again to finish',
        },
      );
    }
    for (const file of written.reverse()) await repo.store.remove(file);
    await removeDecodedDirs(repo, attempted); // a failed write may have created its directory
    throw new RepositoryError(
      'PUBLISH_FAILED',
      `publishing to ${repo.store.location} failed; nothing was changed`,
      {
        cause: e,
        hint: 'fix the cause (disk space, permissions) and run publish again; staged changes are kept',
      },
    );
  }
}
