/**
 * Publishing (CNAB-Sec doc 302 "New or updated bundles" and the periodic timestamp/snapshot
 * refresh): sign the changed roles until their thresholds are met, make new snapshot and
 * timestamp versions, and write them (./publish-write.ts) so that every prefix of the writes
 * is the old or the new state for clients. Run it under the repository lock
 * (`LocalRepository.transaction`), so that no other writer changes the state meanwhile.
 */
import { createHash } from 'node:crypto';
import { authorityStatus, type AuthorityStatus } from './authority.js';
import { TufError } from './errors.js';
import { metadataFileName } from './policy.js';
import { METADATA_DIR, STAGED_DIR, serialize, stagedPath, type LocalRepository } from './repository.js';
import { signUntilThreshold, type SignerProvider } from './signing.js';
import type { AnyMetadata } from './authority.js';
import { assertClientsCanUpdate, withPublishedView } from './consistency.js';
import { clearStagedFiles, stagedFiles } from './files.js';
import { incomplete, removeLeftoverTemps } from './completeness.js';
import { writePublish, type Pending } from './publish-write.js';
import { Signature, type Root, type Metadata } from '@tufjs/models';
import { canonicalize } from '@tufjs/canonical-json';

export interface PublishOptions {
  signers: SignerProvider;
  now?: Date;
  /** Test hook: called before each file write; throwing simulates a crash half-way. */
  beforeWrite?: (file: string) => void;
}

export interface PublishResult {
  published: { role: string; version: number }[];
  /** Roles a new root re-keys that could not also be signed by the old root's keys (see `transitionSign`). */
  warnings?: string[];
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
 * ROLE_EXPIRED for `role` vN: metadata already expired is never published (TUF §5.4.4 and
 * §5.5.8: clients refuse it). Root, targets and delegated roles are renewed with `resign`;
 * snapshot and timestamp get their expiry from the policy in cnabsec.json.
 */
function expiredError(role: string, md: AnyMetadata, staged: boolean): TufError {
  const refreshed = role === 'snapshot' || role === 'timestamp';
  return new TufError(
    'ROLE_EXPIRED',
    `${staged ? 'staged ' : ''}${role} v${md.signed.version} expired at ${md.signed.expires}`,
    {
      details: { role, version: md.signed.version, expires: md.signed.expires, staged },
      hint: refreshed
        ? `the expiry policy gives ${role} a period already over: fix expiry.${role} in cnabsec.json (at least 2h), then publish`
        : `stage a new version with \`cnabsec resign <repo> ${role}\` (with a longer --expires if needed, or a longer policy period), then publish`,
    },
  );
}

/**
 * Refuse to publish while a role is expired at signing time: a published role that is not being
 * replaced, or a staged version that would be signed already expired (e.g. staged by `init`
 * with a short expiry and published later).
 */
export function checkNotExpired(repo: LocalRepository, now: Date, replaced: Set<string>): void {
  for (const role of ['root', 'targets', ...repo.delegationParents().keys()]) {
    const md = repo.current(role);
    if (md?.signed.isExpired(now)) throw expiredError(role, md, replaced.has(role));
  }
}

/** The last guard before writing: no file of this publish may be expired already at `now`. */
function refuseExpired(pending: Pending[], now: Date): void {
  for (const { role, md } of pending) if (md.signed.isExpired(now)) throw expiredError(role, md, false);
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
  return repo.newMetadata('snapshot', now, { meta }, repo.nextVersion('snapshot'));
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
    repo.nextVersion('timestamp'),
  );
}

/**
 * While a publish writes a new root, clients still verify the new timestamp, snapshot and
 * targets with the OLD root until `N+1.root.json` is in place (TUF §5.3: they look for the next
 * root, and use the trusted one when there is none). So those roles are also signed up to the
 * old root's threshold, with its keys where this machine has them: any prefix of the publish
 * then verifies under both roots. Extra signatures are ignored by clients (TUF §5.4.2). When
 * an old key is gone (lost), the role is listed in `warnings`: a crash between the new
 * timestamp and the new root would leave clients refusing until the publish is run again.
 */
