/**
 * What the server signs (doc 302 server-managed keys; issue 13 item 4; ADR 0022): the snapshot
 * and timestamp of ./build.ts, signed over their canonical JSON (TUF §4.2, as ../tuf/signing.ts
 * signs: @tufjs/canonical-json of `signed`) and serialized as `publish` writes them
 * (../tuf/repository-io.ts `serialize`), and the transaction body of an upload.
 */
import '../tuf/models-patch.js';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, Signature } from '@tufjs/models';
import type { JSONObject } from '@tufjs/models/dist/utils/types.js';
import type { Signer } from '../crypto/index.js';
import { serialize } from '../tuf/repository-io.js';
import { assertSignable } from '../tuf/signable.js';
import {
  buildSnapshot,
  buildTimestamp,
  stateAfter,
  type SnapshotSigned,
  type TimestampSigned,
} from './build.js';
import { uploadRefused } from './errors.js';
import type { OnlineKeys } from './online-keys.js';
import { heldKeyids, rootOf, rootSigners } from './service-keys.js';
import type { OnlineRole } from './service-types.js';
import {
  metaUpdates,
  stateOf,
  targetFileUpdates,
  versionConflict,
  type MetaUpdate,
  type StoredMeta,
  type TrustTx,
} from './store.js';
import type { RepositoryState, UploadFile, UploadLimits } from './upload-parse.js';
import type { AcceptedTargetFile } from './validate-meta.js';
import { validateUpload } from './validate.js';

/** Seconds each server-signed role stays valid. */
export interface OnlineExpiry {
  timestamp: number;
  snapshot: number;
}

/** `signed` signed by every signer, as the bytes to store. */
export async function signOnline(
  role: OnlineRole,
  signed: SnapshotSigned | TimestampSigned,
  signers: readonly Signer[],
): Promise<Uint8Array> {
  assertSignable(role, signed);
  const md = Metadata.fromJSON(role as never, { signed, signatures: [] } as unknown as JSONObject);
  const data = Buffer.from(canonicalize(md.signed.toJSON()));
  for (const s of signers)
    md.signatures[s.keyid] = new Signature({
      keyID: s.keyid,
      sig: Buffer.from(await s.sign(data)).toString('hex'),
    });
  return serialize(md);
}

/** `expires` for a role signed at `now`, whole seconds. */
export function expiryAt(now: Date, seconds: number): Date {
  return new Date((Math.floor(now.getTime() / 1000) + seconds) * 1000);
}

/** One role the server signed, as appended. */
export interface ServerSigned extends MetaUpdate {
  role: OnlineRole;
  expiresAt: Date;
}

export interface SignContext {
  keys: OnlineKeys | undefined;
  repo: string;
  now: Date;
  expiry: OnlineExpiry;
}

/**
 * Sign a new snapshot (when `snapshot`) and a new timestamp over `state` with the held keys its
 * root lists, each at the current version + 1. Returns the updates and the state with them;
 * undefined signers for a role asked for is a bug of the caller (validateUpload / the
 * refresh plan checked that the server holds a threshold).
 */
export async function signOnlineRoles(
  ctx: SignContext,
  state: RepositoryState,
  current: ReadonlyMap<string, StoredMeta>,
  roles: { snapshot: boolean; timestamp: boolean },
): Promise<{ updates: ServerSigned[]; state: RepositoryState }> {
  const root = rootOf(state);
  const updates: ServerSigned[] = [];
  let out = state;
  const sign = async (role: OnlineRole, build: typeof buildSnapshot | typeof buildTimestamp) => {
    const signers = await rootSigners(ctx.keys, ctx.repo, root, role);
    if (signers === undefined)
      throw new Error(`${ctx.repo}: no held ${role} key meets the threshold of the root`);
    const version = (current.get(role)?.version ?? 0) + 1;
    const expiresAt = expiryAt(ctx.now, ctx.expiry[role]);
    const bytes = await signOnline(role, build(out, { version, expires: expiresAt }), signers);
    updates.push({ role, version, bytes, expiresAt });
    out = { ...out, [role]: bytes };
  };
  if (roles.snapshot) await sign('snapshot', buildSnapshot);
  if (roles.timestamp) await sign('timestamp', buildTimestamp);
  return { updates, state: out };
}

export interface UploadOptions extends SignContext {
  limits: UploadLimits;
}

/** What the publish transaction decided. */
export interface UploadOutcome {
  /** The key ids the accepted root lists per online role, when a root was accepted. */
  rootKeyids: Partial<Record<OnlineRole, string[]>> | undefined;
  serverRoles: Set<string>;
  targetFiles: AcceptedTargetFile[];
}

/**
 * The body of `publish`'s one transaction: validate against the committed state (ADR 0019),
 * refuse with UPLOAD_REFUSED (nothing appended), else append the accepted roles, the roles the
 * server signs, and the target files. Activation of the root's keys happens after the commit.
 */
export async function uploadIn(
  tx: TrustTx,
  files: readonly UploadFile[],
  o: UploadOptions,
): Promise<UploadOutcome> {
  const current = await tx.currentAll();
  const state = stateOf(current);
  const serverKeyids = await heldKeyids(o.keys, o.repo);
  const r = validateUpload(state, files, { now: o.now, serverKeyids, limits: o.limits });
  if (!r.ok) {
    // A version equal to the stored one is a lost race, not a stale client: another upload
    // (this process or another on the same database) took that version after this uploader
    // pulled. That is the 409 a client answers with pull and retry (issue 13 item 5).
    const { code, role, version } = r.refusal;
    const stored = current.get(role);
    if (code === 'OLD_VERSION' && version !== undefined && stored?.version === version)
      throw versionConflict(
        o.repo,
        role,
        version,
        `version ${version} was published by another upload first`,
      );
    throw uploadRefused(r.refusal);
  }
  const after = stateAfter(state, r.accepted);
  const signed = await signOnlineRoles(o, after, current, {
    snapshot: r.needSnapshot,
    timestamp: r.needTimestamp,
  });
  tx.append([...metaUpdates(r.accepted), ...signed.updates]);
  tx.appendTargetFile(targetFileUpdates(r.targetFiles));
  let rootKeyids: UploadOutcome['rootKeyids'];
  if (r.accepted.some((a) => a.role === 'root')) {
    const root = rootOf(after);
    rootKeyids = {};
    for (const role of ['snapshot', 'timestamp'] as const) {
      const ids = root?.signed.roles[role]?.keyIDs;
      if (ids !== undefined) rootKeyids[role] = ids;
    }
  }
  return { rootKeyids, serverRoles: new Set(signed.updates.map((u) => u.role)), targetFiles: r.targetFiles };
}
