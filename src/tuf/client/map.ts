/**
 * TAP 4 map files: which repositories are trusted for which targets, and how many of them
 * must agree. CNAB-Sec doc 303 step 1 requires a runtime to resolve bundles from different
 * metadata repositories by these rules.
 *
 * Map file (TAP 4): `{"repositories": {name: [url, ...]}, "mapping": [{"paths": [...],
 * "repositories": [name, ...], "threshold": n, "terminating": bool}]}`. Mappings are tried in
 * order; the first whose paths match the target queries its repositories; when at least
 * `threshold` of them return identical target info (length and hashes) that info is used;
 * otherwise a terminating mapping stops the search and a non-terminating one passes to the
 * next. Paths are matched like TUF delegation paths: `*` does not cross `/`; patterns are
 * fnmatch-style globs (`*`, `?`, `[seq]`, `[!seq]`) matched without regular expressions, so a
 * pattern can neither inject one nor fail to compile.
 */
import type { TargetFile } from '@tufjs/models';
import { TufError } from '../errors.js';
import { isCnabsecError, messageOf } from '../../errors.js';
import { quote } from '../../util/json.js';

export interface MapFile {
  repositories: Record<string, string[]>;
  mapping: { paths: string[]; repositories: string[]; threshold: number; terminating: boolean }[];
}

export interface ResolvedTarget {
  info: TargetFile;
  /** Repositories that agreed on `info`. */
  repositories: string[];
}

/** Resolves a target in one named repository; the map gives its mirror URLs. */
export type RepositoryLookup = (name: string, urls: string[], target: string) => Promise<TargetFile>;

function invalid(message: string, details: Record<string, unknown> = {}): TufError {
  return new TufError('MAP_INVALID', `map file: ${message}`, {
    details,
    hint: 'a TAP 4 map file is {"repositories": {name: [urls]}, "mapping": [{"paths", "repositories", "threshold", "terminating"}]}',
  });
}

/** Sizes a map file may have: far above any real one, low enough to bound the work. */
export const MAP_LIMITS = { repositories: 256, urls: 16, mappings: 1024, paths: 1024, stringLength: 1024 };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty list of non-empty, bounded strings, or why not. */
function stringList(v: unknown, max: number): string | undefined {
  if (!Array.isArray(v)) return 'is not a list';
  if (v.length === 0) return 'is empty';
  if (v.length > max) return `has ${v.length} entries, more than ${max}`;
  const bad = v.findIndex(
    (x) => typeof x !== 'string' || x.length === 0 || x.length > MAP_LIMITS.stringLength,
  );
  return bad < 0 ? undefined : `entry ${bad} is not a string of 1..${MAP_LIMITS.stringLength} characters`;
}

function parseRepositories(v: unknown): Record<string, string[]> {
  if (!isRecord(v)) throw invalid('"repositories" must be an object {name: [urls]}');
  const names = Object.keys(v);
  if (names.length === 0 || names.length > MAP_LIMITS.repositories) {
    throw invalid(`"repositories" must name 1..${MAP_LIMITS.repositories} repositories`);
  }
  // no prototype: a repository named __proto__ or constructor is an own entry like any other
  const out = Object.create(null) as Record<string, string[]>;
  for (const name of names) {
    const problem =
      name.length > MAP_LIMITS.stringLength ? 'has too long a name' : stringList(v[name], MAP_LIMITS.urls);
    if (problem !== undefined) {
      throw invalid(`repository ${quote(name)}: its list of URLs ${problem}`, {
        repository: name.slice(0, 200),
      });
    }
    out[name] = [...(v[name] as string[])];
  }
  return out;
}

type Mapping = MapFile['mapping'][number];

function parseMapping(e: unknown, i: number, repositories: Record<string, string[]>): Mapping {
  const fail = (what: string): TufError => invalid(`mapping ${i} ${what}`, { mapping: i });
  if (!isRecord(e)) throw fail('must be an object');
  const paths = stringList(e.paths, MAP_LIMITS.paths);
  if (paths !== undefined) throw fail(`"paths" ${paths}`);
  const repos = stringList(e.repositories, MAP_LIMITS.repositories);
  if (repos !== undefined) throw fail(`"repositories" ${repos}`);
  const names = e.repositories as string[];
  const unknown = names.filter((r) => !Object.hasOwn(repositories, r));
  if (unknown.length > 0)
    throw fail(
      `names unknown repositories: ${unknown
        .slice(0, 5)
        .map((r) => quote(r))
        .join(', ')}`,
    );
  if (new Set(names).size !== names.length) throw fail('names a repository twice');
  const threshold = e.threshold;
  if (
    typeof threshold !== 'number' ||
    !Number.isInteger(threshold) ||
    threshold < 1 ||
    threshold > names.length
  ) {
    throw fail(`"threshold" must be an integer 1..${names.length}`);
  }
  if (typeof e.terminating !== 'boolean') throw fail('needs "terminating": true|false');
  return {
    paths: [...(e.paths as string[])],
    repositories: [...names],
    threshold,
    terminating: e.terminating,
  };
}

