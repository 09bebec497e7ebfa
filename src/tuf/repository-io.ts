/** Bytes of repository files: metadata (de)serialization, staged file names, the configuration. */
import { Metadata } from '@tufjs/models';
import type { JSONObject } from '@tufjs/models/dist/utils/types.js';
import type { AnyMetadata } from './authority.js';
import { RepositoryError, TufError } from './errors.js';
import { DEFAULT_EXPIRY, kindOf } from './policy.js';
import { JsonInputError, parseJsonBounded } from '../util/json.js';
import type { ExpiryPolicy } from './policy.js';
import type { PublicKeyJson } from '../crypto/keys.js';

export const CONFIG_FILE = 'cnabsec.json';
export const METADATA_DIR = 'metadata';
export const STAGED_DIR = 'staged';

const encoder = new TextEncoder();

export interface RepositoryConfig {
  _type: 'cnabsec-repository';
  version: 1;
  /** Bundle repository name, e.g. `example.com/org/bundle`; targets are `<name>:<tag>`. */
  name: string;
  /** Expiry periods in seconds. */
  expiry: ExpiryPolicy;
  /** Timestamp and snapshot keys held by the metadata repository server (doc 302 setup). */
  serverManaged: boolean;
  /**
   * The metadata repository server this repository publishes to (issue 13, ADR 0025); absent
   * for a repository published as files. `managed`: the roles whose keys the server holds and
   * signs with (`serverManaged` is then true).
   */
  server?: RepositoryServer;
  /** Root compromise recovery in progress (./recovery.ts): this root version is signed by its own keys only. */
  recovery?: { rootVersion: number; trustedVersion: number };
}

/** Roles a metadata repository server may hold the keys of (doc 302). */
export type ServerRole = 'snapshot' | 'timestamp';

export interface RepositoryServer {
  /** Base URL of the server, e.g. `https://tuf.example.com` (metadata under `/v2/<name>/_trust/tuf`). */
  url: string;
  managed: ServerRole[];
}

export interface RoleKeys {
  keys: PublicKeyJson[];
  threshold: number;
}

export interface CreateOptions {
  name: string;
  roles: Record<'root' | 'targets' | 'snapshot' | 'timestamp', RoleKeys>;
  expiry?: Partial<ExpiryPolicy>;
  serverManaged?: boolean;
  server?: RepositoryServer;
  now?: Date;
}

export function checkThreshold(role: string, spec: RoleKeys): void {
  if (!Number.isInteger(spec.threshold) || spec.threshold < 1) {
    throw new TufError('INVALID_ARGUMENT', `threshold of ${role} must be a positive integer`);
  }
  if (spec.keys.length < spec.threshold) {
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `${role} would have ${spec.keys.length} key(s) for a threshold of ${spec.threshold}`,
      { details: { role }, hint: 'give at least as many keys as the threshold' },
    );
  }
}

export function serialize(md: AnyMetadata): Uint8Array {
  return encoder.encode(JSON.stringify(md.toJSON()));
}

/**
 * Metadata from a repository file, bounded (ADR 0007: depth 64). Published files hold only safe
 * integers (publish never signs others), so any other number marks a corrupt file; a staged file
 * edited by hand is left to the signable check (`UNSIGNABLE_VALUE`, naming the field) instead.
 */
export function parseMetadata(
  role: string,
  bytes: Uint8Array,
  where: string,
  options: { staged?: boolean } = {},
): AnyMetadata {
  try {
    const json = parseJsonBounded(bytes, {
      source: where,
      integersOnly: options.staged !== true,
    }) as JSONObject;
    const md = Metadata.fromJSON(kindOf(role) as never, json) as AnyMetadata;
    return md;
  } catch (e) {
    // a value no TUF peer reads the same way (ADR 0007), e.g. a float put in a staged file by hand
    const unsignable = e instanceof JsonInputError && e.code === 'JSON_NUMBER_UNSAFE';
    const detail = e instanceof JsonInputError ? e.message.replace(`${where}: `, '') : undefined;
    const why = detail === undefined ? '' : `: ${detail}`;
    throw new RepositoryError('REPO_CORRUPT', `${where} is not valid ${role} metadata${why}`, {
      cause: e,
      details: { role, path: where },
      hint: unsignable
        ? 'signed metadata holds only integers in the safe range: remove the value (for a staged target, `cnabsec bundle remove` and add it again with another --custom)'
        : 'the file is truncated or was edited by hand; restore it from a backup or re-publish',
    });
  }
}

export function stagedPath(role: string): string {
  return `${STAGED_DIR}/${encodeURIComponent(role)}.json`;
}

function checkServer(server: unknown): void {
  const s = server as Partial<RepositoryServer> | null;
  if (typeof s?.url !== 'string' || !/^https?:\/\/[^/]/.test(s.url))
    throw new Error('server.url is not an http(s) URL');
  const managed: unknown = s.managed;
  if (!Array.isArray(managed) || managed.some((r) => r !== 'snapshot' && r !== 'timestamp'))
    throw new Error('server.managed is not a list of snapshot, timestamp');
}

/** Parse and check `cnabsec.json`; REPO_CORRUPT naming it otherwise. */
export function parseConfig(raw: Uint8Array, location: string): RepositoryConfig {
  let config: RepositoryConfig;
  try {
    config = parseJsonBounded(raw, {
      source: `${location}/${CONFIG_FILE}`,
      maxBytes: 1 << 20,
    }) as RepositoryConfig;
    if (config._type !== 'cnabsec-repository' || typeof config.name !== 'string')
      throw new Error('bad _type');
    const expiry = config.expiry as Partial<Record<string, unknown>> | null | undefined;
    for (const k of Object.keys(DEFAULT_EXPIRY)) {
      const v = expiry?.[k];
      if (typeof v !== 'number' || !(v > 0)) throw new Error(`expiry.${k} is not a positive number`);
    }
    if (config.server !== undefined) checkServer(config.server);
  } catch (e) {
    throw new TufError(
      'REPO_CORRUPT',
      `${location}/${CONFIG_FILE} is not a cnabsec repository configuration`,
      {
        cause: e,
        details: { path: `${location}/${CONFIG_FILE}` },
        hint: `the file is truncated or was edited by hand; restore it from a backup (it holds _type, version, name, expiry, serverManaged and optionally server {url, managed})`,
      },
    );
  }
  return config;
}
