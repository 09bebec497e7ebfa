/**
 * The paths of the metadata repository's HTTP API (design.md §5, Notary v1's
 * `/v2/<gun>/_trust/tuf/…`), parsed from the raw request URL. Repository names (GUNs) hold `/`,
 * so one wildcard route takes `/v2/*` and this module splits it; every part is checked here,
 * before the service sees it, with the name rules of ../tuf/names.ts (ADR 0012):
 *
 * - `<role>.json` current, `<N>.<role>.json` by version, `<role>.<sha256>.json` by checksum
 *   (TUF spec §5.3–§5.6 consistent snapshots); a delegated role's `/` may arrive encoded
 *   (`1.targets%2Freleases.json`, what tuf-js requests) or not (`1.targets/releases.json`);
 * - `targets/<path>` a target file, `targets/<dir>/<sha256>.<base>` by hash (TUF §5.7.3);
 * - `<timestamp|snapshot>.key` a server-managed key; the empty name the upload (POST) and the
 *   repository (DELETE).
 *
 * A bad part is BAD_REQUEST naming it; a path that is not one of these is NOT_FOUND.
 */
import { isTopLevel } from '../tuf/policy.js';
import { repositoryNameProblem, roleNameProblem } from '../tuf/names.js';
import { quote } from '../util/json.js';
import { ServerError } from './errors.js';
import type { OnlineRole } from './service-types.js';

/** A metadata file name: current, by version or by checksum. */
export type MetaName =
  | { kind: 'current'; role: string }
  | { kind: 'version'; role: string; version: number }
  | { kind: 'checksum'; role: string; sha256: string };

export type TrustPath = { repo: string } & (
  | MetaName
  | { kind: 'repository' }
  | { kind: 'key'; role: OnlineRole }
  /** `fallback`: the same name read as a decoded delegated role (`targets/releases.json`), tried on a miss. */
  | { kind: 'target'; path: string; sha256?: string; fallback?: MetaName }
);

/** The route pattern of each kind, the only `route` label metrics see (never the raw URL). */
export const ROUTE_PATTERNS: Record<TrustPath['kind'], string> = {
  repository: '/v2/:repo/_trust/tuf/',
  current: '/v2/:repo/_trust/tuf/:role.json',
  version: '/v2/:repo/_trust/tuf/:version.:role.json',
  checksum: '/v2/:repo/_trust/tuf/:role.:checksum.json',
  target: '/v2/:repo/_trust/tuf/targets/*',
  key: '/v2/:repo/_trust/tuf/:role.key',
};

const TRUST = '/_trust/tuf/';
const SHA256 = /^[0-9a-f]{64}$/;
/** A name part that is meant as a checksum but is not 64 lowercase hex digits. */
const CHECKSUM_LIKE = /^[0-9a-fA-F]{32,}$/;
const VERSION = /^(\d+)\.(.+)$/;
const TARGET_PATH_MAX = 4096;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function badRequest(
  part: string,
  message: string,
  details: Record<string, unknown> = {},
): ServerError {
  return new ServerError('BAD_REQUEST', message, {
    details: { part, ...details },
    hint: 'see design.md §5 for the paths of the metadata repository API',
  });
}

export function notFound(message: string, details: Record<string, unknown> = {}): ServerError {
  return new ServerError('NOT_FOUND', message, { details });
}

function decode(raw: string, part: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(part, `the ${part} in the path is not valid percent-encoding: ${quote(raw)}`);
  }
}

/** A repository name the GUN grammar accepts (OCI reference grammar, ../tuf/names.ts). */
function checkRepo(repo: string): string {
  const problem = repositoryNameProblem(repo);
  if (problem !== undefined)
    throw badRequest('repo', `repository name ${quote(repo)} is refused: ${problem}`, {
      repo: repo.slice(0, 256),
    });
  return repo;
}

/** A role of a Notary repository: one of the top-level four, or a delegation under `targets/`. */
function checkRole(role: string): string {
  const problem =
    roleNameProblem(role) ??
    (isTopLevel(role) || role.startsWith('targets/') ? undefined : 'it is not a top-level or targets/… role');
  if (problem !== undefined)
    throw badRequest('role', `role name ${quote(role)} is refused: ${problem}`, { role: role.slice(0, 201) });
  return role;
}

