/**
 * Validation of an upload before anything is stored (issue 13 item 3, ADR 0019): the checks a
 * TUF client makes when it walks the repository (TUF spec §5.3 root, §5.4 timestamp, §5.5
 * snapshot, §5.6 targets and delegations), made by the server on the state the upload would
 * leave, with notary's `server/handlers/validation.go` rules for what may be missing (a
 * snapshot or timestamp only when the server holds its key). Pure: no I/O, no clock but
 * `now`, no signing; the caller stores `accepted` and signs what `needSnapshot` and
 * `needTimestamp` ask for (./build.ts) in the same transaction.
 */
import type { Metadata, Root, Targets } from '@tufjs/models';
import { kindOf } from '../tuf/policy.js';
import { quote } from '../util/json.js';
import type { UploadRefusal } from './errors.js';
import {
  DEFAULT_UPLOAD_LIMITS,
  Refused,
  checkParts,
  parseState,
  parseUploadedRole,
  refuse,
  type ParsedRole,
  type RepositoryState,
  type UploadFile,
  type UploadLimits,
} from './upload-parse.js';
import { checkSnapshot, checkTargetFiles, checkTimestamp, type AcceptedTargetFile } from './validate-meta.js';
import {
  needNewerVersion,
  needNotExpired,
  needThreshold,
  rootAuthority,
  type TargetsNode,
  type Walk,
} from './validate-checks.js';

export interface ValidateOptions {
  /** The time expiry is judged at. */
  now: Date;
  /**
   * Key ids whose private keys the server holds (server-managed snapshot and timestamp, doc
   * 302), per role: the server signs a role only with a key it holds for that role, so a root
   * listing the server's timestamp key as a snapshot key does not make snapshot server-held. A
   * flat list counts for both roles.
   */
  serverKeyids?: readonly string[] | ServerKeyids;
  limits?: Partial<UploadLimits>;
}

/** The key ids the server holds for each online role. */
export interface ServerKeyids {
  snapshot?: readonly string[];
  timestamp?: readonly string[];
}

function heldSets(ids: ValidateOptions['serverKeyids'] = []): Walk['held'] {
  if (Array.isArray(ids)) return { snapshot: new Set(ids), timestamp: new Set(ids) };
  const byRole = ids as ServerKeyids;
  return { snapshot: new Set(byRole.snapshot ?? []), timestamp: new Set(byRole.timestamp ?? []) };
}

export interface AcceptedRole {
  role: string;
  version: number;
  sha256: string;
  bytes: Uint8Array;
}

export type ValidationResult =
  | {
      ok: true;
      /** Uploaded roles to store, parent-first: root, targets and delegations, snapshot, timestamp. */
      accepted: AcceptedRole[];
      /** Uploaded target files, each listed by a signed role that will be current. */
      targetFiles: AcceptedTargetFile[];
      /** The server must make and sign a new snapshot (it holds the key). */
      needSnapshot: boolean;
      /** The server must make and sign a new timestamp (it holds the key). */
      needTimestamp: boolean;
    }
  | { ok: false; refusal: UploadRefusal };

/** Validate `files` against `state`; never throws for a bad upload, only for corrupt `state`. */
export function validateUpload(
  state: RepositoryState,
  files: readonly UploadFile[],
  options: ValidateOptions,
): ValidationResult {
  try {
    return { ok: true, ...walk(state, files, options) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, refusal: e.refusal };
    throw e;
  }
}

function walk(state: RepositoryState, files: readonly UploadFile[], options: ValidateOptions) {
  const limits = { ...DEFAULT_UPLOAD_LIMITS, ...options.limits };
  checkParts(files, limits);
  const current = parseState(state);
  const uploaded = new Map<string, ParsedRole>();
  for (const f of files) if ('role' in f) uploaded.set(f.role, parseUploadedRole(f.role, f.bytes, limits));
  const w: Walk = {
    current,
    uploaded,
    root: checkRoot(current.get('root'), uploaded.get('root'), options.now),
    now: options.now,
    held: heldSets(options.serverKeyids),
  };
  const nodes = targetsTree(w);
  const byRole = new Map(nodes.map((n) => [n.role, n]));
  for (const n of nodes) checkTargetsNode(w, n, byRole);
  const snapshot = checkSnapshot(w, nodes);
  const timestamp = checkTimestamp(w, snapshot);
  const targetFiles = checkTargetFiles(byRole, files);
  const order = ['root', ...nodes.map((n) => n.role), 'snapshot', 'timestamp'];
  const accepted = order.flatMap((role) => {
    const p = uploaded.get(role);
    return p === undefined ? [] : [{ role, version: p.md.signed.version, sha256: p.sha256, bytes: p.bytes }];
  });
  return { accepted, targetFiles, needSnapshot: snapshot.need, needTimestamp: timestamp.need };
}

