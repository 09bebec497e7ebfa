/**
 * The one grammar of names cnabsec accepts from users (ADR 0012): repository names and
 * tags become TUF target names (`<repository>:<tag>`, CNAB-Sec doc 301), trust names become
 * directories of the trust store, and delegated role names become metadata file names
 * (`<version>.<url-encoded role>.json`, TUF spec §5.5, and a decoded copy, ./publish.ts).
 * A name outside the grammar could escape a directory, split a log line or collide with
 * another file, so it is refused before anything is written.
 *
 * - repository: OCI distribution reference grammar (distribution/reference `reference.go`):
 *   `[domain[:port]/]path-component(/path-component)*`, path components
 *   `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, at most 255 characters in all.
 * - tag: `[\w][\w.-]{0,127}` (same source).
 * - role: `/`-separated segments of `[A-Za-z0-9_][A-Za-z0-9_.-]*` (no empty, `.` or `..`
 *   segment, no control character, space, `%` or `\`), at most 200 characters once
 *   URL-encoded, and no segment but the last ending in `.json` (the decoded copy
 *   `N.a.json/b.json` would collide with role `a`'s `N.a.json`).
 *
 * The regular expressions are written without nested ambiguous quantifiers (the OCI
 * `[-]*` separator may be empty, which is the same as joining the alphanumeric runs), so
 * matching is linear: a hostile name cannot stall the process.
 */
import { quote } from '../util/json.js';
import { TufError } from './errors.js';

export const REPOSITORY_NAME_MAX = 255;
export const TAG_MAX = 128;
export const ROLE_NAME_MAX_ENCODED = 200;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const ROLE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export const REPOSITORY_GRAMMAR =
  'a repository name is [domain[:port]/]path, path components of lowercase letters and digits separated by one of . _ __ or dashes (e.g. example.com/org/bundle), at most 255 characters (OCI distribution reference)';
export const TAG_GRAMMAR =
  'a tag is 1-128 characters of letters, digits, _ . -, not starting with . or - (OCI tag: [\\w][\\w.-]{0,127})';
export const ROLE_GRAMMAR =
  'a role name is /-separated segments of letters, digits, _ . - (not starting with . or -), e.g. targets/releases; no empty, . or .. segment, at most 200 characters URL-encoded';

/** Why `name` is not a repository name, or undefined when it is one. */
export function repositoryNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > REPOSITORY_NAME_MAX) return `it is longer than ${REPOSITORY_NAME_MAX} characters`;
  const parts = name.split('/');
  const pathOk = (ps: string[]): boolean => ps.length > 0 && ps.every((p) => PATH_COMPONENT.test(p));
  if (pathOk(parts)) return undefined;
  if (parts.length > 1 && DOMAIN.test(parts[0] ?? '') && pathOk(parts.slice(1))) return undefined;
  return 'it is not in the OCI reference grammar';
}

export function isRepositoryName(name: string): boolean {
  return repositoryNameProblem(name) === undefined;
}

/** `name` if it is a repository (or trust) name; INVALID_NAME otherwise. */
export function checkRepositoryName(name: string, what = 'repository name'): string {
  const problem = repositoryNameProblem(name);
  if (problem !== undefined) {
    throw new TufError('INVALID_NAME', `${what} ${quote(name)} is refused: ${problem}`, {
      details: { name: name.slice(0, REPOSITORY_NAME_MAX + 1) },
      hint: REPOSITORY_GRAMMAR,
    });
  }
  return name;
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * Split a bundle reference `<repository>:<tag>` (doc 301 target name) at the last `:` after the
 * last `/` (a registry port is part of the repository); INVALID_NAME / INVALID_TAG otherwise.
 */
export function checkBundleReference(ref: string): { repository: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon <= ref.lastIndexOf('/')) {
    throw new TufError('INVALID_NAME', `${quote(ref)} is not <repository>:<tag>`, {
      details: { reference: ref.slice(0, REPOSITORY_NAME_MAX + TAG_MAX + 2) },
      hint: `name a bundle version as <repository>:<tag>, e.g. example.com/org/bundle:v1; ${TAG_GRAMMAR}`,
    });
  }
  const repository = checkRepositoryName(ref.slice(0, colon));
  const tag = ref.slice(colon + 1);
  if (!isTag(tag)) {
    throw new TufError('INVALID_TAG', `tag ${quote(tag)} of ${quote(ref)} is refused`, {
      details: { tag: tag.slice(0, TAG_MAX + 1) },
      hint: TAG_GRAMMAR,
    });
  }
  return { repository, tag };
}

/** Why `role` is not a role name, or undefined when it is one. */
export function roleNameProblem(role: string): string | undefined {
  if (role.length === 0) return 'it is empty';
  let encoded: string;
  try {
    encoded = encodeURIComponent(role);
  } catch {
    return 'it is not valid Unicode';
  }
  if (encoded.length > ROLE_NAME_MAX_ENCODED)
    return `it is longer than ${ROLE_NAME_MAX_ENCODED} characters URL-encoded`;
  const segments = role.split('/');
  for (const [i, s] of segments.entries()) {
    if (s === '') return 'it has an empty segment';
    if (s === '.' || s === '..') return `it has a ${s} segment`;
    if (!ROLE_SEGMENT.test(s)) return `segment ${quote(s, 40)} has a character outside [A-Za-z0-9_.-]`;
    if (i < segments.length - 1 && s.toLowerCase().endsWith('.json'))
      return `segment ${quote(s, 40)} ends in .json (its metadata directory would collide with a file)`;
  }
  return undefined;
}

export function isRoleName(role: string): boolean {
  return roleNameProblem(role) === undefined;
}

/** `role` if it is a role name; INVALID_ROLE_NAME otherwise. */
export function checkRoleName(role: string): string {
  const problem = roleNameProblem(role);
  if (problem !== undefined) {
    throw new TufError('INVALID_ROLE_NAME', `role name ${quote(role)} is refused: ${problem}`, {
      details: { role: role.slice(0, ROLE_NAME_MAX_ENCODED + 1) },
      hint: ROLE_GRAMMAR,
    });
  }
  return role;
}
