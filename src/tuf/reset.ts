/**
 * Discard staged changes (`cnabsec reset`, modelled on `notary reset <GUN> --all`): every
 * staged role version, the bytes of staged target files (layouts, links) and, when the staged
 * root was a recovery root (./recovery.ts), the recovery marker in the configuration. What is
 * published stays as it is; keys generated for the discarded changes stay in the key store.
 * Plan/apply shape: `planReset` says what would go, `resetStaged` applies it.
 */
import { TufError } from './errors.js';
import { clearStagedFiles, stagedFileList, type StagedFile } from './files.js';
import { CONFIG_FILE, type LocalRepository } from './repository.js';

export interface DiscardedRole {
  role: string;
  /** The staged version discarded. */
  version: number;
  /** The published version the role falls back to (null: never published). */
  publishedVersion: number | null;
}

export interface ResetPlan {
  name: string;
  roles: DiscardedRole[];
  files: StagedFile[];
  /** The staged root was a recovery root: the recovery marker is removed too. */
  recovery: boolean;
  dryRun: boolean;
}

/** What `resetStaged` would discard, in role order (root, targets, snapshot, timestamp, delegations). */
export async function planReset(repo: LocalRepository): Promise<Omit<ResetPlan, 'dryRun'>> {
  if (repo.published.get('root') === undefined && repo.staged.size > 0) {
    // Discarding the staged root of a never-published repository would leave no root at all.
    throw new TufError(
      'REPO_NOT_PUBLISHED',
      `${repo.config.name} has never been published: nothing to reset to`,
      {
        details: { path: repo.store.location },
        hint: `publish it first (cnabsec publish ${repo.store.location}), or remove the directory and init again`,
      },
    );
  }
  const order = repo.roleNames();
  const rank = (r: string): number => (order.includes(r) ? order.indexOf(r) : order.length);
  const roles = [...repo.staged]
    .map(([role, md]) => ({
      role,
      version: md.signed.version,
      publishedVersion: repo.published.get(role)?.signed.version ?? null,
    }))
    .sort((a, b) => rank(a.role) - rank(b.role) || a.role.localeCompare(b.role));
  const recovery = repo.config.recovery;
  return {
    name: repo.config.name,
    roles,
    files: await stagedFileList(repo),
    recovery: recovery !== undefined && recovery.rootVersion === repo.staged.get('root')?.signed.version,
  };
}

/**
 * Discard every staged change of `repo` (call it under the repository lock:
 * LocalRepository.transaction). With `dryRun` nothing is removed. Roles go first, then file
 * bytes, then the recovery marker: an interruption leaves staged files no metadata lists,
 * which publish ignores and a second reset removes.
 */
export async function resetStaged(
  repo: LocalRepository,
  options: { dryRun?: boolean } = {},
): Promise<ResetPlan> {
  const plan = { ...(await planReset(repo)), dryRun: options.dryRun === true };
  if (plan.dryRun) return plan;
  await repo.discardStaged();
  await clearStagedFiles(repo);
  if (plan.recovery) {
    delete repo.config.recovery;
    await repo.store.write(
      CONFIG_FILE,
      new TextEncoder().encode(JSON.stringify(repo.config, null, 2) + '\n'),
    );
  }
  return plan;
}
