/**
 * `cnabsec list <repository>` (like `notary list <GUN>`): every signed target of a repository
 * from verified metadata, with the role whose signature the client trusts for it.
 *
 * After the TUF update (§5.3-5.5), every targets role reachable from `targets` is loaded and
 * verified against its delegator (§5.6, the same `loadTargets` tuf-js uses for a lookup);
 * then each target name found is resolved by tuf-js's own preorder search (§5.6.7, with
 * terminating delegations and its maximum of delegations), so a listed target is exactly what
 * `lookup` would return for it: a target that a role lists outside the paths delegated to it,
 * or that a terminating delegation hides, is not listed. The role is that of the metadata the
 * search found it in.
 *
 * Bounds: the roles loaded and the target entries read are limited (`LIST_LIMITS`); every file
 * is bounded in length and shape on download (./guard.ts). Beyond them: TUF_LIST_TOO_LARGE.
 */
import type { Metadata, TargetFile, Targets } from '@tufjs/models';
import { TufError } from '../errors.js';
import { quote } from '../../util/json.js';
import { editDistance } from '../../util/text.js';

export const LIST_LIMITS = {
  /** Targets roles loaded for one listing (tuf-js visits at most 32 per lookup). */
  roles: 256,
  /** Target entries read over all roles. */
  targets: 100_000,
} as const;

/** What the listing needs of the Updater: its (verifying) role loader and its lookup. */
export interface TargetsWalker {
  loadTargets(role: string, parent: string): Promise<Metadata<Targets> | undefined>;
  getTargetInfo(name: string): Promise<TargetFile | undefined>;
}

export interface VerifiedTarget {
  info: TargetFile;
  /** The targets role the lookup finds it in (`targets`, `targets/releases`). */
  role: string;
}

function tooLarge(repository: string, what: string, limit: number): TufError {
  return new TufError('TUF_LIST_TOO_LARGE', `${quote(repository)}: more than ${limit} ${what} to list`, {
    details: { repository, limit },
    hint: `look up one tag instead: \`cnabsec lookup ${repository}:<tag>\``,
  });
}

/** The roles `targets` delegates to, in the order a preorder search would visit them. */
function childrenOf(md: Metadata<Targets>, repository: string): string[] {
  const d = md.signed.delegations;
  if (d === undefined) return [];
  if (d.roles !== undefined) return Object.values(d.roles).map((r) => r.name);
  const succinct = d.succinctRoles;
  if (succinct === undefined) return [];
  if (succinct.numberOfBins > LIST_LIMITS.roles) throw tooLarge(repository, 'roles', LIST_LIMITS.roles);
  return [...succinct.getRoles()];
}

/** Load and verify every targets role reachable from `targets` (preorder, each role once). */
async function loadAll(walker: TargetsWalker, repository: string): Promise<Map<string, Metadata<Targets>>> {
  const loaded = new Map<string, Metadata<Targets>>();
  const stack: [string, string][] = [['targets', 'root']];
  let entries = 0;
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [role, parent] = next;
    if (loaded.has(role)) continue;
    if (loaded.size >= LIST_LIMITS.roles) throw tooLarge(repository, 'roles', LIST_LIMITS.roles);
    const md = await walker.loadTargets(role, parent);
    if (md === undefined) continue;
    loaded.set(role, md);
    entries += Object.keys(md.signed.targets).length;
    if (entries > LIST_LIMITS.targets) throw tooLarge(repository, 'targets', LIST_LIMITS.targets);
    const children = childrenOf(md, repository);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i] as string, role]);
  }
  return loaded;
}

/**
 * Every target of the repository that a lookup resolves, with its role, sorted by name (code
 * point order), each name once. `wanted` selects the names to resolve (default: all).
 */
export async function listVerifiedTargets(
  walker: TargetsWalker,
  repository: string,
  wanted: (name: string) => boolean = () => true,
): Promise<VerifiedTarget[]> {
  const loaded = await loadAll(walker, repository);
  const roleOf = new Map<TargetFile, string>();
  const names = new Set<string>();
  for (const [role, md] of loaded) {
    for (const [name, info] of Object.entries(md.signed.targets)) {
      roleOf.set(info, role);
      if (wanted(name)) names.add(name);
    }
  }
  const out: VerifiedTarget[] = [];
  for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const info = await walker.getTargetInfo(name);
    if (info === undefined) continue; // listed only outside the paths delegated to its role
    const role = roleOf.get(info) ?? [...loaded].find(([, md]) => md.signed.targets[name] === info)?.[0];
    out.push({ info, role: role ?? 'targets' });
  }
  return out;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Up to `count` of `tags` nearest to `wanted`: within a small edit distance (a third of its
 * length, 1 to 4) or sharing a prefix of at least 2 characters (or the whole of the shorter);
 * nearest first (distance, then longer common prefix, then name).
 */
export function nearestTags(wanted: string, tags: readonly string[], count = 5): string[] {
  const max = Math.min(4, Math.max(1, Math.floor(wanted.length / 3)));
  const scored: [string, number, number][] = [];
  for (const tag of new Set(tags)) {
    if (tag === wanted) continue;
    const d = editDistance(wanted, tag, max);
    const p = commonPrefix(wanted, tag);
    if (d <= max || p >= Math.min(2, wanted.length, tag.length)) scored.push([tag, d, p]);
  }
  scored.sort((x, y) => x[1] - y[1] || y[2] - x[2] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return scored.slice(0, count).map((s) => s[0]);
}
