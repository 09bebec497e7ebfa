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
 * next. Paths are matched like TUF delegation paths: `*` does not cross `/`.
 */
import type { TargetFile } from '@tufjs/models';
import { TufError } from '../errors.js';
import { isCnabsecError, messageOf } from '../../errors.js';

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

function invalid(message: string): TufError {
  return new TufError('MAP_INVALID', `map file: ${message}`, {
    hint: 'a TAP 4 map file is {"repositories": {name: [urls]}, "mapping": [{"paths", "repositories", "threshold", "terminating"}]}',
  });
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Parse and check a TAP 4 map file. */
export function parseMapFile(json: unknown): MapFile {
  const m = json as Partial<MapFile> | null;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.repositories !== 'object' ||
    !Array.isArray(m.mapping)
  ) {
    throw invalid('needs "repositories" (object) and "mapping" (array)');
  }
  for (const [name, urls] of Object.entries(m.repositories)) {
    if (!isStrings(urls) || urls.length === 0) throw invalid(`repository ${name} needs a list of URLs`);
  }
  m.mapping.forEach((e, i) => {
    if (!isStrings(e.paths) || !isStrings(e.repositories) || e.repositories.length === 0) {
      throw invalid(`mapping ${i} needs "paths" and "repositories" lists`);
    }
    const unknown = e.repositories.filter((r) => !(r in (m.repositories ?? {})));
    if (unknown.length > 0) throw invalid(`mapping ${i} names unknown repositories: ${unknown.join(', ')}`);
    if (!Number.isInteger(e.threshold) || e.threshold < 1 || e.threshold > e.repositories.length) {
      throw invalid(`mapping ${i} threshold must be 1..${e.repositories.length}`);
    }
    if (typeof e.terminating !== 'boolean') throw invalid(`mapping ${i} needs "terminating": true|false`);
  });
  return m as MapFile;
}

function segmentRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** TUF-style path match: same number of `/` segments, each matching its glob. */
export function pathMatches(pattern: string, target: string): boolean {
  const p = pattern.split('/');
  const t = target.split('/');
  return p.length === t.length && p.every((seg, i) => segmentRegex(seg).test(t[i] ?? ''));
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
        tried.push(`${name}: ${isCnabsecError(e) ? `[${e.code}] ` : ''}${messageOf(e)}`);
      }
    }
    for (const candidate of found) {
      const agreeing = found.filter((f) => sameInfo(f.info, candidate.info));
      if (agreeing.length >= entry.threshold)
        return { info: candidate.info, repositories: agreeing.map((f) => f.name) };
    }
    tried.push(`mapping ${i}: ${found.length} repositories answered, ${entry.threshold} must agree`);
    if (entry.terminating && notFound === entry.repositories.length) {
      throw new TufError('TARGET_NOT_FOUND', `${target} is in none of the repositories of mapping ${i}`, {
        details: { target, mapping: i, tried },
        hint: 'check the tag and the map file',
      });
    }
    if (entry.terminating) {
      throw new TufError(
        'MAP_THRESHOLD_NOT_MET',
        `${target}: fewer than ${entry.threshold} repositories of mapping ${i} agree`,
        {
          details: { target, mapping: i, tried },
          hint: 'the repositories disagree or failed; do not use this target until they agree',
        },
      );
    }
  }
  throw new TufError('MAP_NO_MATCH', `${target}: no mapping of the map file yields it`, {
    details: { target, tried },
    hint: 'add a mapping whose paths match the target, or trust the repository that serves it',
  });
}
