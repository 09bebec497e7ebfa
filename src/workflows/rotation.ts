/**
 * Key rotation (CNAB-Sec doc 302 "Recovering from a key compromise" for fewer than a threshold
 * of keys; TUF §6.1) and new delegations as plan/apply workflows: `planRotation` resolves the
 * keys and validates the change with stand-in keys for the new ones (nothing is generated or
 * staged); `applyRotation` generates the new keys, stages the change and saves it, removing
 * the generated keys again if the change is refused. A dry run is the plan's `preview`.
 */
import type { KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';
import type { KeyType, PublicKeyJson } from '../crypto/keys.js';
import {
  addDelegationRole,
  listDelegations,
  rotateDelegation,
  type DelegationInfo,
} from '../tuf/delegation.js';
import type { KeyChange } from '../tuf/keyset.js';
import { checkRoleName } from '../tuf/names.js';
import { isTopLevel } from '../tuf/policy.js';
import type { LocalRepository } from '../tuf/repository.js';
import { rotateKeys, stagedTransaction, type RotationPlan } from '../tuf/rotation.js';
import type { DelegationSpec } from '../tuf/targets.js';
import { WorkflowError } from './errors.js';
import {
  checkKeyType,
  KeyGenerator,
  NEW_KEY,
  resolveKeyRefs,
  withStandIns,
  type KeyRef,
  type PlannedKey,
} from './key-refs.js';

export interface RotationOptions {
  /** Keys to add: "new", PEM files, key-store ids or public keys. */
  add?: KeyRef[];
  /** Key ids (or unique prefixes) to remove. */
  remove?: string[];
  threshold?: number;
  /** Type of the new keys (default ed25519). */
  keyType?: string;
  /** Resolves key-store ids among `add`. */
  keyStore?: KeyStore;
  now?: Date;
}

export interface RotationWorkflowPlan {
  role: string;
  add: PlannedKey[];
  remove: string[];
  threshold?: number;
  keyType: KeyType;
  now?: Date;
  /** The change as `applyRotation` makes it, with stand-in keys for the new ones (dryRun: true). */
  preview: RotationPlan;
}

/** Apply-time options: where new keys are generated and how their passphrases are chosen. */
export interface ApplyKeysOptions {
  keyStore: KeyStore;
  passphrases: PassphraseSource;
}

function rotate(
  repo: LocalRepository,
  plan: Omit<RotationWorkflowPlan, 'preview'>,
  add: PublicKeyJson[],
  dryRun: boolean,
): RotationPlan {
  const change: KeyChange = {
    add,
    remove: plan.remove,
    ...(plan.threshold === undefined ? {} : { threshold: plan.threshold }),
  };
  const options = { dryRun, ...(plan.now === undefined ? {} : { now: plan.now }) };
  return isTopLevel(plan.role)
    ? rotateKeys(repo, plan.role, change, options)
    : rotateDelegation(repo, plan.role, change, options);
}

/** Check a change of `role`'s keys or threshold; nothing is generated or staged. */
export async function planRotation(
  repo: LocalRepository,
  role: string,
  opts: RotationOptions,
): Promise<RotationWorkflowPlan> {
  checkRoleName(role);
  const keyType = checkKeyType(opts.keyType);
  if (!repo.roleNames().includes(role)) throw repo.unknownRole(role);
  const server = repo.config.server;
  if (server?.managed.includes(role as 'timestamp' | 'snapshot') === true) {
    // the server signs this role with its own key after every publish: a root listing other
    // keys for it is refused by the server at every publish (timestamp-not-server-held)
    throw new WorkflowError('WORKFLOW_INVALID_PLAN', `${role} is held by the server ${server.url}`, {
      details: { role, server: server.url },
      hint: `its key is the server's: run \`cnabsec key rotate <dir> ${role}\` without key options and the server makes the new key`,
    });
  }
  const base = {
    role,
    add: await resolveKeyRefs(opts.keyStore, opts.add ?? []),
    remove: opts.remove ?? [],
    keyType,
    ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
  };
  return { ...base, preview: rotate(repo, base, withStandIns(base.add, keyType), true) };
}

/**
 * Run `fn` with the planned keys, the new ones generated (labelled `label`); if `fn` or the
 * generation fails, the generated keys are removed again.
 */
async function withGeneratedKeys<T>(
  options: ApplyKeysOptions,
  type: KeyType,
  label: string,
  keys: readonly PlannedKey[],
  fn: (keys: PublicKeyJson[]) => Promise<T>,
): Promise<T> {
  const gen = new KeyGenerator(options.keyStore, options.passphrases, type);
  try {
    return await fn(await gen.keysFor(label, keys));
  } catch (e) {
    await gen.rollback();
    throw e;
  }
}

/** Generate the new keys, stage the change of `plan` and save it (run under the repository lock). */
export function applyRotation(
  repo: LocalRepository,
  plan: RotationWorkflowPlan,
  options: ApplyKeysOptions,
): Promise<RotationPlan> {
  return withGeneratedKeys(options, plan.keyType, plan.role, plan.add, async (add) => {
    const result = rotate(repo, plan, add, false);
    await repo.saveStaged();
    return result;
  });
}

export interface DelegationOptions {
  /** Keys of the role (default: one new key). */
  keys?: KeyRef[];
  threshold?: number;
  paths: string[];
  parent?: string;
  terminating?: boolean;
  keyType?: string;
  keyStore?: KeyStore;
}

export interface DelegationPlan {
  role: string;
  parent: string;
  keys: PlannedKey[];
  threshold: number;
  paths: string[];
  terminating: boolean;
  keyType: KeyType;
}

function spec(plan: DelegationPlan, keys: PublicKeyJson[]): DelegationSpec {
  return {
    name: plan.role,
    keys,
    threshold: plan.threshold,
    paths: plan.paths,
    terminating: plan.terminating,
  };
}

/** Check a new delegation from `parent` (default targets) to `role`; nothing is generated or staged. */
export async function planDelegation(
  repo: LocalRepository,
  role: string,
  opts: DelegationOptions,
): Promise<DelegationPlan> {
  checkRoleName(role);
  const parent = opts.parent ?? 'targets';
  checkRoleName(parent);
  const refs = opts.keys ?? [];
  const plan: DelegationPlan = {
    role,
    parent,
    keys: await resolveKeyRefs(opts.keyStore, refs.length === 0 ? [NEW_KEY] : refs),
    threshold: opts.threshold ?? 1,
    paths: opts.paths,
    terminating: opts.terminating === true,
    keyType: checkKeyType(opts.keyType),
  };
  stagedTransaction(repo, true, () => {
    addDelegationRole(repo, spec(plan, withStandIns(plan.keys, plan.keyType)), parent);
  });
  return plan;
}

/** Generate the keys, stage the delegation and save it (run under the repository lock). */
export function applyDelegation(
  repo: LocalRepository,
  plan: DelegationPlan,
  options: ApplyKeysOptions,
): Promise<DelegationInfo | undefined> {
  return withGeneratedKeys(options, plan.keyType, plan.role, plan.keys, async (keys) => {
    addDelegationRole(repo, spec(plan, keys), plan.parent);
    await repo.saveStaged();
    return listDelegations(repo).find((d) => d.role === plan.role);
  });
}

export { withGeneratedKeys };
