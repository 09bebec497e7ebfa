/**
 * Security advisory after a `targets` or delegated-role (e.g. `targets/releases`) key
 * compromise. CNAB-Sec doc 302: "if the targets or targets/releases role key was
 * compromised, developers SHOULD warn users about the possibility of having accidentally
 * installed malicious versions of bundles".
 *
 * Published metadata keeps every version (consistent snapshots, TUF §5.5: `N.<role>.json`),
 * so the advisory walks all published versions of targets and delegated roles, keeps those
 * carrying a valid signature by a compromised key and falling in the window given by
 * `since` — a version number (versions >= it) or a time (versions still unexpired at or
 * after it, i.e. that clients could have trusted after the compromise) — and lists every
 * bundle target they contain with its legitimate hashes, so that users can compare what
 * they installed. Revoking a bundle is removing its target in a new version
 * (`cnabsec bundle remove`).
 */
import { Metadata, type Key, type Root, type Targets } from '@tufjs/models';
import { TufError } from './errors.js';
import { METADATA_DIR, parseMetadata, type LocalRepository } from './repository.js';
import { resolveRoleKey } from './keyset.js';
import { isRoleName } from './names.js';

export interface AdvisoryOptions {
  /** Compromised key ids (or prefixes); default: keys that signed a targets role but are no longer authorized for it. */
  keyids?: string[];
  /** A version number, or a date/time (ISO 8601). */
  since: string;
  /** Only this role (default: targets and every delegated role). */
  role?: string;
}

export interface AdvisoryTarget {
  target: string;
  role: string;
  length: number;
  hashes: Record<string, string>;
  /** Versions of `role` signed by a compromised key that list this target. */
  versions: number[];
  /** Whether the newest published version of `role` still lists it (revoke with `bundle remove`). */
  current: boolean;
}

export interface Advisory {
  repository: string;
  keyids: string[];
  since: { version: number } | { time: string };
  roles: { role: string; versions: number[] }[];
  targets: AdvisoryTarget[];
  text: string;
}

interface Version {
  role: string;
  md: Metadata<Targets>;
}

function decodedRole(encoded: string): string | undefined {
  try {
    const role = decodeURIComponent(encoded);
    return isRoleName(role) && encodeURIComponent(role) === encoded ? role : undefined;
  } catch {
    return undefined;
  }
}

async function publishedVersions(
  repo: LocalRepository,
): Promise<{ roots: Metadata<Root>[]; targets: Version[] }> {
  const roots: Metadata<Root>[] = [];
  const targets: Version[] = [];
  for (const file of await repo.store.list(METADATA_DIR)) {
    const m = /^(\d+)\.(.+)\.json$/.exec(file);
    if (m?.[2] === undefined) continue;
    // not a role's file (a stray `1.%zz.json`): no client ever requests it (ADR 0012 names)
    const role = decodedRole(m[2]);
    if (role === undefined) continue;
    if (role === 'snapshot' || role === 'timestamp') continue;
    const bytes = await repo.store.read(`${METADATA_DIR}/${file}`);
    if (bytes === undefined) continue;
    const md = parseMetadata(role, bytes, `${repo.store.location}/${METADATA_DIR}/${file}`);
    if (role === 'root') roots.push(md as Metadata<Root>);
    else targets.push({ role, md: md as Metadata<Targets> });
  }
  targets.sort((a, b) => a.role.localeCompare(b.role) || a.md.signed.version - b.md.signed.version);
  return { roots, targets };
}

/** Every key ever listed for a targets-kind role, by key id. */
function knownKeys(roots: Metadata<Root>[], versions: Version[]): Map<string, Key> {
  const keys = new Map<string, Key>();
  for (const r of roots) for (const [id, k] of Object.entries(r.signed.keys)) keys.set(id, k);
  for (const v of versions)
    for (const [id, k] of Object.entries(v.md.signed.delegations?.keys ?? {})) keys.set(id, k);
  return keys;
}

function signedBy(md: Metadata<Targets>, key: Key): boolean {
  if (md.signatures[key.keyID] === undefined) return false;
  try {
    key.verifySignature(md);
    return true;
  } catch {
    return false;
  }
}

function parseSince(since: string): { version: number } | { time: string } {
  if (/^\d+$/.test(since.trim())) return { version: Number(since) };
  const t = Date.parse(since);
  if (Number.isNaN(t)) {
    throw new TufError('INVALID_ARGUMENT', `--since ${since} is neither a version number nor a time`, {
      hint: 'give a version (e.g. 3) or an ISO 8601 time (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)',
    });
  }
  return { time: new Date(t).toISOString() };
}

