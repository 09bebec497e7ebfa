/**
 * The second half of upload validation (./validate.ts): snapshot (TUF spec §5.5), timestamp
 * (§5.4) and the uploaded target files (§5.7.3), on the state the upload would leave. A
 * missing snapshot or timestamp is made by the server when it holds a threshold of that
 * role's keys in the trusted root (doc 302 server-managed keys, notary `validation.go`), and
 * refused (BAD_HIERARCHY) otherwise.
 */
import type { Metadata, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { authorityStatus } from '../tuf/authority.js';
import { isTopLevel } from '../tuf/policy.js';
import { quote } from '../util/json.js';
import { refuse, sha256Hex, type ParsedRole, type UploadFile } from './upload-parse.js';
import {
  needNewerVersion,
  needNotExpired,
  needThreshold,
  rootAuthority,
  type TargetsNode,
  type Walk,
} from './validate-checks.js';

export interface AcceptedTargetFile {
  path: string;
  length: number;
  sha256: string;
  bytes: Uint8Array;
  /** The role whose signed metadata lists it. */
  role: string;
}

/** The snapshot that will be current: the uploaded one, the server's (need) or the kept one. */
export interface SnapshotOutcome {
  need: boolean;
  uploaded: ParsedRole | undefined;
  kept: ParsedRole | undefined;
}

/** Whether the server holds a threshold of `role`'s keys in the trusted root. */
function serverHolds(w: Walk, role: string): boolean {
  const a = rootAuthority(w.root, role);
  return a.threshold > 0 && a.keyIDs.filter((k) => w.held.has(k)).length >= a.threshold;
}

/**
 * What the server holds of `role`'s keys, for a refusal: none, or fewer than the threshold (the
 * server holds one key per role, so a server-held role needs threshold 1).
 */
function heldText(w: Walk, role: string): string {
  const a = rootAuthority(w.root, role);
  const n = a.keyIDs.filter((k) => w.held.has(k)).length;
  const v = w.root.signed.version;
  if (n === 0) return `no ${role} key of root v${v}`;
  return `${n} of the ${a.threshold} ${role} keys root v${v} requires (threshold ${a.threshold}; a server-held role needs threshold ${n})`;
}

/** Still valid under the trusted root (a root rotation may have replaced its keys). */
function stillSigned(w: Walk, p: ParsedRole | undefined, role: string): p is ParsedRole {
  return p !== undefined && authorityStatus(p.md, rootAuthority(w.root, role)).met;
}

/**
 * `<role>.json` → version of every targets role that will be current: the current snapshot's
 * entries (a client refuses a snapshot dropping one, TUF §5.5.5), then every stored or
 * uploaded targets role, with its bytes for the length and hash checks.
 */
export function expectedMeta(w: Walk): Map<string, { version: number; bytes?: Uint8Array }> {
  const out = new Map<string, { version: number; bytes?: Uint8Array }>();
  const prev = w.current.get('snapshot')?.md as Metadata<Snapshot> | undefined;
  for (const [file, m] of Object.entries(prev?.signed.meta ?? {})) out.set(file, { version: m.version });
  for (const roles of [w.current, w.uploaded])
    for (const [role, p] of roles)
      if (role === 'targets' || !isTopLevel(role))
        out.set(`${role}.json`, { version: p.md.signed.version, bytes: p.bytes });
  return out;
}

function checkSnapshotMeta(w: Walk, p: ParsedRole): void {
  const listed = (p.md as Metadata<Snapshot>).signed.meta;
  const expected = expectedMeta(w);
  const bad = (why: string) => refuse('BAD_SNAPSHOT', 'snapshot', p.md.signed.version, 'snapshot-meta', why);
  for (const [file, e] of expected) {
    const m = listed[file];
    if (m === undefined) throw bad(`does not list ${quote(file)} (v${e.version} will be current)`);
    if (m.version !== e.version)
      throw bad(`lists ${quote(file)} v${m.version}, but v${e.version} will be current`);
    if (e.bytes === undefined) continue;
    if (m.length !== undefined && m.length !== e.bytes.byteLength)
      throw bad(`lists ${quote(file)} with length ${m.length}, but it has ${e.bytes.byteLength} bytes`);
    const sha = m.hashes?.sha256;
    if (sha !== undefined && sha !== sha256Hex(e.bytes))
      throw bad(`lists ${quote(file)} with another sha256`);
  }
  for (const file of Object.keys(listed))
    if (!expected.has(file)) throw bad(`lists ${quote(file)}, which no role that will be current is`);
}

/** TUF §5.5: the uploaded snapshot, or why the server must (and may) make one. */
export function checkSnapshot(w: Walk, nodes: readonly TargetsNode[]): SnapshotOutcome {
  const up = w.uploaded.get('snapshot');
  const kept = w.current.get('snapshot');
  if (up !== undefined) {
    needThreshold(up, rootAuthority(w.root, 'snapshot'));
    needNewerVersion(up, kept);
    needNotExpired(up, w.now);
    checkSnapshotMeta(w, up);
    return { need: false, uploaded: up, kept: undefined };
  }
  const held = serverHolds(w, 'snapshot');
  const needed = nodes.some((n) => n.uploaded) || !stillSigned(w, kept, 'snapshot');
  if (needed && !held)
    throw refuse(
      'BAD_HIERARCHY',
      'snapshot',
      undefined,
      'snapshot-not-server-held',
      `no snapshot uploaded and the server holds ${heldText(w, 'snapshot')}: upload a snapshot listing the new roles`,
    );
  return { need: held, uploaded: undefined, kept: needed ? undefined : kept };
}

/** TUF §5.4: the uploaded timestamp lists the snapshot that will be current; or the server makes it. */
export function checkTimestamp(w: Walk, snapshot: SnapshotOutcome): { need: boolean } {
  const up = w.uploaded.get('timestamp');
  const kept = w.current.get('timestamp');
  if (up === undefined) {
    const held = serverHolds(w, 'timestamp');
    const needed = snapshot.need || snapshot.uploaded !== undefined || !stillSigned(w, kept, 'timestamp');
    if (needed && !held)
      throw refuse(
        'BAD_HIERARCHY',
        'timestamp',
        undefined,
        'timestamp-not-server-held',
        `no timestamp uploaded and the server holds ${heldText(w, 'timestamp')}: upload a timestamp listing the new snapshot`,
      );
    return { need: held };
  }
  const v = up.md.signed.version;
  if (snapshot.need)
    throw refuse(
      'BAD_HIERARCHY',
      'timestamp',
      v,
      'timestamp-before-snapshot',
      'the server makes the new snapshot, so it makes the timestamp too: upload no timestamp',
    );
  needThreshold(up, rootAuthority(w.root, 'timestamp'));
  needNewerVersion(up, kept);
  needNotExpired(up, w.now);
  const snap = snapshot.uploaded ?? snapshot.kept;
  const m = (up.md as Metadata<Timestamp>).signed.snapshotMeta;
  const bad = (why: string) => refuse('BAD_TIMESTAMP', 'timestamp', v, 'snapshot-meta', why);
  if (snap === undefined) throw bad('there is no snapshot for it to list');
  const sv = snap.md.signed.version;
  if (m.version !== sv) throw bad(`lists snapshot v${m.version}, but v${sv} will be current`);
  if (m.length !== undefined && m.length !== snap.bytes.byteLength)
    throw bad(`lists snapshot v${sv} with length ${m.length}, but it has ${snap.bytes.byteLength} bytes`);
  const sha = m.hashes?.sha256;
  if (sha !== undefined && sha !== sha256Hex(snap.bytes))
    throw bad(`lists snapshot v${sv} with another sha256`);
  return { need: false };
}

/**
 * The role a client trusts for `path` (TUF §5.6.7): preorder depth-first from `targets`,
 * following delegations whose paths match, stopping at a terminating one.
 */
function findTarget(
  byRole: ReadonlyMap<string, TargetsNode>,
  path: string,
): { role: string; info: TargetFile } | undefined {
  const visited = new Set<string>();
  const search = (role: string): { role: string; info: TargetFile } | undefined | null => {
    const node = byRole.get(role);
    if (node === undefined || visited.has(role)) return undefined;
    visited.add(role);
    const md = node.parsed.md as Metadata<Targets>;
    const info = md.signed.targets[path];
    if (info !== undefined) return { role, info };
    for (const d of Object.values(md.signed.delegations?.roles ?? {})) {
      if (!d.isDelegatedPath(path)) continue;
      const found = search(d.name);
      if (found !== undefined) return found;
      if (d.terminating) return null;
    }
    return undefined;
  };
  return search('targets') ?? undefined;
}

/** TUF §5.7.3: every uploaded target file has the length and sha256 a signed role lists. */
export function checkTargetFiles(
  byRole: ReadonlyMap<string, TargetsNode>,
  files: readonly UploadFile[],
): AcceptedTargetFile[] {
  const out: AcceptedTargetFile[] = [];
  for (const f of files) {
    if ('role' in f) continue;
    const bad = (rule: string, why: string) => refuse('BAD_TARGET_FILE', f.path, undefined, rule, why);
    const found = findTarget(byRole, f.path);
    if (found === undefined) throw bad('not-listed', 'no signed targets role that will be current lists it');
    const { role, info } = found;
    const sha256 = sha256Hex(f.bytes);
    if (info.length !== f.bytes.byteLength)
      throw bad('length', `${role} lists length ${info.length}, the file has ${f.bytes.byteLength} bytes`);
    const listed = info.hashes.sha256;
    if (listed === undefined) throw bad('sha256', `${role} lists no sha256 for it`);
    if (listed !== sha256)
      throw bad(
        'sha256',
        `${role} lists sha256 ${listed.slice(0, 12)}…, the file has ${sha256.slice(0, 12)}…`,
      );
    out.push({ path: f.path, length: f.bytes.byteLength, sha256, bytes: f.bytes, role });
  }
  return out;
}
