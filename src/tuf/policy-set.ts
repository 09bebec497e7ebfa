/**
 * Change a repository's expiry policy (`cnabsec policy set`): the periods in `cnabsec.json`
 * from which every new version of a role takes its expiry (resign, publish, refresh). The
 * published metadata keeps its expiry until its next version. CNAB-Sec doc 301 recommends root
 * yearly, targets monthly (or as often as new bundles come), snapshot and timestamp daily,
 * renewed by "a scheduled job" (`cnabsec refresh`): the shortest period accepted leaves such a
 * job time to run.
 */
import { TufError } from './errors.js';
import { checkExpiryPolicy, MIN_REFRESHED_EXPIRY, parseDuration, type ExpiryPolicy } from './policy.js';
import { CONFIG_FILE, type LocalRepository } from './repository.js';

export const POLICY_ROLES = ['root', 'targets', 'snapshot', 'timestamp', 'delegated'] as const;
export type PolicyRole = (typeof POLICY_ROLES)[number];

/**
 * The shortest expiry period accepted for snapshot and timestamp: the refresh rule of
 * ./policy.ts (MIN_REFRESHED_EXPIRY, checkExpiryPolicy), the same rule `init` applies.
 */
export const MIN_EXPIRY_SECONDS = MIN_REFRESHED_EXPIRY;

export interface PolicyChange {
  role: PolicyRole;
  before: number;
  after: number;
}

export interface PolicySetResult {
  name: string;
  expiry: ExpiryPolicy;
  changes: PolicyChange[];
  warnings: string[];
}

/** Parse `role → duration text` (30d, 12h) into seconds; snapshot and timestamp obey the refresh rule. */
export function parseExpiryChanges(texts: Partial<Record<PolicyRole, string>>): Partial<ExpiryPolicy> {
  const out: Partial<ExpiryPolicy> = {};
  for (const role of POLICY_ROLES) {
    const text = texts[role];
    if (text !== undefined) out[role] = parseDuration(text);
  }
  return checkExpiryPolicy(out);
}

/** Warnings about a policy that works but surprises: a timestamp outliving the snapshot it lists. */
function policyWarnings(expiry: ExpiryPolicy): string[] {
  const warnings: string[] = [];
  if (expiry.timestamp > expiry.snapshot)
    warnings.push(
      `timestamp (${exactDuration(expiry.timestamp)}) outlives snapshot (${exactDuration(expiry.snapshot)}): clients refuse an expired snapshot even with a fresh timestamp`,
    );
  if (expiry.snapshot > expiry.targets)
    warnings.push(
      `snapshot (${exactDuration(expiry.snapshot)}) outlives targets (${exactDuration(expiry.targets)}): a targets role still expires on its own period`,
    );
  return warnings;
}

/**
 * Set the expiry periods in `changes` (seconds, e.g. from parseExpiryChanges) and write the
 * configuration atomically. Call it under the repository lock (LocalRepository.transaction).
 * NOTHING_TO_CHANGE when `changes` is empty.
 */
export async function setExpiryPolicy(
  repo: LocalRepository,
  changes: Partial<ExpiryPolicy>,
): Promise<PolicySetResult> {
  const roles = POLICY_ROLES.filter((r) => changes[r] !== undefined);
  if (roles.length === 0) {
    throw new TufError('NOTHING_TO_CHANGE', 'no expiry period given', {
      hint: 'give one or more of --expires-root, --expires-targets, --expires-snapshot, --expires-timestamp, --expires-delegated (e.g. 30d)',
    });
  }
  const before = { ...repo.config.expiry };
  const after: ExpiryPolicy = { ...before };
  for (const r of roles) {
    const s = changes[r] as number;
    if (!Number.isSafeInteger(s) || s <= 0)
      throw new TufError('INVALID_DURATION', `expiry of ${r}: ${s} s is not a period`, {
        hint: 'give a duration such as 30d, 12h or 90s',
      });
    after[r] = s;
  }
  checkExpiryPolicy(after);
  const config = { ...repo.config, expiry: after };
  await repo.store.write(CONFIG_FILE, new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
  repo.config.expiry = after;
  return {
    name: repo.config.name,
    expiry: after,
    changes: roles.map((role) => ({ role, before: before[role], after: after[role] })),
    warnings: policyWarnings(after),
  };
}

/** `seconds` in the largest unit that divides it (36h, not 1d), as parseDuration reads it back. */
export function exactDuration(seconds: number): string {
  for (const [unit, n] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

/** The policy of `repo`, with each period as text (30d) for display. */
export function showExpiryPolicy(repo: LocalRepository): {
  name: string;
  expiry: ExpiryPolicy;
  periods: Record<PolicyRole, string>;
} {
  const periods = Object.fromEntries(
    POLICY_ROLES.map((r) => [r, exactDuration(repo.config.expiry[r])]),
  ) as Record<PolicyRole, string>;
  return { name: repo.config.name, expiry: { ...repo.config.expiry }, periods };
}
