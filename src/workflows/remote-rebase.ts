/**
 * A staged targets role overtaken by a pull (the server already has its version): its own
 * changes — targets added, changed or removed against the published version it was staged
 * on — are replayed on the pulled version as a new staged version, so the maintainer who lost
 * the race publishes again without staging again (issue 13 item 5: "pull and retry"). Only
 * target entries are replayed; a staged role that also changed its delegations (keys, paths,
 * thresholds), and staged root, snapshot or timestamp, are dropped and named instead.
 */
import { canonicalize } from '@tufjs/canonical-json';
import { MetadataKind } from '@tufjs/models';
import type { AnyMetadata } from '../tuf/authority.js';
import { kindOf } from '../tuf/policy.js';
import type { LocalRepository } from '../tuf/repository.js';

/** Target entries to set and names to remove. */
export interface TargetChanges {
  set: Record<string, unknown>;
  removed: string[];
}

type TargetsJson = { targets?: Record<string, unknown>; delegations?: unknown };

const same = (a: unknown, b: unknown): boolean =>
  a === undefined || b === undefined ? a === b : canonicalize(a) === canonicalize(b);

/** What `staged` changed against `base` in target entries; undefined when it changed more. */
export function targetChanges(
  role: string,
  base: AnyMetadata | undefined,
  staged: AnyMetadata,
): TargetChanges | undefined {
  if (kindOf(role) !== MetadataKind.Targets) return undefined;
  const b = (base?.signed.toJSON() ?? {}) as TargetsJson;
  const m = staged.signed.toJSON() as TargetsJson;
  if (!same(b.delegations, m.delegations)) return undefined;
  const before = b.targets ?? {};
  const after = m.targets ?? {};
  const set: Record<string, unknown> = {};
  for (const [name, info] of Object.entries(after)) if (!same(before[name], info)) set[name] = info;
  const removed = Object.keys(before).filter((name) => !Object.hasOwn(after, name));
  return { set, removed };
}

/** Stage `changes` on the published version of `role` (a new version, unsigned). */
export function replayTargetChanges(repo: LocalRepository, role: string, changes: TargetChanges): void {
  repo.edit(role, (signed) => {
    const targets = (signed.targets ?? {}) as Record<string, unknown>;
    for (const name of changes.removed) delete targets[name];
    Object.assign(targets, changes.set);
    signed.targets = targets;
  });
}
