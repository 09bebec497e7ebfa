/**
 * The periodic re-signing of what the server holds (doc 302: "the timestamp role … is
 * re-signed periodically by the server"; TUF §5.4 a client refuses an expired timestamp,
 * §5.5 snapshot): inside the repository's write transaction, so with several processes on one
 * store each repository is refreshed once — the second writer either waits for the first and
 * finds nothing due, or loses the commit with VERSION_CONFLICT and re-checks (ADR 0022).
 */
import type { OnlineKeys } from './online-keys.js';
import { rootOf, rootSigners } from './service-keys.js';
import { signOnlineRoles, type SignContext } from './service-publish.js';
import type { OnlineRole, RefreshResult } from './service-types.js';
import { stateOf, type StoredMeta, type TrustTx } from './store.js';

export interface DueOptions {
  now: Date;
  /** Re-sign when less than this fraction of the role's lifetime is left. */
  fraction: number;
  force: boolean;
}

/**
 * Less than `fraction` of the lifetime left. The lifetime is `expires` − the time the row was
 * stored (when the server signed it); a row without an expiry is never due.
 */
export function isDue(row: StoredMeta | undefined, o: DueOptions): boolean {
  if (row === undefined) return false;
  if (o.force) return true;
  const expires = row.expiresAt?.getTime();
  if (expires === undefined) return false;
  const lifetime = Math.max(0, expires - row.createdAt.getTime());
  return expires - o.now.getTime() < o.fraction * lifetime;
}

/**
 * Which roles to re-sign: the snapshot when the server holds its keys and it is due, the
 * timestamp when it holds its keys and it is due or lists a snapshot being re-signed. A
 * snapshot is never re-signed without a timestamp listing it (the server could not publish it).
 */
export async function refreshPlan(
  keys: OnlineKeys | undefined,
  repo: string,
  current: ReadonlyMap<string, StoredMeta>,
  o: DueOptions,
): Promise<{ snapshot: boolean; timestamp: boolean }> {
  const none = { snapshot: false, timestamp: false };
  const root = rootOf(stateOf(current));
  if (keys === undefined || root === undefined || !current.has('timestamp')) return none;
  const holds = async (role: OnlineRole) => (await rootSigners(keys, repo, root, role)) !== undefined;
  if (!(await holds('timestamp'))) return none;
  const snapshot = isDue(current.get('snapshot'), o) && (await holds('snapshot'));
  return { snapshot, timestamp: snapshot || isDue(current.get('timestamp'), o) };
}

/** The body of `refresh`'s transaction: plan under the lock, sign, append. */
export async function refreshIn(tx: TrustTx, ctx: SignContext, o: DueOptions): Promise<RefreshResult> {
  const current = await tx.currentAll();
  const plan = await refreshPlan(ctx.keys, ctx.repo, current, o);
  if (!plan.snapshot && !plan.timestamp) return { repo: ctx.repo, signed: [] };
  const { updates } = await signOnlineRoles(ctx, stateOf(current), current, plan);
  tx.append(updates);
  return {
    repo: ctx.repo,
    signed: updates.map((u) => ({
      role: u.role,
      version: u.version,
      expires: u.expiresAt.toISOString().replace('.000Z', 'Z'),
    })),
  };
}
