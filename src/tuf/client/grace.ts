/**
 * `--grace <duration>` for sites whose metadata cannot be refreshed in time (air-gapped sites
 * that import it, ADR 0030): the TUF update (§5.3-5.6) accepts metadata expired for at most
 * `graceMs`, and says so. Expiry is not switched off: tuf-js's trusted-metadata store compares
 * every `expires` with its `referenceTime` (§5.1, "fixed update start time"), which is moved
 * back by the grace for this one Updater only; every other check (signatures, thresholds,
 * versions, rollback, hashes) is unchanged. After the update, each role trusted while expired
 * at the real time is reported (`expiredRoles`), so the caller warns about every one of them.
 */
import type { Updater } from 'tuf-js';
import { TufError } from '../errors.js';

/** A role the update accepted past its expiry, within the grace. */
export interface GraceAccepted {
  role: string;
  version: number;
  expires: string;
  /** How long past its expiry it was at the update, in ms. */
  overdueMs: number;
}

interface SignedLike {
  signed: { version: number; expires: string; isExpired(at: Date): boolean };
}

interface StoreLike {
  referenceTime: Date;
  trustedSet: Record<string, SignedLike | undefined>;
}

/** The longest grace accepted: a year (anything longer is not a grace). */
export const MAX_GRACE_MS = 366 * 86_400_000;

function storeOf(updater: Updater): StoreLike | undefined {
  const store = (updater as unknown as { trustedSet?: StoreLike }).trustedSet;
  if (typeof store !== 'object' || store === null) return undefined;
  if (!(store.referenceTime instanceof Date) || typeof store.trustedSet !== 'object') return undefined;
  return store;
}

/** Move the expiry reference time of `updater` back by `graceMs` (TUF §5.1). */
export function applyGrace(updater: Updater, graceMs: number, now = Date.now()): void {
  if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw new TufError('INVALID_DURATION', `a grace of ${graceMs} ms is out of range`, {
      details: { graceMs },
      hint: 'give a grace from 0s to 366d, e.g. --grace 30d',
    });
  }
  const store = storeOf(updater);
  if (store === undefined) {
    throw new TufError('TUF_UPDATE_FAILED', 'this tuf-js has no trusted-metadata store to apply a grace to', {
      hint: 'cnabsec expects tuf-js 5.0.1; reinstall cnabsec with its locked dependencies',
    });
  }
  store.referenceTime = new Date(now - graceMs);
}

/** The trusted roles of `updater` expired at `now` (accepted within a grace), root first. */
export function expiredRoles(updater: Updater, now = new Date()): GraceAccepted[] {
  const set = storeOf(updater)?.trustedSet ?? {};
  const out: GraceAccepted[] = [];
  for (const [role, md] of Object.entries(set)) {
    if (md === undefined || !md.signed.isExpired(now)) continue;
    const expires = md.signed.expires;
    out.push({ role, version: md.signed.version, expires, overdueMs: now.getTime() - Date.parse(expires) });
  }
  const order = ['root', 'timestamp', 'snapshot', 'targets'];
  const rank = (r: string): number => (order.includes(r) ? order.indexOf(r) : order.length);
  return out.sort((a, b) => rank(a.role) - rank(b.role) || a.role.localeCompare(b.role));
}

/** `1d 2h`, `1d 0h`, `3h 5m`, `42s`: how long, in the largest unit not zero and the next. */
export function overdueText(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, ms);
  for (const [u, n] of units) {
    const q = Math.floor(rest / n);
    // the largest unit that is not zero, then the next one (`1d 0h`)
    if (q > 0 || parts.length > 0 || u === 's') parts.push(`${q}${u}`);
    rest -= q * n;
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}

/** The warning for one role accepted within the grace. */
export function graceWarning(repository: string, r: GraceAccepted): string {
  return `${repository}: ${r.role} v${r.version} expired ${r.expires}, ${overdueText(r.overdueMs)} ago; accepted within --grace`;
}
