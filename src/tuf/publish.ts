/**
 * Publishing (CNAB-Sec doc 302 "New or updated bundles" and the periodic timestamp/snapshot
 * refresh): sign the changed roles until their thresholds are met, make new snapshot and
 * timestamp versions, and write them so that a reader always sees a complete repository.
 *
 * Write order: new versioned files first (delegated roles, targets, root, snapshot), the
 * `root.json` copy next, the unversioned `timestamp.json` last. Clients enter through the
 * timestamp, so until it is renamed into place the previous state is what they see; a failure
 * before that removes the new files and restores `root.json`. A delegated role is written under
 * its URL-encoded name and, same bytes, decoded (`N.targets/releases.json`) for static hosts that
 * decode `%2F` (policy.ts `decodedMetadataFileName`, ADR 0008-names).
 */
import { createHash } from 'node:crypto';
import type { AuthorityStatus } from './authority.js';
import { RepositoryError, TufError } from './errors.js';
import { decodedMetadataFileName, metadataFileName } from './policy.js';
import { METADATA_DIR, serialize, stagedPath, type LocalRepository } from './repository.js';
import { signUntilThreshold, type SignerProvider } from './signing.js';
import type { AnyMetadata } from './authority.js';
import { assertClientsCanUpdate, withPublishedView } from './consistency.js';
import { clearStagedFiles, stagedFiles } from './files.js';

export interface PublishOptions {
  signers: SignerProvider;
  now?: Date;
  /** Test hook: called before each file write; throwing simulates a crash half-way. */
  beforeWrite?: (file: string) => void;
}

export interface PublishResult {
  published: { role: string; version: number }[];
}

interface Pending {
  role: string;
  md: AnyMetadata;
  /** The signed metadata as written: serialized once, used for lengths, hashes and the file. */
  bytes: Uint8Array;
}

/** Sign `items` up to their thresholds, then serialize each once. */
async function signed(
  repo: LocalRepository,
  items: { role: string; md: AnyMetadata }[],
  signers: SignerProvider,
): Promise<Pending[]> {
  await signAll(repo, items, signers);
  return items.map(({ role, md }) => ({ role, md, bytes: serialize(md) }));
}

async function signedOne(
  repo: LocalRepository,
  role: string,
  md: AnyMetadata,
  signers: SignerProvider,
): Promise<Pending> {
  await signAll(repo, [{ role, md }], signers);
  return { role, md, bytes: serialize(md) };
}

function missingMessage(role: string, statuses: AuthorityStatus[]): string[] {
  return statuses
    .filter((s) => !s.met)
    .map(
      (s) =>
        `${role}: ${s.valid.length}/${s.threshold} valid signatures from ${s.source}; still needed from: ${s.missing.join(', ')}`,
    );
}

/**
 * Refuse to publish while a role is expired at signing time: a published role that is not being
 * replaced, or a staged version that would be signed already expired (e.g. staged by `init`
 * with a short expiry and published later).
 */
function checkNotExpired(repo: LocalRepository, now: Date, replaced: Set<string>): void {
  for (const role of ['root', 'targets', ...repo.delegationParents().keys()]) {
    const md = repo.current(role);
    if (md?.signed.isExpired(now)) {
      const staged = replaced.has(role) ? 'staged ' : '';
      throw new TufError(
        'ROLE_EXPIRED',
        `${staged}${role} v${md.signed.version} expired at ${md.signed.expires}`,
        {
          details: { role, version: md.signed.version, expires: md.signed.expires, staged: staged !== '' },
          hint: `stage a new version with \`cnabsec resign <repo> ${role}\` (with a longer --expires if needed), then publish`,
        },
      );
    }
  }
}

function nextVersion(repo: LocalRepository, role: string): number {
  return (repo.published.get(role)?.signed.version ?? 0) + 1;
}

/**
 * The new snapshot: version and length of every targets role (TUF §4.4). Lengths let clients
 * download targets metadata of any size (without them tuf-js caps it at 5 MB). `signedBytes`
 * gives the bytes of a role about to be published; others are measured in the store.
 */
