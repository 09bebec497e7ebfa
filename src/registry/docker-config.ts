/**
 * Registry credentials: explicit, from CNABSEC_REGISTRY_USER / CNABSEC_REGISTRY_PASSWORD, or
 * from the docker CLI's config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`,
 * or the `registryConfig` path given). Entries of `auths` hold a base64 `auth` (`user:password`)
 * or `username` and `password`; they are found by registry host as docker's `GetAuthConfig`
 * does: the exact key first, then any key whose host (scheme and path removed) is the registry;
 * Docker Hub is the key `https://index.docker.io/v1/`. Credential helpers (`credsStore`,
 * `credHelpers`) and identity tokens are not supported.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { errnoOf } from '../util/errno.js';
import { parseJsonBounded, quote } from '../util/json.js';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a registry host, or a function giving them (undefined: anonymous). */
export type CredentialSource = Credentials | ((registry: string) => Credentials | undefined);

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
const MAX_CONFIG_BYTES = 1024 * 1024;

function badConfig(file: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError('REGISTRY_BAD_CONFIG', `${file}: ${why}`, {
    cause,
    details: { file },
    hint: 'fix or remove the entry (docker login rewrites it), or give credentials another way',
  });
}

/** docker's `ConvertToHostname`: `https://host:5000/v1/` → `host:5000`. */
export function hostOfKey(key: string): string {
  const stripped = key.replace(/^https?:\/\//, '');
  return stripped.split('/')[0] as string;
}

function entryFor(auths: Record<string, unknown>, registry: string): [string, unknown] | undefined {
  const keys = registry === DOCKER_HUB ? HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`];
  for (const k of keys) if (Object.hasOwn(auths, k)) return [k, auths[k]];
  const wanted = registry === DOCKER_HUB ? new Set(HUB_KEYS.map(hostOfKey)) : new Set([registry]);
  for (const [k, v] of Object.entries(auths)) if (wanted.has(hostOfKey(k))) return [k, v];
  return undefined;
}

function decodeEntry(file: string, key: string, entry: unknown): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw badConfig(file, `auths[${quote(key, 80)}] is not an object`);
  const e = entry as Record<string, unknown>;
  if (typeof e.auth === 'string' && e.auth !== '') {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) throw badConfig(file, `auths[${quote(key, 80)}].auth is not base64 of user:password`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '') {
    return { username: e.username, password: e.password };
  }
  return undefined;
}

/** The default config.json path: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG;
  return dir !== undefined && dir !== ''
    ? path.join(dir, 'config.json')
    : path.join(homedir(), '.docker', 'config.json');
}

/** Credentials for `registry` from a docker config.json; undefined when the file or entry is absent. */
export function dockerConfigCredentials(registry: string, file: string): Credentials | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw badConfig(file, `cannot be read (${errnoOf(e) ?? 'error'})`, e);
  }
  let doc: unknown;
  try {
    doc = parseJsonBounded(text, { source: file, maxBytes: MAX_CONFIG_BYTES });
  } catch (e) {
    throw badConfig(file, 'is not valid JSON', e);
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  if (auths === undefined) return undefined;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths))
    throw badConfig(file, '`auths` is not an object');
  const found = entryFor(auths as Record<string, unknown>, registry);
  return found === undefined ? undefined : decodeEntry(file, found[0], found[1]);
}

export interface DefaultCredentialOptions {
  /** A docker config.json to read instead of the default one. */
  registryConfig?: string;
  env?: NodeJS.ProcessEnv;
}

/** CNABSEC_REGISTRY_USER/PASSWORD when both are set, else the docker config.json entry. */
export function defaultCredentials(
  options: DefaultCredentialOptions = {},
): (registry: string) => Credentials | undefined {
  const env = options.env ?? process.env;
  return (registry) => {
    const user = env.CNABSEC_REGISTRY_USER;
    const password = env.CNABSEC_REGISTRY_PASSWORD;
    if (user !== undefined && user !== '' && password !== undefined) return { username: user, password };
    return dockerConfigCredentials(registry, options.registryConfig ?? dockerConfigPath(env));
  };
}
