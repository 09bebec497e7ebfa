/**
 * Role names, metadata file names and the expiry policy.
 *
 * Expiry defaults follow CNAB-Sec doc 301 (MVP): root yearly, targets monthly, snapshot and
 * timestamp daily; delegated targets roles (e.g. `targets/releases`) monthly like targets.
 */
import { MetadataKind } from '@tufjs/models';
import { TufError } from './errors.js';
import { isRoleName } from './names.js';
import { durationSeconds } from '../util/duration.js';

export const TOP_LEVEL_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type TopLevelRole = (typeof TOP_LEVEL_ROLES)[number];

export function isTopLevel(role: string): role is TopLevelRole {
  return (TOP_LEVEL_ROLES as readonly string[]).includes(role);
}

export function kindOf(role: string): MetadataKind {
  switch (role) {
    case 'root':
      return MetadataKind.Root;
    case 'snapshot':
      return MetadataKind.Snapshot;
    case 'timestamp':
      return MetadataKind.Timestamp;
    default:
      return MetadataKind.Targets;
  }
}

/**
 * File name of a role's metadata in a consistent-snapshot repository (TUF spec §5.5):
 * `<version>.<role>.json`, with the role name URL-encoded as python-tuf and tuf-js request it
 * (`targets/releases` → `1.targets%2Freleases.json`); timestamp is unversioned.
 */
export function metadataFileName(role: string, version: number): string {
  return role === 'timestamp' ? 'timestamp.json' : `${version}.${encodeURIComponent(role)}.json`;
}

/**
 * Where a static host that decodes `%2F` (nginx, S3 and others map the request path
 * `/1.targets%2Freleases.json` to the file `1.targets/releases.json`) looks for a delegated
 * role's file: the same bytes are also written there (ADR 0012). Undefined when the
 * role name has no `/` (one file serves every host) or is outside the role grammar.
 */
export function decodedMetadataFileName(role: string, version: number): string | undefined {
  if (role === 'timestamp' || !role.includes('/') || !isRoleName(role)) return undefined;
  return `${version}.${role}.json`;
}

export type ExpiryPolicy = Record<TopLevelRole | 'delegated', number>;

const DAY = 86_400;
export const DEFAULT_EXPIRY: ExpiryPolicy = {
  root: 365 * DAY,
  targets: 30 * DAY,
  snapshot: DAY,
  timestamp: DAY,
  delegated: 30 * DAY,
};

/**
 * How often `cnabsec refresh` is expected to run (cron or CI; docs/key-management.md says
 * "more often than once a day"; an hourly job is the assumed worst case), in seconds.
 */
export const REFRESH_INTERVAL = 3600;

/**
 * The refresh rule: `refresh` renews snapshot and timestamp once less than half their period
 * is left (its default `--if-expiring-within`), so a period must be at least twice the
 * refresh interval for one refresh run to fall inside that window before the role expires.
 * Root, targets and delegated roles are renewed by hand (`resign`), so they are not bound by
 * it. Shorter periods are refused (EXPIRY_TOO_SHORT) wherever a policy is set (init).
 */
export const MIN_REFRESHED_EXPIRY = 2 * REFRESH_INTERVAL;

/** The roles `refresh` renews on its own (doc 302 periodic task). */
export const REFRESHED_ROLES = ['snapshot', 'timestamp'] as const;

/** `seconds` in the largest unit that divides it exactly (5400 → `90m`), as parseDuration reads it. */
function exactDuration(seconds: number): string {
  for (const [u, n] of [
    ['d', DAY],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % n === 0) return `${seconds / n}${u}`;
  return `${seconds}s`;
}

/** Check `policy` against the refresh rule above; returns it. */
export function checkExpiryPolicy<P extends Partial<ExpiryPolicy>>(policy: P): P {
  for (const role of REFRESHED_ROLES) {
    const period = policy[role];
    if (period !== undefined && period < MIN_REFRESHED_EXPIRY) {
      throw new TufError(
        'EXPIRY_TOO_SHORT',
        `${role} expiry ${exactDuration(period)} is shorter than ${formatDuration(MIN_REFRESHED_EXPIRY)} (twice the ${formatDuration(REFRESH_INTERVAL)} refresh interval)`,
        {
          details: { role, seconds: period, minimum: MIN_REFRESHED_EXPIRY },
          hint: `give --expires-${role} ${formatDuration(MIN_REFRESHED_EXPIRY)} or more: \`cnabsec refresh\` renews ${role} when half its period is left and is expected to run at least every ${formatDuration(REFRESH_INTERVAL)}`,
        },
      );
    }
  }
  return policy;
}

export function expiryPeriod(policy: ExpiryPolicy, role: string): number {
  return isTopLevel(role) ? policy[role] : policy.delegated;
}

/** Parse a duration such as `30d`, `12h`, `90m`, `3600s`, `2w`, `1y` into seconds (src/util/duration.ts). */
export function parseDuration(text: string): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined) {
    throw new TufError('INVALID_DURATION', `"${text}" is not a duration`, {
      hint: 'write a positive number with a unit: s, m, h, d, w or y (e.g. 30d, 12h), at most 1000y',
    });
  }
  return seconds;
}

export function formatDuration(seconds: number): string {
  const abs = Math.abs(seconds);
  const [n, u] =
    abs >= DAY
      ? [abs / DAY, 'd']
      : abs >= 3600
        ? [abs / 3600, 'h']
        : abs >= 60
          ? [abs / 60, 'm']
          : [abs, 's'];
  return `${seconds < 0 && Math.floor(n) > 0 ? '-' : ''}${Math.floor(n)}${u}`;
}

/** TUF expiry string (ISO 8601, UTC, no fractional seconds) `seconds` after `now`. */
export function expiresAfter(now: Date, seconds: number): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + seconds * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}
