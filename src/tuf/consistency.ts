/**
 * Guards that keep every publish updatable by a client pinned at any earlier root: after a
 * key change, metadata that is NOT re-signed in this publish must still meet the threshold of
 * the keys that will then be trusted for it (TUF §5.3.4 root, §5.5.3 snapshot, §5.6.3
 * targets and delegated roles). Otherwise a client would update root and then reject the
 * unchanged role. Staged roles are checked when they are signed (publish `signAll`).
 */
import { authorityStatus } from './authority.js';
import { TufError } from './errors.js';
import type { LocalRepository } from './repository.js';

export interface UntrustedRole {
  role: string;
  version: number;
  source: string;
  valid: number;
  threshold: number;
}

/** Published roles (not in `pending`) whose metadata would fail verification after publishing. */
export function untrustedRoles(repo: LocalRepository, pending: Set<string>): UntrustedRole[] {
  const out: UntrustedRole[] = [];
  for (const role of repo.roleNames()) {
    if (pending.has(role) || role === 'snapshot' || role === 'timestamp') continue;
    const md = repo.current(role);
    if (md === undefined) continue;
    for (const a of repo.authoritiesFor(role)) {
      const s = authorityStatus(md, a);
      if (!s.met)
        out.push({
          role,
          version: md.signed.version,
          source: a.source,
          valid: s.valid.length,
          threshold: a.threshold,
        });
    }
  }
  return out;
}

/** Throw ROLE_WOULD_BE_UNTRUSTED (nothing is written) when publishing would strand clients. */
export function assertClientsCanUpdate(repo: LocalRepository, pending: Set<string>): void {
  const bad = untrustedRoles(repo, pending);
  const first = bad[0];
  if (first === undefined) return;
  const what = bad.map(
    (b) => `${b.role} v${b.version} has ${b.valid}/${b.threshold} valid signatures from ${b.source}`,
  );
  throw new TufError(
    'ROLE_WOULD_BE_UNTRUSTED',
    `cannot publish: clients could not update, because ${what.join('; ')}`,
    {
      details: { roles: bad },
      hint: `stage a new version signed by the new keys: \`cnabsec resign <repo> ${first.role}\`, then publish`,
    },
  );
}

/**
 * Run `fn` on the published state only (staged edits hidden, then restored), for periodic
 * tasks such as `refresh` that must sign with the keys clients trust NOW, not with keys of a
 * staged, not yet published root.
 */
export async function withPublishedView<T>(repo: LocalRepository, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(repo.staged);
  repo.staged.clear();
  try {
    return await fn();
  } finally {
    for (const [role, md] of saved) if (!repo.staged.has(role)) repo.staged.set(role, md);
  }
}
