/** CLI plumbing shared by `key rotate`, `delegation` and `recover`: key references and plan printing. */
import {
  generateKeyPair,
  isKeyType,
  KEY_TYPES,
  toPublicKeyJson,
  type PublicKeyJson,
} from '../crypto/keys.js';
import { CryptoError } from '../crypto/errors.js';
import type { KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';
import type { LocalRepository } from '../tuf/repository.js';
import { repositoryStatus } from '../tuf/status.js';
import { describeKeySetChange, type KeySetChange } from '../tuf/keyset.js';
import type { RotationPlan, StagedSigning } from '../tuf/rotation.js';
import { resolvePublicKey } from './repo-common.js';
import { printLine, warn } from './output.js';

export interface KeyRefOptions {
  keyType?: string;
  dryRun?: boolean;
}

/**
 * Public keys for `refs`: `new` generates a key in the key store labelled `label` (its
 * passphrase comes from CNABSEC_PASSPHRASE_<LABEL>); on a dry run an ephemeral key stands in
 * for it and nothing is stored. Other references are PEM files or key-store ids.
 */
export async function resolveKeyRefs(
  store: KeyStore,
  refs: string[],
  label: string,
  passphrases: PassphraseSource,
  opts: KeyRefOptions,
): Promise<PublicKeyJson[]> {
  const type = opts.keyType ?? 'ed25519';
  if (!isKeyType(type)) {
    throw new CryptoError('KEY_UNSUPPORTED_TYPE', `unknown key type ${type}`, {
      hint: `use ${KEY_TYPES.join(', ')}`,
    });
  }
  const out: PublicKeyJson[] = [];
  for (const ref of refs) {
    if (ref !== 'new') out.push(await resolvePublicKey(store, ref));
    else if (opts.dryRun === true) out.push(toPublicKeyJson(generateKeyPair(type).privateKey));
    else out.push((await store.generate(type, label, passphrases)).publicKey);
  }
  return out;
}

/**
 * Keys for `refs`, generating `new` ones only after `validate` accepted the change with
 * stand-in keys: a refused change leaves no stray key in the key store.
 */
export async function keysAfterValidation(
  store: KeyStore,
  refs: string[],
  label: string,
  passphrases: PassphraseSource,
  opts: KeyRefOptions,
  validate: (keys: PublicKeyJson[]) => void,
): Promise<PublicKeyJson[]> {
  const standIn = await resolveKeyRefs(store, refs, label, passphrases, { ...opts, dryRun: true });
  validate(standIn);
  return opts.dryRun === true ? standIn : resolveKeyRefs(store, refs, label, passphrases, opts);
}

export function signingLines(signing: StagedSigning[]): string[] {
  const lines = ['signatures needed before publish:'];
  for (const s of signing) {
    const needs = s.authorities.map(
      (a) => `${a.threshold} of [${a.keyids.map((k) => k.slice(0, 8)).join(' ')}] (${a.source})`,
    );
    lines.push(`  ${s.role} v${s.version}: ${needs.join(' AND ')}`);
  }
  return lines;
}

export function printChanges(changes: KeySetChange[], signing: StagedSigning[], clients: string[]): void {
  for (const c of changes) for (const l of describeKeySetChange(c)) printLine(l);
  for (const l of signingLines(signing)) printLine(l);
  printLine('clients:');
  for (const c of clients) printLine(`  - ${c}`);
}

export function printPlan(plan: RotationPlan, dir: string): void {
  printLine(`${plan.dryRun ? 'dry run (nothing written): ' : 'staged: '}key change of ${plan.role}`);
  printChanges([plan], plan.signing, plan.clients);
  if (!plan.dryRun) printLine(`next: cnabsec publish ${dir}  (signs with the keys available here)`);
}

/** Warn about roles that expire soon or have expired (status and every signing command). */
export function warnExpiring(repo: LocalRepository, now = new Date()): void {
  for (const w of repositoryStatus(repo, now).warnings) warn(`${w}; renew with cnabsec resign / refresh`);
}
