/**
 * The value syntaxes of `cnabsec server`'s settings (./config.ts), the same whether a value
 * comes from a flag, a CNABSEC_SERVER_* variable or server.json: `host:port`, durations in
 * the one syntax of src/util/duration.ts (`30d`, `12h`), sizes in bytes (`1048576`, or with a
 * binary unit `1MiB`, `64MiB`, `16KiB`, `1GiB`), booleans, a fraction in (0, 1). A bad value
 * is SERVER_CONFIG naming where it came from (`--listen`, `CNABSEC_SERVER_DB`,
 * `server.json: limits.role`) and the value.
 */
import { isIP } from 'node:net';
import { DURATION_SYNTAX, durationSeconds } from '../util/duration.js';
import { quote } from '../util/json.js';
import { ServerError } from './errors.js';
import { checkPatterns } from './tokens.js';

/** A raw setting: text from a flag or variable, any JSON value from the file. */
export type RawValue = unknown;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The syntax of `--listen`, for messages and the CLI parser. */
export const LISTEN_SYNTAX =
  'host:port such as 127.0.0.1:4443, [::1]:4443 or 0.0.0.0:4443 (port 0: any free port)';
export const SIZE_SYNTAX = 'a size in bytes such as 1048576, 1024KiB, 64MiB or 1GiB (at least 1)';

const UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** SERVER_CONFIG: `<where>: <value> is not <expected>`. */
export function badValue(where: string, value: RawValue, expected: string): ServerError {
  const shown = typeof value === 'string' ? quote(value) : JSON.stringify(value);
  return new ServerError('SERVER_CONFIG', `${where}: ${shown} is not ${expected}`, {
    details: { source: where, value: typeof value === 'string' ? value : JSON.stringify(value) },
    hint: 'fix that setting (docs/server.md lists every setting, its syntax and its default)',
  });
}

function text(where: string, value: RawValue, expected: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw badValue(where, value, expected);
  return value.trim();
}

/** `host:port`; IPv6 in brackets. The host is an IP address or a DNS name. */
export function parseListen(where: string, value: RawValue): { host: string; port: number } {
  const t = text(where, value, LISTEN_SYNTAX);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(t);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const hostOk =
    host !== undefined &&
    (m?.[1] !== undefined
      ? isIP(host) === 6
      : isIP(host) === 4 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host));
  if (!hostOk || !Number.isInteger(port) || port > 65_535) throw badValue(where, value, LISTEN_SYNTAX);
  return { host, port };
}

/** Whether a listen host is this machine only (127/8, also IPv4-mapped, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(host);
}

/** A duration (`30d`, `12h`, `90s`) in seconds; `allowZero`: also `0` (off). */
export function parseDurationValue(where: string, value: RawValue, allowZero = false): number {
  const expected = allowZero ? `${DURATION_SYNTAX}, or 0 (off)` : DURATION_SYNTAX;
  if (allowZero && (value === 0 || value === '0')) return 0;
  const seconds = durationSeconds(text(where, value, expected));
  if (seconds === undefined) throw badValue(where, value, expected);
  return seconds;
}

/** A size in bytes: an integer (JSON number or digits), or digits and KiB/MiB/GiB. */
export function parseSize(where: string, value: RawValue): number {
  const t = typeof value === 'number' ? String(value) : text(where, value, SIZE_SYNTAX);
  const m = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(t);
  const n = m?.[1] === undefined ? NaN : Number(m[1]) * (UNITS[m[2] ?? ''] ?? NaN);
  if (!Number.isSafeInteger(n) || n < 1) throw badValue(where, value, SIZE_SYNTAX);
  return n;
}

/** A fraction strictly between 0 and 1 (`0.5`). */
export function parseFraction(where: string, value: RawValue): number {
  const expected = 'a fraction between 0 and 1 such as 0.5 (both excluded)';
  const t = typeof value === 'number' ? String(value) : text(where, value, expected);
  if (!/^(0?\.\d+|0|1(\.0*)?)$/.test(t)) throw badValue(where, value, expected);
  const f = Number(t);
  if (!(f > 0 && f < 1)) throw badValue(where, value, expected);
  return f;
}

export function parseLogLevel(where: string, value: RawValue): LogLevel {
  const expected = `a log level (${LOG_LEVELS.join(', ')})`;
  const t = text(where, value, expected);
  const found = LOG_LEVELS.find((l) => l === t);
  if (found === undefined) throw badValue(where, value, expected);
  return found;
}

/** true/false (JSON booleans; in variables also 1/0, yes/no). */
export function parseBoolean(where: string, value: RawValue): boolean {
  if (typeof value === 'boolean') return value;
  const t = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  throw badValue(where, value, 'true or false');
}

/** The database: a SQLite file path, or a postgres:// / postgresql:// URL (issue 15, ADR 0031). */
export function parseDb(where: string, value: RawValue): string {
  const t = text(where, value, 'a file path or a postgres:// URL');
  if (t.includes('\0')) throw badValue(where, value, 'a file path or a postgres:// URL');
  if (!/^postgres(ql)?:\/\//i.test(t)) return t;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    // never echo a URL that may hold a password
    throw badValue(where, 'postgres://…', 'a postgres://user@host:port/database URL');
  }
  if (url.hostname === '' && !url.searchParams.has('host'))
    throw badValue(where, 'postgres://…', 'a postgres://user@host:port/database URL (no host)');
  return t;
}

/** A whole number from 1 to `max`. */
export function parseCount(where: string, value: RawValue, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw badValue(where, value, `a whole number from 1 to ${max}`);
  return n;
}

/** A non-empty path (resolved by the caller). */
export function parsePath(where: string, value: RawValue): string {
  const t = text(where, value, 'a file path');
  if (t.includes('\0')) throw badValue(where, value, 'a file path');
  return t;
}

export const AUTH_MODES = ['none', 'tokens'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** `none` (accept every caller) or `tokens` (ADR 0032). */
export function parseAuthMode(where: string, value: RawValue): AuthMode {
  const expected = 'none or tokens';
  const t = text(where, value, expected);
  const found = AUTH_MODES.find((m) => m === t);
  if (found === undefined) throw badValue(where, value, expected);
  return found;
}

/**
 * Repository patterns (./tokens.ts): a JSON array of strings in the file, a comma-separated
 * list in a variable; an empty list (`[]`, `""`) is none.
 */
export function parsePatternList(where: string, value: RawValue): string[] {
  const expected =
    'a list of repository patterns such as example.com/acme/* (a JSON array, or comma-separated)';
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (typeof value === 'string')
    list = value
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
  else throw badValue(where, value, expected);
  if (!list.every((p): p is string => typeof p === 'string')) throw badValue(where, value, expected);
  if (list.length === 0) return [];
  try {
    return checkPatterns(list);
  } catch (e) {
    if (!(e instanceof ServerError)) throw e;
    throw badValue(where, value, `${expected}: ${e.message}`);
  }
}