async function makeSnapshot(
  repo: LocalRepository,
  now: Date,
  from: (role: string) => AnyMetadata | undefined,
  signedBytes: (role: string) => Uint8Array | undefined = () => undefined,
): Promise<AnyMetadata> {
  // Keep every role the previous snapshot listed, also after its delegation was removed:
  // clients refuse a snapshot that drops a file their trusted snapshot lists (TUF §5.5.5).
  const previous = repo.published.get('snapshot')?.signed as
    { meta?: Record<string, { version: number; length?: number }> } | undefined;
  const meta: Record<string, { version: number; length?: number }> = Object.fromEntries(
    Object.entries(previous?.meta ?? {}).map(([file, m]) => [
      file,
      { version: m.version, ...(m.length === undefined ? {} : { length: m.length }) },
    ]),
  );
  for (const role of ['targets', ...repo.delegationParents().keys()]) {
    const md = from(role);
    if (md === undefined) continue;
    const version = md.signed.version;
    const bytes =
      signedBytes(role) ?? (await repo.store.read(`${METADATA_DIR}/${metadataFileName(role, version)}`));
    meta[`${role}.json`] = { version, ...(bytes === undefined ? {} : { length: bytes.length }) };
  }
  return repo.newMetadata('snapshot', now, { meta }, nextVersion(repo, 'snapshot'));
}

function makeTimestamp(
  repo: LocalRepository,
  now: Date,
  snapshot: AnyMetadata,
  bytes: Uint8Array,
): AnyMetadata {
  const snapshotMeta = {
    version: snapshot.signed.version,
    length: bytes.length,
    hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
  };
  return repo.newMetadata(
    'timestamp',
    now,
    { meta: { 'snapshot.json': snapshotMeta } },
    nextVersion(repo, 'timestamp'),
  );
}

/** Sign every pending role up to threshold; throw THRESHOLD_NOT_MET listing what is missing. */
async function signAll(
  repo: LocalRepository,
  pending: { role: string; md: AnyMetadata }[],
  signers: SignerProvider,
): Promise<void> {
  const problems: string[] = [];
  const needed: Record<string, string[]> = {};
  for (const { role, md } of pending) {
    const statuses = await signUntilThreshold(repo, role, md, signers);
    const missing = missingMessage(role, statuses);
    if (missing.length > 0) {
      problems.push(...missing);
      needed[role] = statuses.filter((s) => !s.met).flatMap((s) => s.missing);
    }
  }
  if (problems.length > 0) {
    // Nothing is written on failure: signatures made here with key-store keys are made again
    // by the next publish; offline signatures are added with sign / add-signature.
    throw new TufError('THRESHOLD_NOT_MET', `cannot publish: ${problems.join('; ')}`, {
      details: { needed },
      hint: 'sign with `cnabsec sign <repo> <role> --key <id>` (or payload + add-signature), or set the passphrase variables of those keys',
    });
  }
}

