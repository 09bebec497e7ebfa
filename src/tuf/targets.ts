/**
 * Targets and delegations of a local repository: add, remove and list target files; find
 * the role trusted for a target path (TUF §5.6.7 preorder search); add and remove delegated
 * targets roles such as `targets/releases` (CNAB-Sec doc 301 extension).
 */
import type { Metadata, Targets } from '@tufjs/models';
import { toKey } from './authority.js';
import { TufError } from './errors.js';
import type { LocalRepository } from './repository.js';
import { checkRoleName } from './names.js';
import { quote } from '../util/json.js';
import type { PublicKeyJson } from '../crypto/keys.js';

export interface TargetInfo {
  length: number;
  hashes: Record<string, string>;
  custom?: Record<string, unknown>;
}

export interface ListedTarget extends TargetInfo {
  name: string;
  role: string;
}

/**
 * The most specific role trusted for `name`: follow delegations from `targets` while a
 * delegated role's paths match (the first match in order at each level, as a client does).
 */
export function roleForTarget(repo: LocalRepository, name: string): string {
  let role = 'targets';
  for (;;) {
    const md = repo.current(role) as Metadata<Targets> | undefined;
    const roles = Object.values(md?.signed.delegations?.roles ?? {});
    const next = roles.find((r) => r.isDelegatedPath(name));
    if (next === undefined || repo.current(next.name) === undefined) return role;
    role = next.name;
  }
}

/** Whether `role` is trusted for `name` along its delegation chain. */
export function isTrustedFor(repo: LocalRepository, role: string, name: string): boolean {
  const parents = repo.delegationParents();
  let child = role;
  for (let parent = parents.get(child); parent !== undefined; child = parent, parent = parents.get(child)) {
    const d = repo.targetsOf(parent).signed.delegations?.roles?.[child];
    if (d === undefined || !d.isDelegatedPath(name)) return false;
  }
  return child === 'targets';
}

export function addTarget(
  repo: LocalRepository,
  name: string,
  info: TargetInfo,
  role?: string,
  now?: Date,
): string {
  const signer = role ?? roleForTarget(repo, name);
  repo.targetsOf(signer);
  if (!isTrustedFor(repo, signer, name)) {
    throw new TufError(
      'TARGET_NOT_DELEGATED',
      `role ${quote(signer)} is not trusted for target ${quote(name)}`,
      {
        details: { role: signer, target: name },
        hint: 'add the target to the role whose delegation paths match it',
      },
    );
  }
  repo.edit(
    signer,
    (signed) => {
      const targets = signed.targets as Record<string, unknown>;
      targets[name] = {
        length: info.length,
        hashes: info.hashes,
        ...(info.custom === undefined ? {} : { custom: info.custom }),
      };
    },
    { now },
  );
  return signer;
}

/** Roles that list `name` (normally one). */
function rolesListing(repo: LocalRepository, name: string): string[] {
  return ['targets', ...repo.delegationParents().keys()].filter(
    (r) => name in repo.targetsOf(r).signed.targets,
  );
}

export function removeTarget(repo: LocalRepository, name: string, now?: Date): string[] {
  const roles = rolesListing(repo, name);
  if (roles.length === 0) {
    throw new TufError('TARGET_NOT_FOUND', `target ${quote(name)} is not in ${quote(repo.config.name)}`, {
      details: { target: name },
      hint: 'list targets with `cnabsec bundle list`',
    });
  }
  for (const role of roles) {
    repo.edit(
      role,
      (signed) => {
        delete (signed.targets as Record<string, unknown>)[name];
      },
      { now },
    );
  }
  return roles;
}

export function listTargets(repo: LocalRepository): ListedTarget[] {
  const out: ListedTarget[] = [];
  for (const role of ['targets', ...repo.delegationParents().keys()]) {
    for (const [name, t] of Object.entries(repo.targetsOf(role).signed.targets)) {
      const custom = t.custom;
      out.push({
        name,
        role,
        length: t.length,
        hashes: t.hashes,
        ...(Object.keys(custom).length === 0 ? {} : { custom }),
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface DelegationSpec {
  name: string;
  keys: PublicKeyJson[];
  threshold: number;
  paths: string[];
  terminating?: boolean;
}

/** Delegate `spec.paths` from `parent` to a new role (signed by `parent`); stages its empty metadata. */
export function addDelegation(repo: LocalRepository, parent: string, spec: DelegationSpec, now?: Date): void {
  checkRoleName(spec.name); // the name becomes metadata file names (./names.ts)
  if (repo.roleNames().includes(spec.name)) {
    throw new TufError('INVALID_ARGUMENT', `role ${spec.name} already exists`, {
      details: { role: spec.name },
    });
  }
  if (!Number.isInteger(spec.threshold) || spec.threshold < 1 || spec.keys.length < spec.threshold) {
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `delegation ${spec.name} needs at least ${spec.threshold} key(s), got ${spec.keys.length}`,
      { details: { role: spec.name }, hint: 'give at least as many keys as the threshold (threshold >= 1)' },
    );
  }
  const keys = spec.keys.map(toKey);
  repo.targetsOf(parent);
  repo.edit(
    parent,
    (signed) => {
      const d = (signed.delegations ?? { keys: {}, roles: [] }) as {
        keys: Record<string, unknown>;
        roles: unknown[];
      };
      for (const k of keys) d.keys[k.keyID] = k.toJSON();
      d.roles.push({
        name: spec.name,
        keyids: [...new Set(keys.map((k) => k.keyID))],
        threshold: spec.threshold,
        terminating: spec.terminating ?? false,
        paths: spec.paths,
      });
      signed.delegations = d;
    },
    { now },
  );
  // A role removed earlier stays listed in snapshot: continue its versions (no rollback, TUF §5.5.5).
  const previous = repo.published.get(spec.name)?.signed.version ?? 0;
  repo.stage(spec.name, repo.newMetadata(spec.name, now ?? new Date(), { targets: {} }, previous + 1));
}
