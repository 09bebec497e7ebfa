/**
 * `cnabsec server`'s configuration (issue 13 item 1, ADR 0024): every setting from, in this
 * order of precedence, a command-line flag, a `CNABSEC_SERVER_*` environment variable, the
 * `--config server.json` file, the default. One table (SETTINGS) names each setting's file
 * key, variable and flag and its syntax (./config-values.ts), so the three sources cannot
 * drift apart and a bad value is one SERVER_CONFIG error naming its source and the value.
 * The file is strict: an unknown key (a typo) is refused by name, and so is an unknown
 * CNABSEC_SERVER_* variable. Paths in the file are relative to the file's directory; paths
 * in flags and variables to the working directory. The master key itself is never a
 * setting: it is CNABSEC_SERVER_MASTER_KEY or the file named by `masterKeyFile`
 * (./master-key.ts), read by run.ts.
 */
import * as path from 'node:path';
import { defaultHome } from '../crypto/keystore.js';
import { DEFAULT_EXPIRY } from '../tuf/policy.js';
import { describeErrno } from '../util/errno.js';
import { readUserFile } from '../util/fs.js';
import { quote } from '../util/json.js';
import type { ServerConfig } from './app-types.js';
import { ServerError } from './errors.js';
import { MASTER_KEY_ENV } from './master-key.js';
import { DEFAULT_UPLOAD_LIMITS } from './upload-parse.js';
import {
  parseAuthMode,
  parseBoolean,
  parseDurationValue,
  parseFraction,
  parseListen,
  parseLogLevel,
  parseCount,
  parseDb,
  parsePath,
  parsePatternList,
  parseSize,
  type RawValue,
} from './config-values.js';

/** The flags of `cnabsec server` (raw text as typed; the CLI parsers have checked the syntax). */
export interface ServerFlags {
  listen?: string;
  db?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
  masterKeyFile?: string;
  logLevel?: string;
  refreshInterval?: string;
  /** false: `--no-online-keys`. */
  onlineKeys?: boolean;
  /** `none` or `tokens` (ADR 0032). */
  auth?: string;
}

export interface LoadServerConfigInput {
  flags?: ServerFlags;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The config file; else `flags.config`, else CNABSEC_SERVER_CONFIG, else none. */
  configFile?: string;
  /** Relative flag and variable paths are resolved against this (default `process.cwd()`). */
  cwd?: string;
}

export const ENV_PREFIX = 'CNABSEC_SERVER_';
export const CONFIG_ENV = `${ENV_PREFIX}CONFIG`;
/** A server.json is a few hundred bytes; anything above 1 MiB is not one. */
const MAX_CONFIG_BYTES = 1 << 20;

type Parse = (where: string, value: RawValue) => unknown;

interface Setting {
  /** The key in server.json, dotted for nested objects (`limits.role`). */
  key: string;
  /** The variable, without CNABSEC_SERVER_. */
  env: string;
  flag?: { name: keyof ServerFlags; text: string };
  parse: Parse;
  /** A path: resolved against the file's directory or the working directory. */
  isPath?: boolean;
}

const duration: Parse = (w, v) => parseDurationValue(w, v);

export const SETTINGS: readonly Setting[] = [
  { key: 'listen', env: 'LISTEN', flag: { name: 'listen', text: '--listen' }, parse: parseListen },
  { key: 'db', env: 'DB', flag: { name: 'db', text: '--db' }, parse: parseDb, isPath: true },
  { key: 'dbPoolSize', env: 'DB_POOL_SIZE', parse: (w, v) => parseCount(w, v, 1000) },
  {
    key: 'tls.cert',
    env: 'TLS_CERT',
    flag: { name: 'tlsCert', text: '--tls-cert' },
    parse: parsePath,
    isPath: true,
  },
  {
    key: 'tls.key',
    env: 'TLS_KEY',
    flag: { name: 'tlsKey', text: '--tls-key' },
    parse: parsePath,
    isPath: true,
  },
  {
    key: 'masterKeyFile',
    env: 'MASTER_KEY_FILE',
    flag: { name: 'masterKeyFile', text: '--master-key-file' },
    parse: parsePath,
    isPath: true,
  },
  {
    key: 'onlineKeys',
    env: 'ONLINE_KEYS',
    flag: { name: 'onlineKeys', text: '--no-online-keys' },
    parse: parseBoolean,
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    flag: { name: 'logLevel', text: '--log-level' },
    parse: parseLogLevel,
  },
  {
    key: 'refreshInterval',
    env: 'REFRESH_INTERVAL',
    flag: { name: 'refreshInterval', text: '--refresh-interval' },
    parse: (w, v) => parseDurationValue(w, v, true),
  },
  { key: 'refreshFraction', env: 'REFRESH_FRACTION', parse: parseFraction },
  { key: 'expiry.timestamp', env: 'TIMESTAMP_EXPIRY', parse: duration },
  { key: 'expiry.snapshot', env: 'SNAPSHOT_EXPIRY', parse: duration },
  { key: 'limits.role', env: 'MAX_ROLE_SIZE', parse: parseSize },
  { key: 'limits.targets', env: 'MAX_TARGETS_SIZE', parse: parseSize },
  { key: 'limits.targetFile', env: 'MAX_TARGET_FILE_SIZE', parse: parseSize },
  { key: 'limits.body', env: 'MAX_BODY_SIZE', parse: parseSize },
  { key: 'shutdownGrace', env: 'SHUTDOWN_GRACE', parse: duration },
  { key: 'auth', env: 'AUTH', flag: { name: 'auth', text: '--auth' }, parse: parseAuthMode },
  { key: 'anonymousRead', env: 'ANONYMOUS_READ', parse: parsePatternList },
];

