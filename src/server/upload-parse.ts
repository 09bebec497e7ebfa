/**
 * The first half of upload validation (./validate.ts): the parts of a Notary-style upload as
 * `{role, bytes}` and `{path, bytes}`, checked for size, duplicates and names, then each role
 * parsed as bounded JSON (ADR 0007: integers only, depth 64) into @tufjs/models metadata of the
 * right `_type`. Pure: no I/O, no clock.
 */
import '../tuf/models-patch.js'; // linear targets (de)serialization, ADR 0005
import { createHash } from 'node:crypto';
import { Metadata } from '@tufjs/models';
import type { JSONObject } from '@tufjs/models/dist/utils/types.js';
import type { AnyMetadata } from '../tuf/authority.js';
import { isTopLevel, kindOf } from '../tuf/policy.js';
import { roleNameProblem } from '../tuf/names.js';
import { parseMetadata } from '../tuf/repository-io.js';
import { JsonInputError, parseJsonBounded, quote } from '../util/json.js';
import { messageOf } from '../errors.js';
import type { UploadRefusal, UploadRefusalCode } from './errors.js';
import { duplicateKey } from './validate-json.js';

/** The repository's current trusted metadata as stored: bytes per role (empty for a new repository). */
export type RepositoryState = Readonly<Record<string, Uint8Array>>;

/** One uploaded metadata file (multipart part `files`, file name `<role>.json`). */
export interface UploadedRole {
  role: string;
  bytes: Uint8Array;
}

/** One uploaded in-toto target file (layout, link, public key), by target path. */
export interface UploadedTargetFile {
  path: string;
  bytes: Uint8Array;
}

export type UploadFile = UploadedRole | UploadedTargetFile;

export interface UploadLimits {
  /** Largest role file, except targets (default 1 MiB). */
  role: number;
  /** Largest top-level targets file (default 64 MiB). */
  targets: number;
  /** Largest target file (default 16 MiB). */
  targetFile: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  role: 1 << 20,
  targets: 64 << 20,
  targetFile: 16 << 20,
};

/** A refusal raised inside validation and returned by `validateUpload`. */
export class Refused extends Error {
  constructor(readonly refusal: UploadRefusal) {
    super(refusal.message);
  }
}

/** The refusal code of a role's own verification failures. */
export function badCode(role: string): UploadRefusalCode {
  if (role === 'root') return 'BAD_ROOT';
  if (role === 'snapshot') return 'BAD_SNAPSHOT';
  if (role === 'timestamp') return 'BAD_TIMESTAMP';
  return 'BAD_TARGETS';
}

/** One line: `<role> v<version> refused (<rule>): <why>`. */
export function refuse(
  code: UploadRefusalCode,
  role: string,
  version: number | undefined,
  rule: string,
  why: string,
): Refused {
  const what = version === undefined ? quote(role) : `${quote(role)} v${version}`;
  const message = `${what} refused (${rule}): ${why}`;
  return new Refused({ code, role, ...(version === undefined ? {} : { version }), rule, message });
}

