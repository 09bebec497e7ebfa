/**
 * The `--json` documents of the commands whose result is a library object: one field name per
 * concept (docs/cli-json.md, ADR 0018): `name`, `tag`, `role`, `version`, `length`,
 * `hashes.sha256`, `keyids` / `keyid`, `threshold`, `expires`, `location`, `path`. Lists of
 * key ids are de-duplicated and sorted; lists of named things are sorted by name unless their
 * order means something (delegations: the order a client searches them).
 */
import type { KeyInfo } from '../crypto/keystore.js';
import type { KeyListing, KeyRepositoryUse, RemovedKey } from '../workflows/keys.js';
import type { VerifiedTarget } from '../tuf/client/list.js';
import type { AuthorityStatus } from '../tuf/authority.js';
import type { TrustEntry } from '../tuf/client/trust.js';
import type { TrustReset } from '../tuf/client/reset.js';
import type { DelegationInfo } from '../tuf/delegation.js';
import type { KeySetChange } from '../tuf/keyset.js';
import type { Advisory } from '../tuf/advisory.js';
import type { RecoveryPackage, RecoveryPlan } from '../tuf/recovery.js';
import type { RotationPlan, StagedSigning } from '../tuf/rotation.js';
import type { RepositoryStatus, RoleStatus } from '../tuf/status.js';
import type { ListedTarget } from '../tuf/targets.js';
import type { ResetPlan } from '../tuf/reset.js';
import { checkBundleReference } from '../tuf/names.js';
import type { ExpiryPolicy } from '../tuf/policy.js';
import { exactDuration, POLICY_ROLES } from '../tuf/policy-set.js';