/**
 * TUF §5.3: a new root is the trusted root's version + 1 (no skipping, so each step is signed
 * by its predecessor), signed by a threshold of the trusted root's root keys AND of its own.
 * A new repository's root is version 1 and self-signed.
 */
function checkRoot(trusted: ParsedRole | undefined, up: ParsedRole | undefined, now: Date): Metadata<Root> {
  if (up === undefined) {
    if (trusted === undefined)
      throw refuse(
        'BAD_HIERARCHY',
        'root',
        undefined,
        'new-repository-root',
        'a new repository needs an uploaded root (version 1, self-signed)',
      );
    return trusted.md as Metadata<Root>;
  }
  const md = up.md as Metadata<Root>;
  const v = md.signed.version;
  const next = trusted === undefined ? 1 : trusted.md.signed.version + 1;
  if (v < next)
    throw refuse(
      'OLD_VERSION',
      'root',
      v,
      'version',
      trusted === undefined
        ? 'a new repository starts at root version 1'
        : `version ${v} is not the current ${next - 1} + 1`,
    );
  if (v > next)
    throw refuse(
      'BAD_ROOT',
      'root',
      v,
      'root-version-skip',
      `root versions are consecutive: the next is ${next} (TUF §5.3.5)`,
    );
  if (trusted !== undefined)
    needThreshold(
      up,
      rootAuthority(trusted.md as Metadata<Root>, 'root', ' (trusted)'),
      'old-root-threshold',
    );
  needThreshold(up, rootAuthority(md, 'root', ' (new)'));
  needNotExpired(up, now);
  return md;
}

/**
 * The targets roles that will be current, in preorder from `targets` (parent before child,
 * TUF §5.6.7), each with its signing authority: root for `targets`, the delegating role's
 * (uploaded, else current) delegation for the others. An uploaded role no such role delegates
 * is refused.
 */
function targetsTree(w: Walk): TargetsNode[] {
  const top = w.uploaded.get('targets') ?? w.current.get('targets');
  if (top === undefined)
    throw refuse(
      'BAD_HIERARCHY',
      'targets',
      undefined,
      'new-repository-targets',
      'a new repository needs an uploaded targets role',
    );
  const nodes: TargetsNode[] = [];
  const seen = new Set<string>();
  const visit = (node: TargetsNode): void => {
    seen.add(node.role);
    nodes.push(node);
    const md = node.parsed.md as Metadata<Targets>;
    const d = md.signed.delegations;
    for (const delegation of Object.values(d?.roles ?? {})) {
      const name = delegation.name;
      const parsed = w.uploaded.get(name) ?? w.current.get(name);
      if (d === undefined || parsed === undefined || seen.has(name) || kindOf(name) !== kindOf('targets'))
        continue;
      visit({
        role: name,
        parsed,
        uploaded: w.uploaded.has(name),
        authority: {
          source: `${node.role} v${md.signed.version} (delegation)`,
          keys: d.keys,
          keyIDs: delegation.keyIDs,
          threshold: delegation.threshold,
        },
        parent: { role: node.role, delegation },
      });
    }
  };
  visit({
    role: 'targets',
    parsed: top,
    uploaded: w.uploaded.has('targets'),
    authority: rootAuthority(w.root, 'targets'),
  });
  for (const [role, p] of w.uploaded)
    if (kindOf(role) === kindOf('targets') && !seen.has(role))
      throw refuse(
        'BAD_HIERARCHY',
        role,
        p.md.signed.version,
        'not-delegated',
        'no targets role that will be current delegates it',
      );
  return nodes;
}

/**
 * Every targets role that will be current verifies under its (possibly new) authority; an
 * uploaded one also has a newer version, is not expired, and lists only targets inside the
 * paths of every delegation on its chain (a client would never look for the others there).
 */
function checkTargetsNode(w: Walk, n: TargetsNode, byRole: ReadonlyMap<string, TargetsNode>): void {
  needThreshold(n.parsed, n.authority, 'threshold', !n.uploaded);
  if (!n.uploaded) return;
  needNewerVersion(n.parsed, w.current.get(n.role));
  needNotExpired(n.parsed, w.now);
  if (n.parent === undefined) return;
  const targets = (n.parsed.md as Metadata<Targets>).signed.targets;
  for (const path of Object.keys(targets)) {
    for (let x: TargetsNode | undefined = n; x?.parent !== undefined; x = byRole.get(x.parent.role)) {
      if (x.parent.delegation.isDelegatedPath(path)) continue;
      throw refuse(
        'BAD_TARGETS',
        n.role,
        n.parsed.md.signed.version,
        'delegated-paths',
        `target ${quote(path)} is outside the paths ${x.parent.role} delegates to ${x.role}`,
      );
    }
  }
}