/** Write the files; on failure remove what was written and restore root.json. */
async function writeAll(
  repo: LocalRepository,
  pending: Pending[],
  options: PublishOptions,
  targetFiles: { file: string; data: Uint8Array }[] = [],
): Promise<void> {
  const order = ['delegated', 'targets', 'root', 'snapshot', 'timestamp'];
  const rank = (r: string): number =>
    order.indexOf(['targets', 'root', 'snapshot', 'timestamp'].includes(r) ? r : 'delegated');
  const files: [string, Uint8Array][] = [...pending]
    .sort((a, b) => rank(a.role) - rank(b.role))
    .flatMap(({ role, md, bytes }) => {
      // A delegated role also where %2F-decoding static hosts look (policy.ts): same bytes.
      const decoded = decodedMetadataFileName(role, md.signed.version);
      const file: [string, Uint8Array] = [
        `${METADATA_DIR}/${metadataFileName(role, md.signed.version)}`,
        bytes,
      ];
      return decoded === undefined ? [file] : [file, [`${METADATA_DIR}/${decoded}`, bytes]];
    });
  const root = pending.find((p) => p.role === 'root');
  if (root !== undefined) files.splice(files.length - 1, 0, [`${METADATA_DIR}/root.json`, root.bytes]);
  // Target files (layouts, keys, links) first: content-addressed, new names only, so a
  // rollback never removes a file an earlier publish wrote.
  const fresh: [string, Uint8Array][] = [];
  for (const t of targetFiles)
    if ((await repo.store.read(t.file)) === undefined) fresh.push([t.file, t.data]);
  files.unshift(...fresh);
  const previousRootCopy = await repo.store.read(`${METADATA_DIR}/root.json`);
  const written: string[] = [];
  try {
    for (const [file, data] of files) {
      options.beforeWrite?.(file);
      await repo.store.write(file, data);
      written.push(file);
    }
  } catch (e) {
    for (const file of written.reverse()) {
      if (file.endsWith('/root.json') && previousRootCopy !== undefined)
        await repo.store.write(file, previousRootCopy);
      else await repo.store.remove(file);
    }
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

/**
 * Sign, then write. The timestamp is made last, over the signed snapshot's bytes, since it
 * lists the snapshot's length and hash (TUF spec §4.6).
 */
async function commit(
  repo: LocalRepository,
  pending: Pending[],
  snapshot: { md: AnyMetadata; bytes: Uint8Array },
  now: Date,
  options: PublishOptions,
  targetFiles: { file: string; data: Uint8Array }[] = [],
): Promise<PublishResult> {
  const ts = makeTimestamp(repo, now, snapshot.md, snapshot.bytes);
  const all = [...pending, await signedOne(repo, 'timestamp', ts, options.signers)];
  await writeAll(repo, all, options, targetFiles);
  for (const { role, md } of all) {
    repo.published.set(role, md);
    if (repo.staged.delete(role)) await repo.store.remove(stagedPath(role));
  }
  return { published: all.map(({ role, md }) => ({ role, version: md.signed.version })) };
}

/** Publish every staged role with new snapshot and timestamp versions. */
export async function publish(repo: LocalRepository, options: PublishOptions): Promise<PublishResult> {
  const now = options.now ?? new Date();
  const staged = new Set(repo.staged.keys());
  checkNotExpired(repo, now, staged);
  assertClientsCanUpdate(repo, staged);
  // Sign the changed roles first: the snapshot lists the length of their signed bytes.
  const roles = await signed(
    repo,
    [...repo.staged].map(([role, md]) => ({ role, md })),
    options.signers,
  );
  const bytesOf = new Map(roles.map((p) => [p.role, p.bytes]));
  const snapshot = await makeSnapshot(
    repo,
    now,
    (role) => repo.current(role),
    (role) => bytesOf.get(role),
  );
  const snap = await signedOne(repo, 'snapshot', snapshot, options.signers);
  const result = await commit(repo, [...roles, snap], snap, now, options, await stagedFiles(repo));
  await clearStagedFiles(repo);
  return result;
}

export interface RefreshOptions extends PublishOptions {
  /** Renew a role when it expires within this many seconds (default: half its period). */
  within?: number;
  force?: boolean;
}

/**
 * The doc 302 periodic task: a new timestamp when it is about to expire, and a new snapshot
 * too when the snapshot is. Staged changes are not published. Idempotent.
 */
export function refresh(repo: LocalRepository, options: RefreshOptions): Promise<PublishResult> {
  // Sign with the keys clients trust now: a staged (unpublished) root may list new keys.
  return withPublishedView(repo, () => refreshPublished(repo, options));
}

async function refreshPublished(repo: LocalRepository, options: RefreshOptions): Promise<PublishResult> {
  const now = options.now ?? new Date();
  const ts = repo.published.get('timestamp');
  const snap = repo.published.get('snapshot');
  if (ts === undefined || snap === undefined) {
    throw new TufError('ROLE_NOT_STAGED', `${repo.config.name} has not been published yet`, {
      hint: 'run `cnabsec publish <repo>` first',
    });
  }
  const due = (md: AnyMetadata, role: 'snapshot' | 'timestamp'): boolean => {
    const within = options.within ?? repo.config.expiry[role] / 2;
    return Date.parse(md.signed.expires) - now.getTime() <= within * 1000;
  };
  // --force renews the timestamp; the snapshot only when it is itself due.
  const needSnapshot = due(snap, 'snapshot');
  if (!needSnapshot && !due(ts, 'timestamp') && options.force !== true) return { published: [] };
  checkNotExpired(repo, now, new Set());
  if (needSnapshot) {
    const md = await makeSnapshot(repo, now, (role) => repo.published.get(role));
    const fresh = await signedOne(repo, 'snapshot', md, options.signers);
    return commit(repo, [fresh], fresh, now, options);
  }
  // Only a new timestamp: it lists the published snapshot file's own bytes.
  const file = `${METADATA_DIR}/${metadataFileName('snapshot', snap.signed.version)}`;
  const bytes = await repo.store.read(file);
  if (bytes === undefined) {
    throw new RepositoryError('REPO_CORRUPT', `published snapshot ${file} is missing`, {
      details: { path: file },
    });
  }
  return commit(repo, [], { md: snap, bytes }, now, options);
}
