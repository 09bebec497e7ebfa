/**
 * `cnabsec status`: for every role its published and staged version, expiry (with a warning
 * when less than a quarter of its period is left, `warningWindow`), keys, threshold and valid
 * signatures. `expiredRoles` lists the roles clients refuse now (TUF spec §5.3.10, §5.4.4, §5.5.6, §5.6.5):
 * the CLI exits 3 then.
 */
import { expiryPeriod, formatDuration, type ExpiryPolicy } from './policy.js';
import type { LocalRepository } from './repository.js';
import { signatureStatus } from './signing.js';
import type { AuthorityStatus } from './authority.js';

/** Seconds before its expiry from which a role is reported as expiring: a quarter of its period. */
export function warningWindow(policy: ExpiryPolicy, role: string): number {
  return expiryPeriod(policy, role) / 4;
}

/** What renews `role`: refresh (or the server) for snapshot and timestamp, resign then publish otherwise. */
export function renewHint(role: string, dir: string, serverManaged = false): string {
  if (role !== 'snapshot' && role !== 'timestamp')
    return `cnabsec resign ${dir} ${role}, then cnabsec publish ${dir}`;
  return serverManaged
    ? `the metadata repository server holds the ${role} key and renews it; check that it runs`
    : `cnabsec refresh ${dir} --force`;
}

/** The roles whose keys the metadata repository server holds for `repo` (doc 302), if any. */
export function serverHeldRoles(repo: LocalRepository): Set<string> {
  const { server, serverManaged } = repo.config;
  return new Set(server?.managed ?? (serverManaged ? ['snapshot', 'timestamp'] : []));
}

/** Each expiring or expired role's warning with what renews it: the server for the roles it holds. */
export function expiryWarnings(repo: LocalRepository, now: Date): string[] {
  const held = serverHeldRoles(repo);
  return repositoryStatus(repo, now)
    .roles.filter((r) => r.warning !== null)
    .map((r) => `${r.warning}; renew: ${renewHint(r.role, repo.store.location, held.has(r.role))}`);
}

export interface RoleStatus {
  role: string;
  publishedVersion: number | null;
  stagedVersion: number | null;
  expires: string | null;
  expiresIn: string | null;
  expired: boolean;
  /** Within the warning window, not yet expired. */
  expiring: boolean;
  warning: string | null;
  keyids: string[];
  threshold: number;
  signatures: AuthorityStatus[];
}

export interface RepositoryStatus {
  name: string;
  location: string;
  serverManaged: boolean;
  roles: RoleStatus[];
  staged: string[];
  warnings: string[];
  /** Roles clients refuse now. */
  expiredRoles: string[];
  /** Roles within their warning window. */
  expiringRoles: string[];
}

export function roleStatus(repo: LocalRepository, role: string, now: Date): RoleStatus {
  const md = repo.current(role);
  const pub = repo.published.get(role);
  const staged = repo.staged.get(role);
  const authorities = repo.authoritiesFor(role);
  const first = authorities[0];
  let warning: string | null = null;
  let expiresIn: string | null = null;
  let expired = false;
  let expiring = false;
  if (md !== undefined) {
    const left = (Date.parse(md.signed.expires) - now.getTime()) / 1000;
    expiresIn = formatDuration(left);
    expired = left <= 0;
    expiring = !expired && left < warningWindow(repo.config.expiry, role);
    if (expired)
      warning = `${role} v${md.signed.version} expired ${formatDuration(-left)} ago (${md.signed.expires})`;
    else if (expiring)
      warning = `${role} v${md.signed.version} expires in ${expiresIn} (${md.signed.expires})`;
  }
  return {
    role,
    publishedVersion: pub?.signed.version ?? null,
    stagedVersion: staged?.signed.version ?? null,
    expires: md?.signed.expires ?? null,
    expiresIn,
    expired,
    expiring,
    warning,
    keyids: first?.keyIDs ?? [],
    threshold: first?.threshold ?? 0,
    signatures: md === undefined ? [] : signatureStatus(repo, role, md),
  };
}

export function repositoryStatus(repo: LocalRepository, now = new Date()): RepositoryStatus {
  const roles = repo.roleNames().map((r) => roleStatus(repo, r, now));
  return {
    name: repo.config.name,
    location: repo.store.location,
    serverManaged: repo.config.serverManaged,
    roles,
    staged: [...repo.staged.keys()],
    warnings: roles.map((r) => r.warning).filter((w): w is string => w !== null),
    expiredRoles: roles.filter((r) => r.expired).map((r) => r.role),
    expiringRoles: roles.filter((r) => r.expiring).map((r) => r.role),
  };
}
