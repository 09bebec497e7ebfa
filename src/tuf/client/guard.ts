/**
 * Checks on metadata bytes from the network (or the pinned root from disk) before tuf-js parses
 * them (ADR 0009). A new root is parsed before any signature is checked (TUF §5.3.4
 * verifies it afterwards), as is targets metadata whose snapshot entry has no hashes, so an
 * unauthenticated server or a man in the middle chooses these bytes:
 *
 * - depth and numbers: `parseJsonBounded` (depth 64, safe integers only, ADR 0007), one linear
 *   scan before `JSON.parse`;
 * - `signed._type` must be the role the file name says (tuf-js would quote any other value,
 *   however long, into its message);
 * - the shape: every field @tufjs/models dereferences has its type (./shape.ts);
 * - the maps that @tufjs/models builds with a quadratic `{ ...acc, [k]: v }` (root keys and
 *   roles, snapshot meta, delegation keys and roles; ADR 0005) are bounded in size, which bounds
 *   the time tuf-js spends on them.
 *
 * All checks are linear in the size of the file.
 */
import { JsonInputError, parseJsonBounded, quote } from '../../util/json.js';
import { RepositoryError } from '../errors.js';
import { metadataShapeProblem } from './shape.js';

/** Largest root metadata accepted from a repository (tuf-js allows 512 000 bytes). */
export const ROOT_MAX_BYTES = 128 * 1024;

export const METADATA_LIMITS = {
  /** Keys in a root or in one delegations object. */
  keys: 1024,
  /** Roles in a root (TUF has four top-level roles). */
  rootRoles: 16,
  /** Delegated roles in one targets metadata. */
  delegatedRoles: 1024,
  /** Entries in snapshot meta (one per targets role). */
  snapshotMeta: 4096,
  /** Signatures on one metadata file. */
  signatures: 1024,
} as const;

/** The role of a metadata file name: `[N.]ROLE.json`, ROLE URL-encoded (TUF §5.3.3, §5.6.1). */
export function roleOfFileName(url: string): { role: string; version?: number } | undefined {
  const base = url.slice(url.lastIndexOf('/') + 1);
  if (!base.endsWith('.json')) return undefined;
  let name = base.slice(0, -'.json'.length);
  let version: number | undefined;
  const dot = name.indexOf('.');
  if (dot > 0 && /^[0-9]{1,15}$/.test(name.slice(0, dot))) {
    version = Number(name.slice(0, dot));
    name = name.slice(dot + 1);
  }
  let role: string;
  try {
    role = decodeURIComponent(name);
  } catch {
    role = name;
  }
  return role === '' ? undefined : { role, ...(version === undefined ? {} : { version }) };
}

function typeOfRole(role: string): string {
  return role === 'root' || role === 'timestamp' || role === 'snapshot' ? role : 'targets';
}

function invalid(where: string, role: string, problem: string, cause?: unknown): RepositoryError {
  return new RepositoryError('TUF_METADATA_INVALID', `${where}: not valid ${role} metadata: ${problem}`, {
    cause,
    details: { role, source: where.slice(0, 1000), problem },
    hint: 'the server (or something between it and you) serves a corrupt or hostile file; do not use this repository until its owner has checked it',
  });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function countOf(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  return isObject(v) ? Object.keys(v).length : 0;
}

function checkCounts(signed: Record<string, unknown>, type: string, fail: (p: string) => Error): void {
  const over = (what: string, v: unknown, max: number): void => {
    const n = countOf(v);
    if (n > max) throw fail(`${n} ${what}, more than the limit of ${max}`);
  };
  if (type === 'root') {
    over('keys', signed.keys, METADATA_LIMITS.keys);
    over('roles', signed.roles, METADATA_LIMITS.rootRoles);
  } else if (type === 'snapshot') {
    over('meta entries', signed.meta, METADATA_LIMITS.snapshotMeta);
  } else if (type === 'targets' && isObject(signed.delegations)) {
    over('delegation keys', signed.delegations.keys, METADATA_LIMITS.keys);
    over('delegated roles', signed.delegations.roles, METADATA_LIMITS.delegatedRoles);
  }
}

/**
 * Check metadata of `role` (default: the role its file name says) from `where` (a URL or a
 * path); throws `RepositoryError` TUF_METADATA_INVALID. Returns the parsed document.
 */
export function checkMetadataBytes(where: string, bytes: Uint8Array, role?: string): unknown {
  const r = role ?? roleOfFileName(where)?.role ?? 'targets';
  const shown = quote(where, 200);
  const fail = (problem: string, cause?: unknown): RepositoryError => invalid(shown, r, problem, cause);
  let json: unknown;
  try {
    json = parseJsonBounded(bytes, {
      source: shown,
      ...(typeOfRole(r) === 'root' ? { maxBytes: ROOT_MAX_BYTES } : {}),
      integersOnly: true,
    });
  } catch (e) {
    if (e instanceof JsonInputError) throw fail(`${e.code}: ${e.message}`, e);
    throw e;
  }
  if (!isObject(json) || !isObject(json.signed)) throw fail('no "signed" object');
  const type = json.signed._type;
  if (type !== typeOfRole(r)) {
    throw fail(
      `_type is ${typeof type === 'string' ? quote(type, 40) : typeof type}, expected "${typeOfRole(r)}"`,
    );
  }
  if (countOf(json.signatures) > METADATA_LIMITS.signatures) {
    throw fail(`more than ${METADATA_LIMITS.signatures} signatures`);
  }
  checkCounts(json.signed, typeOfRole(r), fail);
  // the fields @tufjs/models dereferences, by type (TUF §4.2-4.6), so no TypeError from inside it
  const shape = metadataShapeProblem(json, typeOfRole(r));
  if (shape !== undefined) throw fail(shape.message);
  return json;
}
