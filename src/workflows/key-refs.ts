/**
 * Keys of a workflow: references resolved at plan time (PEM public key files, key-store ids,
 * public keys), "new" keys generated only at apply time, and the rollback of the keys an
 * apply generated (KeyStore.remove) when it fails later.
 */
import { existsSync } from 'node:fs';
import { stat, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import { readUserFile } from '../util/fs.js';
import { describeErrno } from '../util/errno.js';
import { quote } from '../util/json.js';
import { CryptoError } from '../crypto/errors.js';
import { WorkflowError } from './errors.js';
import {
  generateKeyPair,
  isKeyType,
  KEY_TYPES,
  publicKeyFromPem,
  toPublicKeyJson,
  type KeyType,
  type PublicKeyJson,
} from '../crypto/keys.js';
import type { KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';

/** Largest PEM public key file read (`--root-key <pem>` and the like). */
const PEM_MAX_BYTES = 64 * 1024;

/** "Generate a key here" (at apply time, in the key store). */
export const NEW_KEY = 'new';

/** A key given to a workflow: "new", a PEM public key file, a key-store id (prefix), or a public key. */
export type KeyRef = string | PublicKeyJson;

/** A key of a plan: a resolved public key, or one still to generate. */
export type PlannedKey = PublicKeyJson | typeof NEW_KEY;

/** The key type, checked (KEY_UNSUPPORTED_TYPE); default ed25519. */
export function checkKeyType(type: string | undefined): KeyType {
  const t = type ?? 'ed25519';
  if (!isKeyType(t)) {
    throw new CryptoError('KEY_UNSUPPORTED_TYPE', `unknown key type ${quote(t)}`, {
      hint: `use ${KEY_TYPES.join(', ')}`,
    });
  }
  return t;
}

/**
 * A public key from a reference: a PEM file path, or a key-store id (prefix).
 * PEM files are public-key only: such keys can be listed but not signed with here.
 */
export async function resolvePublicKey(store: KeyStore | undefined, ref: string): Promise<PublicKeyJson> {
  if (existsSync(ref)) {
    let text: string;
    try {
      text = (await readUserFile(ref, PEM_MAX_BYTES)).toString('utf8');
    } catch (e) {
      throw new CryptoError('KEY_INVALID', `cannot read public key file ${quote(ref)}: ${describeErrno(e)}`, {
        cause: e,
        details: { path: ref.slice(0, 1024) },
        hint: `give a PEM public key file (at most ${PEM_MAX_BYTES} bytes), or a key id`,
      });
    }
    if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
      throw new CryptoError('KEY_INVALID', `${ref} is not a PEM public key`, {
        hint: 'export one with `cnabsec key export <id>`',
      });
    }
    return publicKeyFromPem(text);
  }
  if (store === undefined) {
    throw new CryptoError('KEY_NOT_FOUND', `${quote(ref)} is neither a PEM file nor a public key`, {
      hint: 'give a key store to resolve key ids, or a PEM public key file',
    });
  }
  return (await store.info(ref)).publicKey;
}

/**
 * Most keys one plan takes for a role (as `init --<role>-keys`): a repeated `--key new` cannot
 * make a workflow generate keys until it is killed, and a root of 50 RSA keys stays under
 * the 128 KiB clients accept.
 */
export const MAX_ROLE_KEYS = 50;

/** Resolve every reference except "new" (read-only: nothing is generated or written). */
export async function resolveKeyRefs(
  store: KeyStore | undefined,
  refs: readonly KeyRef[],
): Promise<PlannedKey[]> {
  if (refs.length > MAX_ROLE_KEYS) {
    throw new WorkflowError('WORKFLOW_INVALID_PLAN', `${refs.length} keys given, at most ${MAX_ROLE_KEYS}`, {
      details: { keys: refs.length, max: MAX_ROLE_KEYS },
      hint: `give at most ${MAX_ROLE_KEYS} keys for one role (each --key, --add-key or --new-root-key is one)`,
    });
  }
  const out: PlannedKey[] = [];
  for (const ref of refs) {
    if (typeof ref !== 'string') out.push(ref);
    else if (ref === NEW_KEY) out.push(NEW_KEY);
    else out.push(await resolvePublicKey(store, ref));
  }
  return out;
}

/** The planned keys with an ephemeral stand-in (never stored) for each new one: to validate a change. */
export function withStandIns(keys: readonly PlannedKey[], type: KeyType): PublicKeyJson[] {
  return keys.map((k) => (k === NEW_KEY ? toPublicKeyJson(generateKeyPair(type).privateKey) : k));
}

/** How many keys of `keys` are still to generate. */
export function newKeyCount(keys: readonly PlannedKey[]): number {
  return keys.filter((k) => k === NEW_KEY).length;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * Generates the new keys of an apply in the key store and, on `rollback`, removes them again
 * with the key-store directory and home it created (only when empty).
 */
export class KeyGenerator {
  readonly generated: string[] = [];
  private created: string[] | undefined;

  constructor(
    readonly store: KeyStore,
    private readonly passphrases: PassphraseSource,
    private readonly type: KeyType,
    /** Checked before each key is generated: once aborted, the apply stops (and rolls back). */
    private readonly signal?: AbortSignal,
  ) {}

  /** The planned keys with each new one generated, labelled `label`. */
  async keysFor(label: string, keys: readonly PlannedKey[]): Promise<PublicKeyJson[]> {
    const out: PublicKeyJson[] = [];
    for (const k of keys) {
      if (k !== NEW_KEY) {
        out.push(k);
        continue;
      }
      if (this.created === undefined) {
        const home = path.dirname(this.store.dir);
        this.created = [];
        if (!(await isDir(this.store.dir))) this.created.push(this.store.dir);
        if (!(await isDir(home))) this.created.push(home);
      }
      if (this.signal?.aborted === true) {
        throw new WorkflowError('WORKFLOW_INTERRUPTED', `interrupted while generating ${label} keys`, {
          details: { generated: this.generated.length },
          hint: 'the keys generated so far are removed again; run the command again',
        });
      }
      const info = await this.store.generate(this.type, label, this.passphrases);
      this.generated.push(info.keyid);
      out.push(info.publicKey);
    }
    return out;
  }

  /** Remove the generated keys (and the directories made for them, when empty). */
  async rollback(): Promise<void> {
    for (const keyid of this.generated.splice(0)) await this.store.remove(keyid).catch(() => false);
    for (const dir of this.created ?? []) await rmdir(dir).catch(() => undefined);
  }
}
