/**
 * Registry credentials: explicit, from CNABSEC_REGISTRY_USER / CNABSEC_REGISTRY_PASSWORD for
 * the hosts named in CNABSEC_REGISTRY_HOST (`docker login` is per host, so are these), or from
 * the docker CLI's config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, or
 * the `registryConfig` path given). In the file, as docker's `GetCredentialsStore` does: the
 * host's `credHelpers` entry, else `credsStore`, names a helper `docker-credential-<name>`
 * (./credential-helper.ts); else the `auths` entry: a base64 `auth` (`user:password`) or
 * `username` and `password`. Entries are found by registry host as docker's `GetAuthConfig`
 * does: the exact key first, then any key whose host (scheme and path removed) is the registry,
 * hosts compared lowercased; Docker Hub is the key `https://index.docker.io/v1/`.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { errnoOf } from '../util/errno.js';
import { parseJsonBounded, quote } from '../util/json.js';
import { RegistryError } from './errors.js';
import { helperCredentials } from './credential-helper.js';
import { DOCKER_HUB, isRegistryHost, normalizeHost } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
  /**
   * An identity token (a credential helper answered the user `<token>`): an OAuth2 refresh
   * token for the Bearer token service, never sent as a Basic password (ADR 0027).
   */
  identityToken?: string;
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

/** docker's `ConvertToHostname`: `https://host:5000/v1/` → `host:5000` (lowercased: hosts are case-insensitive). */
export function hostOfKey(key: string): string {
  const stripped = key.replace(/^https?:\/\//i, '');
  return normalizeHost(stripped.split('/')[0] as string);
}

function entryFor(auths: Record<string, unknown>, given: string): [string, unknown] | undefined {
  const registry = normalizeHost(given);
  const keys = registry === DOCKER_HUB ? HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`];
  for (const k of keys) if (Object.hasOwn(auths, k)) return [k, auths[k]];
  const wanted = registry === DOCKER_HUB ? new Set(HUB_KEYS.map(hostOfKey)) : new Set([registry]);
  for (const [k, v] of Object.entries(auths)) if (wanted.has(hostOfKey(k))) return [k, v];
  return undefined;
}

/** The server address a credential helper knows the registry by (docker: the Hub's is its v1 URL). */
function serverAddress(registry: string): string {
  return registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
}

function objectField(file: string, doc: unknown, field: string): Record<string, unknown> | undefined {
  const v = (doc as Record<string, unknown> | null)?.[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badConfig(file, `\`${field}\` is not an object`);
  return v as Record<string, unknown>;
}

/** The helper name for `registry`: its credHelpers entry, else credsStore; undefined for none. */
function helperFor(file: string, doc: unknown, registry: string): string | undefined {
  const helpers = objectField(file, doc, 'credHelpers');
  const own = helpers === undefined ? undefined : entryFor(helpers, registry);
  if (own !== undefined) {
    if (typeof own[1] !== 'string')
      throw badConfig(file, `credHelpers[${quote(own[0], 80)}] is not a string`);
    if (own[1] !== '') return own[1];
  }
  const store = (doc as Record<string, unknown> | null)?.credsStore;
  if (store === undefined || store === '') return undefined;
  if (typeof store !== 'string') throw badConfig(file, '`credsStore` is not a string');
  return store;
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
/**
 * The config file's text, read only if it is a regular file of at most MAX_CONFIG_BYTES: a
 * FIFO would block and /dev/zero would never end (undefined when there is no such file).
 */
function readConfigText(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO may not block the open
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw badConfig(file, `cannot be read (${errnoOf(e) ?? 'error'})`, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw badConfig(file, 'is not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw badConfig(file, `is larger than ${MAX_CONFIG_BYTES} bytes`);
    const buf = Buffer.alloc(st.size + 1); // one more byte: a file that grew is refused by the parser bound
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got)
      got = readSync(fd, buf, n, buf.length - n, null);
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    throw badConfig(file, `cannot be read (${errnoOf(e) ?? 'error'})`, e);
  } finally {
    closeSync(fd);
  }
}

export function dockerConfigCredentials(
  registry: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Credentials | undefined {
  const text = readConfigText(file);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseJsonBounded(text, { source: file, maxBytes: MAX_CONFIG_BYTES });
  } catch (e) {
    throw badConfig(file, 'is not valid JSON', e);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw badConfig(file, 'is not a JSON object');
  const host = normalizeHost(registry);
  const helper = helperFor(file, doc, host);
  // docker: with a helper for the host, the helper's answer is all there is (auths not read);
  // a helper missing from PATH falls back to auths (credential-helper.ts)
  if (helper !== undefined) {
    const got = helperCredentials(helper, serverAddress(host), { file, env });
    if (got !== 'missing') return got;
  }
  const auths = objectField(file, doc, 'auths');
  if (auths === undefined) return undefined;
  const found = entryFor(auths, host);
  return found === undefined ? undefined : decodeEntry(file, found[0], found[1]);
}

export interface DefaultCredentialOptions {
  /** A docker config.json to read instead of the default one. */
  registryConfig?: string;
  env?: NodeJS.ProcessEnv;
}

function badEnv(why: string): RegistryError {
  return new RegistryError('REGISTRY_BAD_CONFIG', `CNABSEC_REGISTRY_HOST: ${why}`, {
    details: { variable: 'CNABSEC_REGISTRY_HOST' },
    hint: 'set CNABSEC_REGISTRY_HOST to the registry host[:port] (comma-separated for several) that CNABSEC_REGISTRY_USER/CNABSEC_REGISTRY_PASSWORD are for',
  });
}

/**
 * The hosts CNABSEC_REGISTRY_USER/PASSWORD are for: CNABSEC_REGISTRY_HOST, comma-separated,
 * lowercased (`index.docker.io` is `docker.io`). Unset while the user is set is an error, not
 * "every host": a bundle names images on any registry, and the password must not go to them.
 */
export function envCredentialHosts(env: NodeJS.ProcessEnv): Set<string> {
  const text = env.CNABSEC_REGISTRY_HOST ?? '';
  if (text.trim() === '')
    throw badEnv('CNABSEC_REGISTRY_USER is set, but CNABSEC_REGISTRY_HOST does not say for which registry');
  const hosts = new Set<string>();
  for (const part of text.split(',').slice(0, 100)) {
    const h = normalizeHost(part.trim());
    if (h === '') continue;
    if (!isRegistryHost(h)) throw badEnv(`${quote(part.trim(), 100)} is not a registry host[:port]`);
    hosts.add(h === 'index.docker.io' ? DOCKER_HUB : h);
  }
  return hosts;
}

/**
 * CNABSEC_REGISTRY_USER/PASSWORD for the hosts of CNABSEC_REGISTRY_HOST, else the docker
 * config.json (credential helper or `auths` entry) for the host.
 */
export function defaultCredentials(
  options: DefaultCredentialOptions = {},
): (registry: string) => Credentials | undefined {
  const env = options.env ?? process.env;
  return (given) => {
    const registry = normalizeHost(given);
    const user = env.CNABSEC_REGISTRY_USER;
    const password = env.CNABSEC_REGISTRY_PASSWORD;
    if (user !== undefined && user !== '' && password !== undefined) {
      if (envCredentialHosts(env).has(registry === 'index.docker.io' ? DOCKER_HUB : registry))
        return { username: user, password };
    }
    return dockerConfigCredentials(registry, options.registryConfig ?? dockerConfigPath(env), env);
  };
}