/** Keys that signed a version of a role but are not authorized for it any more (rotated out). */
function rotatedOut(repo: LocalRepository, versions: Version[], keys: Map<string, Key>): string[] {
  const out = new Set<string>();
  for (const v of versions) {
    if (!repo.roleNames().includes(v.role)) continue;
    const now = new Set(repo.authoritiesFor(v.role).flatMap((a) => a.keyIDs));
    for (const keyid of Object.keys(v.md.signatures)) {
      const key = keys.get(keyid);
      if (!now.has(keyid) && key !== undefined && signedBy(v.md, key)) out.add(keyid);
    }
  }
  return [...out].sort();
}

function resolveKeys(
  repo: LocalRepository,
  refs: string[] | undefined,
  versions: Version[],
  keys: Map<string, Key>,
): string[] {
  if (refs === undefined || refs.length === 0) {
    const out = rotatedOut(repo, versions, keys);
    if (out.length === 0) {
      throw new TufError(
        'INVALID_ARGUMENT',
        `no key of ${repo.config.name} has been rotated out of a targets role`,
        {
          hint: 'rotate the compromised key first (`cnabsec key rotate` / `cnabsec delegation rotate`), or name it with --key',
        },
      );
    }
    return out;
  }
  return [...new Set(refs.map((r) => resolveRoleKey('any targets role', [...keys.keys()], r)))];
}

function inWindow(md: Metadata<Targets>, since: { version: number } | { time: string }): boolean {
  return 'version' in since
    ? md.signed.version >= since.version
    : Date.parse(md.signed.expires) > Date.parse(since.time);
}

export async function advisory(repo: LocalRepository, options: AdvisoryOptions): Promise<Advisory> {
  const since = parseSince(options.since);
  const { roots, targets } = await publishedVersions(repo);
  const keys = knownKeys(roots, targets);
  const keyids = resolveKeys(repo, options.keyids, targets, keys);
  const hits = targets.filter(
    (v) =>
      (options.role === undefined || v.role === options.role) &&
      inWindow(v.md, since) &&
      keyids.some((id) => {
        const key = keys.get(id);
        return key !== undefined && signedBy(v.md, key);
      }),
  );
  const byTarget = new Map<string, AdvisoryTarget>();
  for (const { role, md } of hits) {
    for (const [name, t] of Object.entries(md.signed.targets)) {
      const id = `${role}\u0000${name}\u0000${JSON.stringify(t.hashes)}`;
      const entry = byTarget.get(id) ?? {
        target: name,
        role,
        length: t.length,
        hashes: t.hashes,
        versions: [],
        current: false,
      };
      entry.versions.push(md.signed.version);
      entry.current = name in ((repo.published.get(role)?.signed as Targets | undefined)?.targets ?? {});
      byTarget.set(id, entry);
    }
  }
  const roles = [...new Set(hits.map((h) => h.role))].map((role) => ({
    role,
    versions: hits.filter((h) => h.role === role).map((h) => h.md.signed.version),
  }));
  const list = [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target));
  return {
    repository: repo.config.name,
    keyids,
    since,
    roles,
    targets: list,
    text: advisoryText(repo.config.name, keyids, since, list),
  };
}

export function advisoryText(
  name: string,
  keyids: string[],
  since: { version: number } | { time: string },
  targets: AdvisoryTarget[],
): string {
  const when = 'version' in since ? `since version ${since.version}` : `since ${since.time}`;
  const lines = [
    `SECURITY ADVISORY for ${name}`,
    '',
    `A signing key of ${name} was compromised:`,
    ...keyids.map((k) => `    ${k}`),
    `The key has been replaced. Bundles trusted through it ${when} may have been replaced by malicious`,
    'versions for some users. If you installed any of the bundles below, check that',
    'its digest is the one listed here; if it differs, remove it and reinstall.',
    '',
  ];
  if (targets.length === 0) lines.push('(no bundle was signed by the compromised key in this window)');
  for (const t of targets) {
    lines.push(`  ${t.target}`);
    for (const [alg, h] of Object.entries(t.hashes)) lines.push(`      ${alg} ${h}  (${t.length} bytes)`);
    lines.push(
      `      signed in ${t.role} v${t.versions.join(', v')}${t.current ? '' : '  [no longer listed]'}`,
    );
  }
  return lines.join('\n') + '\n';
}
