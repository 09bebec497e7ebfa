/**
 * Delegated targets roles (CNAB-Sec doc 301: `targets/releases` signs bundle versions and
 * in-toto links): list, add, remove and rotate their keys. The delegating role lists the
 * keys, threshold and paths (TUF spec §4.5 "delegations") and signs every change; the
 * delegated role is re-signed by its new keys in the same publish, so a client verifying
 * it with the delegator's new key list (§5.6.3) accepts it.
 */
import type { Metadata, Targets } from '@tufjs/models';
import { toKey } from './authority.js';
import { TufError } from './errors.js';
import { isTopLevel, kindOf } from './policy.js';
import type { LocalRepository } from './repository.js';
import { signingOf, stagedTransaction, type RotateOptions, type RotationPlan } from './rotation.js';
import { addDelegation, type DelegationSpec } from './targets.js';
import { checkRoleName } from './names.js';
import { quote } from '../util/json.js';
import { checkKeySet, planKeySetChange, type KeyChange, type KeySetChange } from './keyset.js';

export interface DelegationInfo {
  role: string;
  parent: string;
  keyids: string[];
  threshold: number;
  paths: string[];
  terminating: boolean;
  publishedVersion: number | null;
  stagedVersion: number | null;
}

interface DelegationsJson {
  keys: Record<string, unknown>;
  roles: { name: string; keyids: string[]; threshold: number; paths?: string[]; terminating: boolean }[];
}

export function listDelegations(repo: LocalRepository): DelegationInfo[] {
  const out: DelegationInfo[] = [];
  for (const [role, parent] of repo.delegationParents()) {
    const r = repo.targetsOf(parent).signed.delegations?.roles?.[role];
    if (r === undefined) continue;
    out.push({
      role,
      parent,
      keyids: r.keyIDs,
      threshold: r.threshold,
      paths: r.paths ?? [],
      terminating: r.terminating,
      publishedVersion: repo.published.get(role)?.signed.version ?? null,
      stagedVersion: repo.staged.get(role)?.signed.version ?? null,
    });
  }
  return out;
}

function notFound(repo: LocalRepository, role: string): TufError {
  const names = [...repo.delegationParents().keys()];
  return new TufError(
    'DELEGATION_NOT_FOUND',
    `${quote(role)} is not a delegated role of ${quote(repo.config.name)}`,
    {
      details: { role, delegations: names },
      hint:
        names.length === 0 ? 'add one with `cnabsec delegation add`' : `delegated roles: ${names.join(', ')}`,
    },
  );
}

/** The delegating role of `role`; DELEGATION_NOT_FOUND for top-level or unknown roles. */
export function delegatorOf(repo: LocalRepository, role: string): string {
  const parent = isTopLevel(role) ? undefined : repo.delegationParents().get(role);
  if (parent === undefined) throw notFound(repo, role);
  return parent;
}

/** Delegate `spec.paths` from `parent` (default `targets`) to a new role; both are staged. */
export function addDelegationRole(
  repo: LocalRepository,
  spec: DelegationSpec,
  parent = 'targets',
  now?: Date,
): void {
  checkRoleName(spec.name);
  if (isTopLevel(spec.name) || repo.roleNames().includes(spec.name)) {
    throw new TufError(
      'DELEGATION_EXISTS',
      `role ${quote(spec.name)} already exists in ${quote(repo.config.name)}`,
      {
        details: { role: spec.name },
        hint: `change its keys with \`cnabsec delegation rotate <repo> ${spec.name}\`, or remove it first`,
      },
    );
  }
  if (kindOf(parent) !== kindOf('targets') || !repo.roleNames().includes(parent))
    throw repo.unknownRole(parent);
  if (spec.paths.length === 0) {
    throw new TufError('INVALID_ARGUMENT', `delegation ${spec.name} needs at least one path pattern`, {
      details: { role: spec.name },
      hint: `e.g. --paths '${repo.config.name}:*'`,
    });
  }
  const keyids = [...new Set(spec.keys.map((k) => toKey(k).keyID))];
  checkKeySet(spec.name, { keyids, threshold: spec.threshold });
  addDelegation(repo, parent, spec, now);
}

/** Remove a delegation (signed by its delegator); returns the roles that no longer exist. */
export function removeDelegation(repo: LocalRepository, role: string, now?: Date): string[] {
  const parent = delegatorOf(repo, role);
  const before = new Set(repo.delegationParents().keys());
  repo.edit(
    parent,
    (signed) => {
      const d = signed.delegations as DelegationsJson;
      d.roles = d.roles.filter((r) => r.name !== role);
      dropUnusedKeys(d);
    },
    now === undefined ? {} : { now },
  );
  const after = new Set(repo.delegationParents().keys());
  return [...before].filter((r) => !after.has(r));
}

function dropUnusedKeys(d: DelegationsJson): void {
  const used = new Set(d.roles.flatMap((r) => r.keyids));
  for (const keyid of Object.keys(d.keys)) if (!used.has(keyid)) delete d.keys[keyid];
}

function applyToDelegations(d: DelegationsJson, c: KeySetChange): void {
  for (const [keyid, pub] of Object.entries(c.newKeys)) d.keys[keyid] = toKey(pub).toJSON();
  const r = d.roles.find((x) => x.name === c.role);
  if (r === undefined) throw new Error(`delegation ${c.role} vanished`);
  r.keyids = c.after.keyids;
  r.threshold = c.after.threshold;
  dropUnusedKeys(d);
}

/** Stage new keys/threshold for a delegated role: the delegator lists them, the role is re-signed. */
export function rotateDelegation(
  repo: LocalRepository,
  role: string,
  change: KeyChange,
  options: RotateOptions = {},
): RotationPlan {
  const parent = delegatorOf(repo, role);
  const pmd: Metadata<Targets> = repo.targetsOf(parent);
  const r = pmd.signed.delegations?.roles?.[role];
  if (r === undefined) throw notFound(repo, role);
  const c = planKeySetChange(role, parent, { keyids: r.keyIDs, threshold: r.threshold }, change);
  const dryRun = options.dryRun ?? false;
  const now = options.now === undefined ? {} : { now: options.now };
  return stagedTransaction(repo, dryRun, () => {
    const p = repo.edit(
      parent,
      (signed) => {
        applyToDelegations(signed.delegations as DelegationsJson, c);
      },
      now,
    );
    const md = repo.edit(role, () => undefined, now);
    const clients = [
      `${parent} v${p.signed.version} lists the new keys and ${role} v${md.signed.version} is signed by them, in the same publish; clients verify ${role} with the keys of ${parent} (TUF §5.6.3); no client action is needed`,
    ];
    if (c.removed.length > 0)
      clients.push(
        'if a removed key was compromised, warn users with `cnabsec advisory <repo> --since <version|time> --key <keyid>` (doc 302)',
      );
    return { ...c, signing: signingOf(repo, [parent, role]), clients, dryRun };
  });
}