/** `<N>.<role>.json`, `<role>.<sha256>.json` or `<role>.json` (TUF spec §5.3–§5.6 file names). */
export function parseMetaName(name: string): MetaName {
  const base = name.slice(0, -'.json'.length);
  const versioned = VERSION.exec(base);
  if (versioned !== null) {
    const [, digits = '', role = ''] = versioned;
    const version = Number(digits);
    if (!/^[1-9]/.test(digits) || !Number.isSafeInteger(version))
      throw badRequest('version', `version ${quote(digits, 24)} is not a positive integer`, {
        version: digits.slice(0, 24),
      });
    return { kind: 'version', role: checkRole(role), version };
  }
  const dot = base.lastIndexOf('.');
  if (dot > 0) {
    const prefix = base.slice(0, dot);
    const suffix = base.slice(dot + 1);
    if (SHA256.test(suffix)) return { kind: 'checksum', role: checkRole(prefix), sha256: suffix };
    // `root.<x>.json` can only be a checksum name; a long hex-like part of another name too
    if (isTopLevel(prefix) || CHECKSUM_LIKE.test(suffix))
      throw badRequest('checksum', `checksum ${quote(suffix, 70)} is not 64 lowercase hex digits (sha256)`, {
        checksum: suffix.slice(0, 70),
      });
  }
  return { kind: 'current', role: checkRole(base) };
}

/** A clean relative target path: no empty, `.` or `..` segment, no `\` or control character. */
function checkTargetPath(path: string): string {
  const segments = path.split('/');
  if (
    path.length > TARGET_PATH_MAX ||
    CONTROL.test(path) ||
    path.includes('\\') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  )
    throw badRequest('path', `target path ${quote(path)} is not a clean relative path`, {
      path: path.slice(0, 256),
    });
  return path;
}

/** `targets/<path>`, or by hash `targets/<dir>/<sha256>.<base>` (consistent snapshot, TUF §5.7.3). */
function parseTarget(repo: string, fileRaw: string): TrustPath {
  const path = checkTargetPath(decode(fileRaw.slice('targets/'.length), 'path'));
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const byHash = /^([0-9a-f]{64})\.(.+)$/.exec(path.slice(slash + 1));
  let fallback: MetaName | undefined;
  if (path.endsWith('.json')) {
    try {
      fallback = parseMetaName(`targets/${path}`);
    } catch {
      fallback = undefined;
    }
  }
  const where = byHash === null ? { path } : { path: `${dir}${byHash[2] ?? ''}`, sha256: byHash[1] ?? '' };
  return { repo, kind: 'target', ...where, ...(fallback === undefined ? {} : { fallback }) };
}

/** Parse the raw URL of a `/v2/*` request (query string ignored). */
export function parseTrustUrl(url: string): TrustPath {
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const rest = pathname.slice('/v2/'.length);
  const at = rest.indexOf(TRUST);
  let repoRaw: string;
  let fileRaw: string;
  if (at !== -1) {
    repoRaw = rest.slice(0, at);
    fileRaw = rest.slice(at + TRUST.length);
  } else if (rest.endsWith(TRUST.slice(0, -1))) {
    repoRaw = rest.slice(0, -(TRUST.length - 1));
    fileRaw = '';
  } else {
    throw notFound(`no route for ${quote(pathname, 120)}: paths are /v2/<repo>/_trust/tuf/<file>`);
  }
  // a repository name needs no encoding (the OCI grammar has no character that does): an
  // encoded one (`org%2Fapp`, `%2e%2e`) would name one repository to the server and another to
  // a proxy or a rule in front that reads the raw path, so it is refused, never decoded
  if (repoRaw.includes('%'))
    throw badRequest(
      'repo',
      `repository name ${quote(repoRaw, 120)} is percent-encoded: send repository names as they are`,
      { repo: repoRaw.slice(0, 256) },
    );
  const repo = checkRepo(repoRaw);
  if (fileRaw === '') return { repo, kind: 'repository' };
  if (fileRaw.startsWith('targets/')) return parseTarget(repo, fileRaw);
  const name = decode(fileRaw, 'role');
  if (name.endsWith('.key')) {
    const role = checkRole(name.slice(0, -'.key'.length));
    if (role !== 'timestamp' && role !== 'snapshot')
      throw badRequest(
        'role',
        `the server holds no key for role ${quote(role)}: only timestamp and snapshot keys are server-managed`,
        { role },
      );
    return { repo, kind: 'key', role };
  }
  if (name.endsWith('.json')) return { repo, ...parseMetaName(name) };
  throw notFound(`no metadata file ${quote(name)} in repository ${quote(repo)}: names end in .json or .key`);
}