async function transitionSign(
  repo: LocalRepository,
  role: string,
  md: AnyMetadata,
  signers: SignerProvider,
): Promise<void> {
  const trusted = repo.published.get('root') as Metadata<Root> | undefined;
  const r = trusted?.signed.roles[role];
  if (!TRANSITION_ROLES.has(role) || !repo.staged.has('root') || trusted === undefined || r === undefined)
    return;
  const authority = {
    source: `root v${trusted.signed.version}`,
    keys: trusted.signed.keys,
    keyIDs: r.keyIDs,
    threshold: r.threshold,
  };
  let status = authorityStatus(md, authority);
  const data = Buffer.from(canonicalize(md.signed.toJSON()));
  for (const keyid of status.missing) {
    if (status.valid.length >= status.threshold) break;
    const signer = await signers(role, keyid, {
      index: authority.keyIDs.indexOf(keyid) + 1,
      count: authority.keyIDs.length,
    });
    if (signer === undefined) continue;
    md.signatures[keyid] = new Signature({
      keyID: keyid,
      sig: Buffer.from(await signer.sign(data)).toString('hex'),
    });
    status = authorityStatus(md, authority);
  }
  if (!status.met)
    transitionWarnings
      .get(repo)
      ?.push(
        `${role} v${md.signed.version}: ${status.valid.length}/${status.threshold} signatures of ${authority.source}; an interrupted publish would leave clients of ${authority.source} refusing until it is run again`,
      );
}

// root itself: never by the old keys in a recovery (./recovery.ts), else authoritiesFor has both
const TRANSITION_ROLES = new Set(['targets', 'snapshot', 'timestamp']);
const transitionWarnings = new WeakMap<LocalRepository, string[]>();

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
    await transitionSign(repo, role, md, signers);
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
  refuseExpired(all, now);
  await writePublish(repo, all, targetFiles, options.beforeWrite);
  for (const { role, md } of all) {
    repo.published.set(role, md);
    if (repo.staged.delete(role)) await repo.store.remove(stagedPath(role));
  }
  const warnings = transitionWarnings.get(repo) ?? [];
  return {
    published: all.map(({ role, md }) => ({ role, version: md.signed.version })),
    ...(warnings.length === 0 ? {} : { warnings }),
  };
}

/** Publish every staged role with new snapshot and timestamp versions. */
export async function publish(repo: LocalRepository, options: PublishOptions): Promise<PublishResult> {
  transitionWarnings.set(repo, []);
  await removeLeftoverTemps(repo.store, [METADATA_DIR, STAGED_DIR]);
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

/** What a publish to a metadata repository server uploads (../workflows/remote-publish.ts). */
export interface UploadPlan {
  /** Signed roles: the staged ones the developer holds keys of, and a new snapshot unless the server holds it. */
  pending: Pending[];
  /** Staged target files (in-toto layouts, links, keys) the metadata lists. */
  targetFiles: { name: string; file: string; data: Uint8Array }[];
  warnings: string[];
}

/**
 * Sign for an upload to a server that holds the keys of `managed` (timestamp, and maybe
 * snapshot; doc 302 setup; none for a developer-managed repository): the staged roles, then
 * a new snapshot and timestamp when the developer holds their keys. The server signs the rest
 * after it accepted the upload. Nothing is written.
 */
export async function signForUpload(
  repo: LocalRepository,
  options: PublishOptions,
  managed: ReadonlySet<string>,
): Promise<UploadPlan> {
  transitionWarnings.set(repo, []);
  const now = options.now ?? new Date();
  const items = [...repo.staged].filter(([role]) => !managed.has(role)).map(([role, md]) => ({ role, md }));
  if (items.length === 0) {
    throw new TufError('ROLE_NOT_STAGED', `${repo.config.name}: nothing staged to publish`, {
      hint: 'stage a change first (`cnabsec bundle add`, `resign`, `key rotate`); the server refreshes its own roles',
    });
  }
  const staged = new Set(items.map((i) => i.role));
  checkNotExpired(repo, now, staged);
  assertClientsCanUpdate(repo, staged);
  const pending = await signed(repo, items, options.signers);
  if (!managed.has('snapshot')) {
    const bytesOf = new Map(pending.map((p) => [p.role, p.bytes]));
    const md = await makeSnapshot(
      repo,
      now,
      (role) => repo.current(role),
      (role) => bytesOf.get(role),
    );
    const snap = await signedOne(repo, 'snapshot', md, options.signers);
    pending.push(snap);
    // a developer-managed repository on a server: the timestamp is the developer's too
    if (!managed.has('timestamp')) {
      const ts = makeTimestamp(repo, now, snap.md, snap.bytes);
      pending.push(await signedOne(repo, 'timestamp', ts, options.signers));
    }
  }
  refuseExpired(pending, now);
  return { pending, targetFiles: await stagedFiles(repo), warnings: transitionWarnings.get(repo) ?? [] };
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
  transitionWarnings.set(repo, []);
  await removeLeftoverTemps(repo.store, [METADATA_DIR, STAGED_DIR]);
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
  if (bytes === undefined) throw incomplete(repo.store.location, file, `timestamp.json lists it`);
  return commit(repo, [], { md: snap, bytes }, now, options);
}