export interface ParsedRole {
  role: string;
  md: AnyMetadata;
  bytes: Uint8Array;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Notary's role names: the top-level four, and delegations under `targets/` (ADR 0012 grammar). */
function checkUploadRoleName(role: string): void {
  const problem = roleNameProblem(role);
  const why =
    problem ??
    (isTopLevel(role) || role.startsWith('targets/') ? undefined : 'not a top-level or targets/… role');
  if (why !== undefined) throw refuse('MALFORMED', role, undefined, 'unknown-role', `role name ${why}`);
}

/** The longest target path a part may name (as the GET route, ./http-paths.ts). */
const TARGET_PATH_MAX = 4096;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A target path that will become a stored file name: clean and relative (as ../tuf/files.ts), no control character. */
function checkTargetPath(path: string): void {
  const segments = path.split('/');
  if (
    path.length > TARGET_PATH_MAX ||
    CONTROL.test(path) ||
    path.startsWith('/') ||
    path.includes('\\') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  )
    throw refuse(
      'MALFORMED',
      path,
      undefined,
      'target-path',
      'target file path is not a clean relative path',
    );
}

function roleLimit(role: string, limits: UploadLimits): number {
  return role === 'targets' ? limits.targets : limits.role;
}

/** Sizes, duplicates and names, before any byte is parsed. */
export function checkParts(files: readonly UploadFile[], limits: UploadLimits): void {
  if (files.length === 0)
    throw refuse('MALFORMED', '', undefined, 'empty-upload', 'the upload holds no file');
  const seen = new Set<string>();
  for (const f of files) {
    const isRole = 'role' in f;
    const name = isRole ? f.role : f.path;
    const key = `${isRole ? 'role' : 'file'}:${name}`;
    if (seen.has(key))
      throw refuse('MALFORMED', name, undefined, 'duplicate-part', 'uploaded twice in one upload');
    seen.add(key);
    if (isRole) checkUploadRoleName(name);
    else checkTargetPath(name);
    const limit = isRole ? roleLimit(name, limits) : limits.targetFile;
    if (f.bytes.byteLength > limit)
      throw refuse(
        'TOO_LARGE',
        name,
        undefined,
        'size-limit',
        `${f.bytes.byteLength} bytes, above the limit of ${limit}`,
      );
  }
}

/** An uploaded role as metadata of its kind; MALFORMED or BAD_<ROLE> (rule `type`) otherwise. */
export function parseUploadedRole(role: string, bytes: Uint8Array, limits: UploadLimits): ParsedRole {
  let json: unknown;
  try {
    json = parseJsonBounded(bytes, {
      source: `${role}.json`,
      integersOnly: true,
      maxBytes: roleLimit(role, limits),
    });
  } catch (e) {
    const nonInteger = e instanceof JsonInputError && e.code === 'JSON_NUMBER_UNSAFE';
    const why = e instanceof JsonInputError ? e.message.replace(`${role}.json: `, '') : messageOf(e);
    throw refuse('MALFORMED', role, undefined, nonInteger ? 'integers-only' : 'json', why);
  }
  const duplicate = duplicateKey(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  );
  if (duplicate !== undefined)
    throw refuse(
      'MALFORMED',
      role,
      undefined,
      'duplicate-key',
      `key ${quote(duplicate, 60)} appears twice in one object (signatures would cover ambiguous JSON)`,
    );
  const signed = (json as { signed?: { _type?: unknown; version?: unknown } } | null)?.signed;
  const version = typeof signed?.version === 'number' ? signed.version : undefined;
  if (typeof signed !== 'object' || signed === null)
    throw refuse('MALFORMED', role, undefined, 'shape', 'no "signed" object');
  if (signed._type !== kindOf(role))
    throw refuse(
      badCode(role),
      role,
      version,
      'type',
      `_type is ${quote(String(signed._type), 40)}, expected ${quote(kindOf(role))}`,
    );
  try {
    const md = Metadata.fromJSON(kindOf(role) as never, json as JSONObject) as AnyMetadata;
    return { role, md, bytes, sha256: sha256Hex(bytes) };
  } catch (e) {
    throw refuse(
      'MALFORMED',
      role,
      version,
      'shape',
      `not valid ${role} metadata: ${messageOf(e).slice(0, 160)}`,
    );
  }
}

/** The stored state, parsed (it was validated when stored: a failure here is corrupt storage, thrown). */
export function parseState(state: RepositoryState): Map<string, ParsedRole> {
  const out = new Map<string, ParsedRole>();
  for (const [role, bytes] of Object.entries(state))
    out.set(role, {
      role,
      bytes,
      md: parseMetadata(role, bytes, `stored ${role}`),
      sha256: sha256Hex(bytes),
    });
  return out;
}
