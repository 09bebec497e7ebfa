/**
 * Recovery from a compromise of a threshold (or more) of the root keys, CNAB-Sec doc 302
 * "Recovering from a key compromise": "sign new root metadata using no threshold of previous
 * root keys, which will require end-users to update root metadata using a safe out-of-band
 * mechanism".
 *
 * `stageRecovery` stages root vN+1 with new root keys (none of the compromised ones) and,
 * optionally, new keys for other top-level roles; `LocalRepository.authoritiesFor` then
 * requires only the new root's own threshold (config `recovery`). Clients refuse that root
 * in a normal update (TUF §5.3.4: it is not signed by the keys they trust) until the user
 * re-pins it from the out-of-band package (`writeRecoveryPackage`) with `cnabsec trust reset`.
 * With fewer than a threshold compromised, use an ordinary root rotation (./rotation.ts).
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Metadata, Root } from '@tufjs/models';
import { toKey } from './authority.js';
import { TufError } from './errors.js';
import { metadataFileName } from './policy.js';
import { CONFIG_FILE, METADATA_DIR, type LocalRepository } from './repository.js';
import { planKeySetChange, type KeySetChange } from './keyset.js';
import { applyToRootJson, signingOf, stagedTransaction, type StagedSigning } from './rotation.js';
import type { PublicKeyJson } from '../crypto/keys.js';
import { writeFileAtomic } from '../util/fs.js';
import { promises as fsp } from 'node:fs';

export type RecoverableRole = 'targets' | 'snapshot' | 'timestamp';

export interface RecoveryOptions {
  /** The new root keys: none of them may be a key of the compromised root. */
  rootKeys: PublicKeyJson[];
  /** Root threshold (default: the old threshold, at most the number of new keys). */
  threshold?: number;
  /** Replace all keys of these roles too (their threshold is kept, at most the key count). */
  rotate?: Partial<Record<RecoverableRole, PublicKeyJson[]>>;
  now?: Date;
  dryRun?: boolean;
}

export interface RecoveryPlan {
  /** Root version clients trust now, and the new one they must re-pin. */
  trustedVersion: number;
  version: number;
  changes: KeySetChange[];
  signing: StagedSigning[];
  clients: string[];
  dryRun: boolean;
}

type RootRoles = Root['roles'];

function replaceAll(roles: RootRoles, role: string, keys: PublicKeyJson[], threshold?: number): KeySetChange {
  const r = roles[role];
  if (r === undefined) throw new TufError('ROLE_UNKNOWN', `root has no role ${role}`);
  const t = threshold ?? Math.min(r.threshold, Math.max(keys.length, 1));
  return planKeySetChange(
    role,
    'root',
    { keyids: r.keyIDs, threshold: r.threshold },
    {
      add: keys,
      remove: r.keyIDs,
      threshold: t,
    },
  );
}

/** Stage a root signed by new keys only (see the module comment). Nothing is saved here. */
export function stageRecovery(repo: LocalRepository, options: RecoveryOptions): RecoveryPlan {
  const trusted = repo.published.get('root') as Metadata<Root> | undefined;
  if (trusted === undefined) {
    throw new TufError('INVALID_ARGUMENT', `${repo.config.name} has no published root: nothing to recover`, {
      hint: 'before the first publish, change keys with `cnabsec key rotate`',
    });
  }
  const compromised = trusted.signed.roles.root?.keyIDs ?? [];
  const reused = options.rootKeys.map((k) => toKey(k).keyID).filter((id) => compromised.includes(id));
  if (reused.length > 0) {
    throw new TufError(
      'RECOVERY_KEY_REUSED',
      `key ${reused.join(', ')} is a key of the compromised root v${trusted.signed.version}`,
      {
        details: { keyids: reused, version: trusted.signed.version },
        hint: 'recover with new keys only (e.g. --new-root-key new); an attacker may hold the old ones',
      },
    );
  }
  const roles = repo.root.signed.roles;
  const changes = [replaceAll(roles, 'root', options.rootKeys, options.threshold)];
  for (const [role, keys] of Object.entries(options.rotate ?? {}))
    changes.push(replaceAll(roles, role, keys));
  const now = options.now === undefined ? {} : { now: options.now };
  const dryRun = options.dryRun ?? false;
  const previousRecovery = repo.config.recovery;
  return stagedTransaction(repo, dryRun, () => {
    const md = repo.edit(
      'root',
      (signed) => {
        for (const c of changes) applyToRootJson(signed as never, c);
      },
      now,
    );
    repo.config.recovery = { rootVersion: md.signed.version, trustedVersion: trusted.signed.version };
    const staged = ['root'];
    if (options.rotate?.targets !== undefined) {
      repo.edit('targets', () => undefined, now);
      staged.push('targets');
    }
    const signing = signingOf(repo, staged);
    if (dryRun) {
      if (previousRecovery === undefined) delete repo.config.recovery;
      else repo.config.recovery = previousRecovery;
    }
    return {
      trustedVersion: trusted.signed.version,
      version: md.signed.version,
      changes,
      signing,
      clients: [
        `every client trusting root v${trusted.signed.version} or earlier REFUSES root v${md.signed.version} (it is not signed by the compromised keys): this is intended`,
        `each user must re-pin it out of band: \`cnabsec trust reset ${repo.config.name} --root root.json\` with the root.json of the recovery package`,
      ],
      dryRun,
    };
  });
}

