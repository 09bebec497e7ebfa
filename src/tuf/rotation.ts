/**
 * Key rotation of the top-level roles through root (CNAB-Sec doc 302 "Recovering from a key
 * compromise", TUF spec §6.1). A rotation stages a new root version listing the new keys and
 * threshold; publish then requires it to be signed by a threshold of the trusted (published)
 * root's keys AND of its own root keys (`LocalRepository.authoritiesFor`), so that every
 * client walks the root chain (TUF §5.3.4: each version N+1 is verified with the keys of N
 * and with its own). The rotated role is re-signed by its new keys in the same publish:
 * targets gets a new staged version, snapshot and timestamp are always new at publish.
 * A client that trusted timestamp or snapshot metadata signed by removed keys discards it
 * (fast-forward recovery, TUF §5.3.11) and updates; see ./client/fastforward.ts.
 */
import type { Metadata, Root } from '@tufjs/models';
import { isTopLevel } from './policy.js';
import type { LocalRepository } from './repository.js';
import { toKey } from './authority.js';
import { TufError } from './errors.js';
import { planKeySetChange, type KeyChange, type KeySetChange } from './keyset.js';

export interface StagedSigning {
  role: string;
  version: number;
  /** Every authority's threshold must be met: "t of these keys". */
  authorities: { source: string; threshold: number; keyids: string[] }[];
}

export interface RotationPlan extends KeySetChange {
  /** Roles staged by this change, with the signatures each needs before publish. */
  signing: StagedSigning[];
  /** Which clients the change affects and how (printed by `--dry-run`). */
  clients: string[];
  dryRun: boolean;
}

export interface RotateOptions {
  now?: Date;
  /** Compute and validate the plan, then restore the staged state: nothing changes. */
  dryRun?: boolean;
}

type RootJson = {
  keys: Record<string, unknown>;
  roles: Record<string, { keyids: string[]; threshold: number }>;
};

/** Apply a key set change to root's `signed` JSON; keys no role lists any more are dropped. */
export function applyToRootJson(signed: RootJson, change: KeySetChange): void {
  for (const [keyid, pub] of Object.entries(change.newKeys)) signed.keys[keyid] = toKey(pub).toJSON();
  signed.roles[change.role] = { keyids: change.after.keyids, threshold: change.after.threshold };
  const used = new Set(Object.values(signed.roles).flatMap((r) => r.keyids));
  for (const keyid of Object.keys(signed.keys)) if (!used.has(keyid)) delete signed.keys[keyid];
}

export function signingOf(repo: LocalRepository, roles: string[]): StagedSigning[] {
  return roles.map((role) => ({
    role,
    version: repo.current(role)?.signed.version ?? 0,
    authorities: repo.authoritiesFor(role).map((a) => ({
      source: a.source,
      threshold: a.threshold,
      keyids: a.keyIDs,
    })),
  }));
}

/** Run `apply` on the repository's staged state; on dry run (or failure) restore it. */
export function stagedTransaction<T>(repo: LocalRepository, dryRun: boolean, apply: () => T): T {
  const saved = new Map(repo.staged);
  const restore = (): void => {
    repo.staged.clear();
    for (const [role, md] of saved) repo.staged.set(role, md);
  };
  try {
    const result = apply();
    if (dryRun) restore();
    return result;
  } catch (e) {
    restore();
    throw e;
  }
}

function clientImpact(repo: LocalRepository, c: KeySetChange, newRoot: number): string[] {
  const trusted = repo.published.get('root')?.signed.version;
  if (trusted === undefined) return ['the repository is not published yet: no client is affected'];
  const walk = `clients that trust root v${trusted} (or any earlier version) walk to root v${newRoot} automatically (TUF §5.3.4); no client action is needed`;
  const out = [walk];
  if (c.role === 'root') {
    const t = (repo.published.get('root') as Metadata<Root> | undefined)?.signed.roles.root;
    out.push(
      `root v${newRoot} must be signed by ${t?.threshold ?? '?'} of the ${t?.keyIDs.length ?? '?'} root keys of v${trusted} AND ${c.after.threshold} of its own ${c.after.keyids.length}`,
    );
  } else if (c.role === 'timestamp' || c.role === 'snapshot') {
    out.push(
      `clients drop their cached ${c.role} signed by removed keys and fetch the new one (fast-forward recovery, TUF §5.3.11)`,
    );
    if (c.role === 'snapshot')
      out.push(
        'after a snapshot key compromise rotate the timestamp key too: tuf-js and python-tuf clients only recover from a snapshot version rollback when the timestamp key changed',
      );
  } else {
    out.push(
      `targets is re-signed by the new keys in the same publish; clients verify it with root v${newRoot}`,
    );
  }
  if (c.removed.length > 0 && c.role !== 'root' && c.role !== 'timestamp' && c.role !== 'snapshot')
    out.push(
      'if a removed key was compromised, warn users with `cnabsec advisory <repo> --since <version|time> --key <keyid>` (doc 302)',
    );
  return out;
}

/**
 * Stage the rotation of a top-level role's keys (`cnabsec key rotate`). Delegated roles are
 * rotated by their delegating role (./delegation.ts `rotateDelegation`).
 */
export function rotateKeys(
  repo: LocalRepository,
  role: string,
  change: KeyChange,
  options: RotateOptions = {},
): RotationPlan {
  if (!isTopLevel(role)) {
    throw new TufError(
      'INVALID_ARGUMENT',
      `${role} is a delegated role: its keys are listed by its delegator`,
      {
        details: { role },
        hint: `rotate it with \`cnabsec delegation rotate <repo> ${role}\``,
      },
    );
  }
  const root = repo.root.signed;
  const current = root.roles[role];
  if (current === undefined) throw repo.unknownRole(role);
  const c = planKeySetChange(role, 'root', { keyids: current.keyIDs, threshold: current.threshold }, change);
  const dryRun = options.dryRun ?? false;
  return stagedTransaction(repo, dryRun, () => {
    const now = options.now === undefined ? {} : { now: options.now };
    const md = repo.edit(
      'root',
      (signed) => {
        applyToRootJson(signed as unknown as RootJson, c);
      },
      now,
    );
    const staged = ['root'];
    if (role === 'targets') {
      repo.edit('targets', () => undefined, now);
      staged.push('targets');
    }
    return {
      ...c,
      signing: signingOf(repo, staged),
      clients: clientImpact(repo, c, md.signed.version),
      dryRun,
    };
  });
}
