/**
 * Recovery from a compromise of a threshold of root keys (CNAB-Sec doc 302 "Recovering from a
 * key compromise", ../tuf/recovery.ts) as plan/apply: `planRecovery` resolves the new keys and
 * validates the recovery root with stand-in keys (nothing generated or staged); `applyRecovery`
 * generates the keys, stages and publishes the recovery root (signed by the new keys only) and
 * writes the out-of-band package for users. If the recovery is refused before anything is
 * saved, the generated keys are removed again; once saved, a missing signature leaves the
 * recovery staged (THRESHOLD_NOT_MET, with what to do next).
 */
import type { PublicKeyJson } from '../crypto/keys.js';
import type { KeyStore } from '../crypto/keystore.js';
import { TufError } from '../tuf/errors.js';
import { publish } from '../tuf/publish.js';
import {
  saveRecovery,
  stageRecovery,
  writeRecoveryPackage,
  type RecoverableRole,
  type RecoveryOptions,
  type RecoveryPackage,
  type RecoveryPlan,
} from '../tuf/recovery.js';
import type { LocalRepository } from '../tuf/repository.js';
import type { SignerProvider } from '../tuf/signing.js';
import { quote } from '../util/json.js';
import {
  checkKeyType,
  KeyGenerator,
  NEW_KEY,
  resolveKeyRefs,
  withStandIns,
  type KeyRef,
  type PlannedKey,
} from './key-refs.js';
import type { KeyType } from '../crypto/keys.js';
import type { ApplyKeysOptions } from './rotation.js';

/** Roles whose keys a recovery can replace too (delegated roles: `delegation rotate` afterwards). */
export const RECOVERY_ROTATABLE: readonly RecoverableRole[] = ['targets', 'snapshot', 'timestamp'];

export interface RecoverOptions {
  /** The new root keys: "new", PEM files, key-store ids or public keys; none of the old root. */
  rootKeys: KeyRef[];
  threshold?: number;
  /** Also give these roles all-new keys (one new key each). */
  rotate?: string[];
  keyType?: string;
  keyStore?: KeyStore;
  now?: Date;
}

export interface RecoverWorkflowPlan {
  rootKeys: PlannedKey[];
  rotate: RecoverableRole[];
  threshold?: number;
  keyType: KeyType;
  now?: Date;
  /** The recovery as `applyRecovery` stages it, with stand-in keys for the new ones. */
  preview: RecoveryPlan;
}

function recoveryOptions(
  plan: Omit<RecoverWorkflowPlan, 'preview'>,
  rootKeys: PublicKeyJson[],
  rotate: Partial<Record<RecoverableRole, PublicKeyJson[]>>,
  dryRun: boolean,
): RecoveryOptions {
  return {
    rootKeys,
    rotate,
    dryRun,
    ...(plan.threshold === undefined ? {} : { threshold: plan.threshold }),
    ...(plan.now === undefined ? {} : { now: plan.now }),
  };
}

/** Check a recovery (see the module comment); nothing is generated or staged. */
export async function planRecovery(
  repo: LocalRepository,
  opts: RecoverOptions,
): Promise<RecoverWorkflowPlan> {
  const keyType = checkKeyType(opts.keyType);
  if (opts.rootKeys.length === 0) {
    throw new TufError(
      'INVALID_ARGUMENT',
      'give the new root keys with --new-root-key <id|pem|new> (repeatable)',
      {
        hint: 'e.g. --new-root-key new --new-root-key new --threshold 2',
      },
    );
  }
  const rotate: RecoverableRole[] = [];
  for (const role of opts.rotate ?? []) {
    if (!(RECOVERY_ROTATABLE as readonly string[]).includes(role)) {
      throw new TufError(
        'INVALID_ARGUMENT',
        `--rotate ${quote(role)}: only ${RECOVERY_ROTATABLE.join(', ')} can be rotated here`,
        { hint: 'delegated roles are rotated with `cnabsec delegation rotate` after the recovery' },
      );
    }
    if (!rotate.includes(role as RecoverableRole)) rotate.push(role as RecoverableRole);
  }
  const base = {
    rootKeys: await resolveKeyRefs(opts.keyStore, opts.rootKeys),
    rotate,
    keyType,
    ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
  };
  const standIns = Object.fromEntries(rotate.map((r) => [r, withStandIns([NEW_KEY], keyType)]));
  const preview = stageRecovery(
    repo,
    recoveryOptions(base, withStandIns(base.rootKeys, keyType), standIns, true),
  );
  return { ...base, preview };
}

export interface ApplyRecoveryOptions extends ApplyKeysOptions {
  /** Signs the recovery root (and the roles it re-keys) at publish. */
  signers: SignerProvider;
  /** Directory of the out-of-band package (default `recovery-root-v<N>`). */
  out?: string;
}

export interface RecoveryResult {
  plan: RecoveryPlan;
  package: RecoveryPackage;
}

/** Generate the keys, stage, publish and package the recovery root (under the repository lock). */
export async function applyRecovery(
  repo: LocalRepository,
  plan: RecoverWorkflowPlan,
  options: ApplyRecoveryOptions,
): Promise<RecoveryResult> {
  const gen = new KeyGenerator(options.keyStore, options.passphrases, plan.keyType);
  let staged: RecoveryPlan;
  try {
    const rootKeys = await gen.keysFor('root', plan.rootKeys);
    const rotate: Partial<Record<RecoverableRole, PublicKeyJson[]>> = {};
    for (const role of plan.rotate) rotate[role] = await gen.keysFor(role, [NEW_KEY]);
    staged = stageRecovery(repo, recoveryOptions(plan, rootKeys, rotate, false));
    await saveRecovery(repo);
  } catch (e) {
    await gen.rollback();
    throw e;
  }
  try {
    await publish(repo, { signers: options.signers });
  } catch (e) {
    if (!(e instanceof TufError && e.code === 'THRESHOLD_NOT_MET')) throw e;
    const dir = repo.store.location;
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `recovery root v${staged.version} is staged but not yet signed: ${e.message}`,
      {
        cause: e,
        details: e.details,
        hint: `sign with the other new root keys (\`cnabsec sign ${dir} root --key <id>\`), \`cnabsec publish ${dir}\`, then \`cnabsec recover ${dir} --package-only --out <dir>\``,
      },
    );
  }
  const pkg = await writeRecoveryPackage(repo, options.out ?? `recovery-root-v${staged.version}`);
  return { plan: staged, package: pkg };
}

/** (Re)write the out-of-band package of the published recovery root. */
export function recoveryPackage(repo: LocalRepository, out?: string): Promise<RecoveryPackage> {
  return writeRecoveryPackage(repo, out ?? `recovery-root-v${repo.root.signed.version}`);
}