/** Persist the staged recovery (staged metadata and the recovery marker in the configuration). */
export async function saveRecovery(repo: LocalRepository): Promise<void> {
  await repo.saveStaged();
  await repo.store.write(CONFIG_FILE, new TextEncoder().encode(JSON.stringify(repo.config, null, 2) + '\n'));
}

export interface RecoveryPackage {
  dir: string;
  files: string[];
  version: number;
  sha256: string;
  keyids: string[];
  threshold: number;
}

export function recoveryReadme(
  name: string,
  version: number,
  sha256: string,
  keyids: string[],
  threshold: number,
): string {
  return `SECURITY NOTICE: new root keys for ${name}

The root signing keys of the CNAB bundle repository ${name} were compromised.
Its owners replaced them with new keys and signed a new root metadata file,
version ${version}, with the new keys only. Your cnabsec client will refuse
updates of ${name} until you re-pin its root: this is intended, because an
attacker holding the old keys could otherwise sign a root of their own.

1. Make sure this package reached you from the repository owners through a
   channel you trust (not from the repository or registry server).
2. Check root.json:
     sha256:    ${sha256}
     version:   ${version}
     root keys (${threshold} signature(s) required):
${keyids.map((k) => `       ${k}`).join('\n')}
3. Re-pin trust (replaces the pinned root and clears the metadata cache):
     cnabsec trust reset ${name} --root root.json
4. Then update as usual, e.g. cnabsec lookup ${name}:<tag>

Other TUF clients (tuf-js, python-tuf): replace the trusted root.json in the
client's metadata directory with this root.json and delete the other cached
metadata files.
`;
}

/** Write the out-of-band package (root.json + README.txt) of the published recovery root. */
export async function writeRecoveryPackage(repo: LocalRepository, dir: string): Promise<RecoveryPackage> {
  const root = repo.published.get('root') as Metadata<Root> | undefined;
  const version = repo.config.recovery?.rootVersion;
  if (root === undefined || version === undefined || root.signed.version !== version) {
    throw new TufError('RECOVERY_NOT_PUBLISHED', `${repo.config.name} has no published recovery root`, {
      details: { recoveryVersion: version ?? null, publishedVersion: root?.signed.version ?? null },
      hint:
        version === undefined
          ? 'start a recovery with `cnabsec recover <repo> --new-root-key ...`'
          : `publish the staged root v${version} first (\`cnabsec publish <repo>\` once its new keys signed it)`,
    });
  }
  const bytes = await repo.store.read(`${METADATA_DIR}/${metadataFileName('root', version)}`);
  if (bytes === undefined) throw new TufError('REPO_CORRUPT', `published root v${version} is missing`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const r = root.signed.roles.root;
  const keyids = r?.keyIDs ?? [];
  const threshold = r?.threshold ?? 1;
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'root.json'), bytes);
  await writeFileAtomic(
    path.join(dir, 'README.txt'),
    recoveryReadme(repo.config.name, version, sha256, keyids, threshold),
  );
  return { dir, files: ['root.json', 'README.txt'], version, sha256, keyids, threshold };
}
