/**
 * `resign`: stage a new version of root, targets or a delegated role with a renewed expiry
 * (CNAB-Sec doc 302: metadata is re-signed before it expires; it also works after it expired,
 * as long as the role's keys exist). Snapshot and timestamp are not resigned by hand: every
 * publish and refresh makes new versions of them.
 */
import { checkRoleName } from '../tuf/names.js';
import { parseDuration, REFRESHED_ROLES } from '../tuf/policy.js';
import type { LocalRepository } from '../tuf/repository.js';
import { quote } from '../util/json.js';
import { WorkflowError } from './errors.js';

export interface ResignPlan {
  role: string;
  /** Expiry period of the new version in seconds (default: the repository's policy). */
  expiresIn?: number;
}

export interface ResignResult {
  role: string;
  version: number;
  expires: string;
}

/** Check that `role` can be resigned in `repo` (and the expiry, seconds or a duration). */
export function planResign(repo: LocalRepository, role: string, expires?: number | string): ResignPlan {
  checkRoleName(role);
  if ((REFRESHED_ROLES as readonly string[]).includes(role)) {
    throw new WorkflowError('WORKFLOW_ROLE_REFUSED', `${quote(role)} is renewed by publish/refresh`, {
      details: { role },
      hint: `run cnabsec refresh ${repo.store.location} --force`,
    });
  }
  if (!repo.roleNames().includes(role)) throw repo.unknownRole(role);
  if (expires === undefined) return { role };
  return { role, expiresIn: typeof expires === 'number' ? expires : parseDuration(expires) };
}

/** Stage and save the new version (run under the repository lock; publish signs it). */
export async function applyResign(
  repo: LocalRepository,
  plan: ResignPlan,
  now?: Date,
): Promise<ResignResult> {
  const md = repo.edit(plan.role, () => undefined, {
    ...(plan.expiresIn === undefined ? {} : { expiresIn: plan.expiresIn }),
    ...(now === undefined ? {} : { now }),
  });
  await repo.saveStaged();
  return { role: plan.role, version: md.signed.version, expires: md.signed.expires };
}
