/**
 * The one duration syntax of cnabsec (ADR 0017): a positive whole number and a unit, `90s`,
 * `15m`, `12h`, `30d`, `2w`, `1y` (365 days), at most 1000 years. Used by the expiry policy
 * (src/tuf/policy.ts parseDuration) and by every duration option of the CLI
 * (src/cli/options.ts); it lives here, below both, so that the in-toto commands can check a
 * duration without loading TUF.
 */

const DAY = 86_400;
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: DAY, w: 7 * DAY, y: 365 * DAY };

/** Longest duration: far longer periods give no valid Date (RangeError at expiresAfter). */
export const MAX_DURATION_SECONDS = 1000 * 365 * DAY;

/** What a duration looks like, for messages. */
export const DURATION_SYNTAX = 'a duration such as 30d, 12h or 90s (units s, m, h, d, w, y; at most 1000y)';

/** `text` as a number of seconds, or undefined when it is not a duration. */
export function durationSeconds(text: string): number | undefined {
  const m = /^(\d+)\s*([smhdwy])$/.exec(text.trim());
  const unit = m?.[2] === undefined ? undefined : UNITS[m[2]];
  if (m?.[1] === undefined || unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return n > 0 && n <= MAX_DURATION_SECONDS ? n : undefined;
}