/** Parse and check a TAP 4 map file: every field, its type and bounds; throws MAP_INVALID. */
export function parseMapFile(json: unknown): MapFile {
  if (!isRecord(json)) throw invalid('must be an object with "repositories" and "mapping"');
  const repositories = parseRepositories(json.repositories);
  const mapping = json.mapping;
  if (!Array.isArray(mapping) || mapping.length === 0 || mapping.length > MAP_LIMITS.mappings) {
    throw invalid(`"mapping" must be a list of 1..${MAP_LIMITS.mappings} mappings`);
  }
  return { repositories, mapping: mapping.map((e, i) => parseMapping(e, i, repositories)) };
}

// ---- path patterns ---------------------------------------------------------------------

type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; c: string }
  | { kind: 'set'; negate: boolean; items: [string, string][] };

/** fnmatch-style `[seq]` / `[!seq]` starting at `i` (the `[`); undefined when not closed. */
function parseSet(p: string, i: number): { token: Token; next: number } | undefined {
  let j = i + 1;
  const negate = p[j] === '!';
  if (negate) j++;
  const items: [string, string][] = [];
  let first = true;
  while (j < p.length && (p[j] !== ']' || first)) {
    const lo = p[j] as string;
    if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
      items.push([lo, p[j + 2] as string]);
      j += 3;
    } else {
      items.push([lo, lo]);
      j++;
    }
    first = false;
  }
  if (j >= p.length) return undefined;
  return { token: { kind: 'set', negate, items }, next: j + 1 };
}

/** A segment pattern as tokens: `*`, `?`, `[seq]`; every other character (an unclosed `[` too) is literal. */
function tokenize(p: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < p.length;) {
    const c = p[i] as string;
    if (c === '*') {
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
      i++;
    } else if (c === '?') {
      out.push({ kind: 'any' });
      i++;
    } else {
      const set = c === '[' ? parseSet(p, i) : undefined;
      out.push(set?.token ?? { kind: 'char', c });
      i = set?.next ?? i + 1;
    }
  }
  return out;
}

function matchesOne(t: Token, c: string): boolean {
  if (t.kind === 'any') return true;
  if (t.kind === 'char') return t.c === c;
  if (t.kind === 'set') return t.items.some(([lo, hi]) => lo <= c && c <= hi) !== t.negate;
  return false;
}

/**
 * Glob match of one segment without regular expressions: the classic single-backtrack-point
 * wildcard algorithm, O(|pattern| × |text|) at worst, never exponential.
 */
function matchSegment(tokens: Token[], s: string): boolean {
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    const t = tokens[ti];
    if (t !== undefined && t.kind !== 'star' && matchesOne(t, s[si] as string)) {
      ti++;
      si++;
    } else if (t?.kind === 'star') {
      starTi = ti++;
      starSi = si;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
    } else return false;
  }
  while (tokens[ti]?.kind === 'star') ti++;
  return ti === tokens.length;
}

/** TUF-style path match: same number of `/` segments, each matching its glob (`*` does not cross `/`). */
export function pathMatches(pattern: string, target: string): boolean {
  const p = pattern.split('/');
  const t = target.split('/');
  return p.length === t.length && p.every((seg, i) => matchSegment(tokenize(seg), t[i] ?? ''));
}

function sameInfo(a: TargetFile, b: TargetFile): boolean {
  const algs = Object.keys(a.hashes).filter((k) => k in b.hashes);
  return a.length === b.length && algs.length > 0 && algs.every((k) => a.hashes[k] === b.hashes[k]);
}

/** Resolve `target` through the map (TAP 4 §"Searching for targets"). */
export async function resolveWithMap(
  map: MapFile,
  target: string,
  lookup: RepositoryLookup,
): Promise<ResolvedTarget> {
  const tried: string[] = [];
  for (const [i, entry] of map.mapping.entries()) {
    if (!entry.paths.some((p) => pathMatches(p, target))) continue;
    const found: { name: string; info: TargetFile }[] = [];
    let notFound = 0;
    for (const name of entry.repositories) {
      try {
        found.push({ name, info: await lookup(name, map.repositories[name] ?? [], target) });
      } catch (e) {
        if (isCnabsecError(e) && e.code === 'TARGET_NOT_FOUND') notFound++;
        tried.push(`${quote(name)}: ${isCnabsecError(e) ? `[${e.code}] ` : ''}${quote(messageOf(e), 300)}`);
      }
    }
    for (const candidate of found) {
      const agreeing = found.filter((f) => sameInfo(f.info, candidate.info));
      if (agreeing.length >= entry.threshold)
        return { info: candidate.info, repositories: agreeing.map((f) => f.name) };
    }
    tried.push(`mapping ${i}: ${found.length} repositories answered, ${entry.threshold} must agree`);
    if (entry.terminating && notFound === entry.repositories.length) {
      throw new TufError(
        'TARGET_NOT_FOUND',
        `${quote(target, 200)} is in none of the repositories of mapping ${i}`,
        {
          details: { target, mapping: i, tried },
          hint: 'check the tag and the map file',
        },
      );
    }
    if (entry.terminating) {
      throw new TufError(
        'MAP_THRESHOLD_NOT_MET',
        `${quote(target, 200)}: fewer than ${entry.threshold} repositories of mapping ${i} agree`,
        {
          details: { target, mapping: i, tried },
          hint: 'the repositories disagree or failed; do not use this target until they agree',
        },
      );
    }
  }
  throw new TufError('MAP_NO_MATCH', `${quote(target, 200)}: no mapping of the map file yields it`, {
    details: { target, tried },
    hint: 'add a mapping whose paths match the target, or trust the repository that serves it',
  });
}