/** Sorted, without duplicates (code-unit order, the same on every platform). */
export function sortedUnique(list: readonly string[]): string[] {
  return [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function byKey<T>(list: readonly T[], key: (x: T) => string): T[] {
  return [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** One element per key (the last given), sorted by key (as sortedUnique sorts). */
function uniqueBy<T>(list: readonly T[], key: (x: T) => string): T[] {
  const byId = new Map(list.map((x) => [key(x), x]));
  return sortedUnique([...byId.keys()]).map((k) => byId.get(k) as T);
}

/** The tag of a `<repository>:<tag>` target name of `repository`, if it is one. */
export function tagOf(repository: string, name: string): { tag?: string } {
  return name.startsWith(`${repository}:`) ? { tag: name.slice(repository.length + 1) } : {};
}

/** The tag of a target name `<repository>:<tag>`, if it is one. */
export function referenceTag(name: string): { tag?: string } {
  try {
    return { tag: checkBundleReference(name).tag };
  } catch {
    return {};
  }
}

export function keyJson(k: KeyInfo): Record<string, unknown> {
  return {
    keyid: k.keyid,
    label: k.label,
    keytype: k.keytype,
    scheme: k.scheme,
    created: k.created,
    publicKey: k.publicKey,
  };
}

function keyUseJson(u: KeyRepositoryUse): Record<string, unknown> {
  return {
    name: u.name,
    location: u.location,
    roles: sortedUnique(u.roles),
    inRoot: u.inRoot,
    state: u.state,
    ...(u.problem === undefined ? {} : { problem: u.problem }),
  };
}

const byRepository = (list: readonly KeyRepositoryUse[]): KeyRepositoryUse[] =>
  byKey(list, (u) => `${u.name}\u0000${u.location}`);

/** `key list`: each key once, by key id, with the known repositories (by name) and its roles. */
export function keyListJson(keys: readonly KeyListing[]): { keys: Record<string, unknown>[] } {
  return {
    keys: uniqueBy(keys, (k) => k.keyid).map((k) => ({
      keyid: k.keyid,
      keytype: k.keytype,
      scheme: k.scheme,
      label: k.label,
      created: k.created,
      repositories: byRepository(k.repositories).map(keyUseJson),
    })),
  };
}

/** `key remove`: the key deleted, and the known repositories still listing it or not checked. */
export function removedKeyJson(r: RemovedKey): Record<string, unknown> {
  return {
    keyid: r.keyid,
    label: r.label,
    stillListedIn: byRepository(r.stillListedIn).map(keyUseJson),
    unchecked: byRepository(r.unchecked).map(keyUseJson),
  };
}

function authorityJson(a: AuthorityStatus): Record<string, unknown> {
  return {
    source: a.source,
    threshold: a.threshold,
    keyids: sortedUnique(a.keyIDs),
    valid: sortedUnique(a.valid),
    missing: sortedUnique(a.missing),
    met: a.met,
  };
}

function roleStatusJson(r: RoleStatus): Record<string, unknown> {
  return {
    role: r.role,
    publishedVersion: r.publishedVersion,
    stagedVersion: r.stagedVersion,
    expires: r.expires,
    expiresIn: r.expiresIn,
    expired: r.expired,
    expiring: r.expiring,
    warning: r.warning,
    keyids: sortedUnique(r.keyids),
    threshold: r.threshold,
    signatures: r.signatures.map(authorityJson),
  };
}

/** `status`: its warnings are given with warn(), so they reach the document as `warnings`. */
export function statusJson(s: RepositoryStatus): Record<string, unknown> {
  return {
    name: s.name,
    location: s.location,
    serverManaged: s.serverManaged,
    roles: s.roles.map(roleStatusJson),
    staged: sortedUnique(s.staged),
    expiredRoles: sortedUnique(s.expiredRoles),
    expiringRoles: sortedUnique(s.expiringRoles),
  };
}

function keySetJson(k: { keyids: string[]; threshold: number }): Record<string, unknown> {
  return { keyids: sortedUnique(k.keyids), threshold: k.threshold };
}

export function keySetChangeJson(c: KeySetChange): Record<string, unknown> {
  return {
    role: c.role,
    delegator: c.delegator,
    before: keySetJson(c.before),
    after: keySetJson(c.after),
    added: sortedUnique(c.added),
    removed: sortedUnique(c.removed),
    newKeys: Object.fromEntries(sortedUnique(Object.keys(c.newKeys)).map((id) => [id, c.newKeys[id]])),
  };
}

function signingJson(s: StagedSigning): Record<string, unknown> {
  return {
    role: s.role,
    version: s.version,
    authorities: s.authorities.map((a) => ({
      source: a.source,
      threshold: a.threshold,
      keyids: sortedUnique(a.keyids),
    })),
  };
}

export function rotationPlanJson(p: RotationPlan): Record<string, unknown> {
  return {
    ...keySetChangeJson(p),
    signing: p.signing.map(signingJson),
    clients: p.clients,
    dryRun: p.dryRun,
  };
}

export function recoveryPlanJson(p: RecoveryPlan): Record<string, unknown> {
  return {
    trustedVersion: p.trustedVersion,
    version: p.version,
    changes: p.changes.map(keySetChangeJson),
    signing: p.signing.map(signingJson),
    clients: p.clients,
    dryRun: p.dryRun,
  };
}

export function recoveryPackageJson(p: RecoveryPackage): Record<string, unknown> {
  return {
    path: p.dir,
    files: sortedUnique(p.files),
    version: p.version,
    hashes: { sha256: p.sha256 },
    keyids: sortedUnique(p.keyids),
    threshold: p.threshold,
  };
}

export function delegationJson(d: DelegationInfo): Record<string, unknown> {
  return {
    role: d.role,
    parent: d.parent,
    keyids: sortedUnique(d.keyids),
    threshold: d.threshold,
    paths: d.paths,
    terminating: d.terminating,
    publishedVersion: d.publishedVersion,
    stagedVersion: d.stagedVersion,
  };
}

export function advisoryJson(a: Advisory): Record<string, unknown> {
  return {
    name: a.repository,
    keyids: sortedUnique(a.keyids),
    since: a.since,
    roles: byKey(a.roles, (r) => r.role).map((r) => ({ role: r.role, versions: r.versions })),
    targets: byKey(a.targets, (t) => `${t.target}\u0000${t.role}`).map((t) => ({
      name: t.target,
      ...tagOf(a.repository, t.target),
      role: t.role,
      length: t.length,
      hashes: t.hashes,
      versions: t.versions,
      current: t.current,
    })),
    text: a.text,
  };
}

/** `bundle list`: targets by name (then role), each once. */
export function targetsJson(repository: string, targets: readonly ListedTarget[]): Record<string, unknown> {
  const seen = new Set<string>();
  const out: Record<string, unknown>[] = [];
  for (const t of byKey(targets, (x) => `${x.name}\u0000${x.role}`)) {
    const id = `${t.name}\u0000${t.role}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({
      name: t.name,
      ...tagOf(repository, t.name),
      role: t.role,
      length: t.length,
      hashes: t.hashes,
      ...(t.custom === undefined ? {} : { custom: t.custom }),
    });
  }
  return { name: repository, targets: out };
}

/** `list`: the signed tags of a trusted repository from verified metadata, by name, each once. */
export function signedTagsJson(repository: string, tags: readonly VerifiedTarget[]): Record<string, unknown> {
  return {
    name: repository,
    targets: uniqueBy(tags, (t) => t.info.path).map(({ info, role }) => ({
      name: info.path,
      ...tagOf(repository, info.path),
      length: info.length,
      hashes: { ...info.hashes },
      role,
    })),
  };
}

export function trustEntryJson(e: TrustEntry): Record<string, unknown> {
  return { name: e.name, url: e.url, added: e.added };
}

export function trustListJson(entries: readonly TrustEntry[]): Record<string, unknown> {
  return { repositories: uniqueBy(entries, (e) => e.name).map(trustEntryJson) };
}

export function trustResetJson(r: TrustReset): Record<string, unknown> {
  const root = (s: { version: number; expires: string; keyids: string[]; threshold: number }) => ({
    version: s.version,
    expires: s.expires,
    keyids: sortedUnique(s.keyids),
    threshold: s.threshold,
  });
  return {
    ...trustEntryJson(r.entry),
    previous: r.previous === null ? null : root(r.previous),
    current: { ...root(r.current), hashes: { sha256: r.current.sha256 } },
  };
}

/**
 * `policy show|set`: the expiry period of each role as `periods` (the one duration syntax,
 * `30d`) and `seconds` (as in cnabsec.json). Not `expiry`: the glossary keeps that concept
 * for `expires`, a point in time.
 */
export function policyJson(name: string, expiry: ExpiryPolicy): Record<string, unknown> {
  return {
    name,
    periods: Object.fromEntries(POLICY_ROLES.map((r) => [r, exactDuration(expiry[r])])),
    seconds: Object.fromEntries(POLICY_ROLES.map((r) => [r, expiry[r]])),
  };
}

/** `reset`: the discarded roles in role order; the staged files by name (then digest), each once. */
export function resetJson(plan: ResetPlan): Record<string, unknown> {
  return {
    name: plan.name,
    dryRun: plan.dryRun,
    discarded: plan.roles.map((r) => ({
      role: r.role,
      version: r.version,
      publishedVersion: r.publishedVersion,
    })),
    files: uniqueBy(plan.files, (f) => `${f.name}\u0000${f.sha256}`).map((f) => ({
      name: f.name,
      hashes: { sha256: f.sha256 },
    })),
    recovery: plan.recovery,
  };
}