/** Variables under the prefix that are not settings of the table. */
const OTHER_ENV = new Set([MASTER_KEY_ENV, CONFIG_ENV]);

/** Defaults (docs/server.md); the body default is computed from the limits (bodyDefault). */
export const SERVER_DEFAULTS = {
  listen: { host: '127.0.0.1', port: 4443 },
  /** PostgreSQL connections per server process (ADR 0031). */
  dbPoolSize: 10,
  logLevel: 'info',
  onlineKeys: true,
  /** Doc 301 (MVP): snapshot and timestamp daily, as src/tuf/policy.ts. */
  expiry: { timestamp: DEFAULT_EXPIRY.timestamp, snapshot: DEFAULT_EXPIRY.snapshot },
  /** Re-sign once less than half the lifetime is left (the `refresh` rule of src/tuf/policy.ts). */
  refreshFraction: 0.5,
  refreshIntervalSeconds: 60,
  shutdownGraceSeconds: 30,
  /** Issue 13's accept-all, for compatibility (ADR 0032); `tokens` is one setting away. */
  auth: 'none',
} as const;

/**
 * The default largest request: the largest targets plus four largest target files (128 MiB
 * at the default limits). An upload is roles (root, snapshot, timestamp, delegations: 1 MiB
 * each), one targets and a few in-toto files; a bigger one needs `limits.body` raised.
 */
export function bodyDefault(limits: { targets: number; targetFile: number }): number {
  return limits.targets + 4 * limits.targetFile;
}

function configError(message: string, details: Record<string, unknown>, cause?: unknown): ServerError {
  return new ServerError('SERVER_CONFIG', message, {
    details,
    ...(cause === undefined ? {} : { cause }),
    hint: 'fix the config file (docs/server.md lists every key) or give the setting as a flag',
  });
}

/** The file as `{key → value}` (dotted keys), unknown keys refused by name. */
function flattenFile(file: string, doc: unknown): Map<string, RawValue> {
  const known = new Set(SETTINGS.map((s) => s.key));
  const groups = new Set(SETTINGS.filter((s) => s.key.includes('.')).map((s) => s.key.split('.')[0]));
  const out = new Map<string, RawValue>();
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(doc)) throw configError(`${file}: not a JSON object`, { file });
  for (const [k, v] of Object.entries(doc)) {
    if (groups.has(k)) {
      if (!isObject(v)) throw configError(`${file}: ${k} is not an object`, { file, key: k });
      for (const [k2, v2] of Object.entries(v)) {
        if (!known.has(`${k}.${k2}`)) throw unknownKey(file, `${k}.${k2}`);
        out.set(`${k}.${k2}`, v2);
      }
    } else if (known.has(k)) out.set(k, v);
    else throw unknownKey(file, k);
  }
  return out;
}

function unknownKey(file: string, key: string): ServerError {
  const keys = SETTINGS.map((s) => s.key).join(', ');
  return configError(`${file}: unknown key ${quote(key)} (known: ${keys})`, { file, key });
}

async function readConfigFile(file: string): Promise<Map<string, RawValue>> {
  let text: string;
  try {
    text = (await readUserFile(file, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (e) {
    throw configError(`${file}: cannot read the config file: ${describeErrno(e)}`, { file }, e);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw configError(`${file}: not JSON: ${why}`, { file }, e);
  }
  return flattenFile(file, doc);
}

function checkEnv(env: NodeJS.ProcessEnv): void {
  const known = new Set(SETTINGS.map((s) => ENV_PREFIX + s.env));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name) || OTHER_ENV.has(name)) continue;
    throw new ServerError('SERVER_CONFIG', `${name}: unknown variable (a typo?)`, {
      details: { source: name },
      hint: `unset it; the variables are ${[...known, ...OTHER_ENV].join(', ')} (docs/server.md)`,
    });
  }
}

interface Chosen {
  value: unknown;
  /** Directory a relative path is resolved against. */
  base: string;
}

/** The `db` setting: a postgres:// URL as given, a path resolved against its base. */
function dbOf(c: Chosen | undefined): string | undefined {
  if (c === undefined) return undefined;
  const v = c.value as string;
  return /^postgres(ql)?:\/\//i.test(v) ? v : path.resolve(c.base, v);
}

/** Each setting from its flag, variable or file key, parsed; absent settings not in the map. */
function choose(
  flags: ServerFlags,
  env: NodeJS.ProcessEnv,
  file: { name: string; values: Map<string, RawValue> } | undefined,
  cwd: string,
): Map<string, Chosen> {
  const out = new Map<string, Chosen>();
  for (const s of SETTINGS) {
    const flag = s.flag === undefined ? undefined : flags[s.flag.name];
    const fromEnv = env[ENV_PREFIX + s.env];
    let raw: { where: string; value: RawValue; base: string } | undefined;
    if (s.flag !== undefined && flag !== undefined) raw = { where: s.flag.text, value: flag, base: cwd };
    else if (fromEnv !== undefined && fromEnv !== '')
      raw = { where: ENV_PREFIX + s.env, value: fromEnv, base: cwd };
    else if (file?.values.has(s.key))
      raw = { where: `${file.name}: ${s.key}`, value: file.values.get(s.key), base: path.dirname(file.name) };
    if (raw === undefined) continue;
    out.set(s.key, { value: s.parse(raw.where, raw.value), base: raw.base });
  }
  return out;
}

/** Merge flags, CNABSEC_SERVER_* variables, the config file and the defaults (see the module comment). */
export async function loadServerConfig(input: LoadServerConfigInput = {}): Promise<ServerConfig> {
  const flags = input.flags ?? {};
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  checkEnv(env);
  const fromEnv = env[CONFIG_ENV];
  const fileName =
    input.configFile ?? flags.config ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined);
  const file =
    fileName === undefined
      ? undefined
      : { name: path.resolve(cwd, fileName), values: await readConfigFile(path.resolve(cwd, fileName)) };
  const chosen = choose(flags, env, file, cwd);
  const get = <T>(key: string, fallback: T): T => (chosen.get(key)?.value as T | undefined) ?? fallback;
  const pathOf = (key: string): string | undefined => {
    const c = chosen.get(key);
    return c === undefined ? undefined : path.resolve(c.base, c.value as string);
  };
  const cert = pathOf('tls.cert');
  const key = pathOf('tls.key');
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'certificate (--tls-cert)' : 'key (--tls-key)';
    throw new ServerError(
      'SERVER_CONFIG',
      `TLS needs both a certificate and a key: the ${missing} is not given`,
      {
        details: { source: cert === undefined ? 'tls.cert' : 'tls.key' },
        hint: 'give both --tls-cert and --tls-key (or tls.cert and tls.key in the config file), or neither',
      },
    );
  }
  const limits = {
    role: get('limits.role', DEFAULT_UPLOAD_LIMITS.role),
    targets: get('limits.targets', DEFAULT_UPLOAD_LIMITS.targets),
    targetFile: get('limits.targetFile', DEFAULT_UPLOAD_LIMITS.targetFile),
  };
  const masterKeyFile = pathOf('masterKeyFile');
  return {
    listen: get('listen', { ...SERVER_DEFAULTS.listen }),
    db: dbOf(chosen.get('db')) ?? path.join(path.resolve(cwd, defaultHome(env)), 'server', 'cnabsec.db'),
    dbPoolSize: get('dbPoolSize', SERVER_DEFAULTS.dbPoolSize),
    ...(cert === undefined || key === undefined ? {} : { tls: { cert, key } }),
    ...(masterKeyFile === undefined ? {} : { masterKeyFile }),
    onlineKeys: get('onlineKeys', SERVER_DEFAULTS.onlineKeys),
    limits: { ...limits, body: get('limits.body', bodyDefault(limits)) },
    expiry: {
      timestamp: get('expiry.timestamp', SERVER_DEFAULTS.expiry.timestamp),
      snapshot: get('expiry.snapshot', SERVER_DEFAULTS.expiry.snapshot),
    },
    refreshFraction: get('refreshFraction', SERVER_DEFAULTS.refreshFraction),
    refreshIntervalSeconds: get('refreshInterval', SERVER_DEFAULTS.refreshIntervalSeconds),
    shutdownGraceSeconds: get('shutdownGrace', SERVER_DEFAULTS.shutdownGraceSeconds),
    logLevel: get('logLevel', SERVER_DEFAULTS.logLevel),
    auth: get('auth', SERVER_DEFAULTS.auth),
    anonymousRead: get<string[]>('anonymousRead', []),
  };
}
