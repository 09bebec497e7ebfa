/**
 * The key store: one encrypted key file per private key under `$CNABSEC_HOME/keys`
 * (default `~/.cnabsec/keys`, directory mode 0700), named `<keyid>.key`. Keys are referred
 * to by their full key id or any unique prefix of at least 8 hex digits.
 */
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CryptoError } from './errors.js';
import { decryptKey, encryptKey, readKeyFile, writeKeyFile, type KeyFile } from './keyfile.js';
import { generateKeyPair, type KeyType, type PublicKeyJson } from './keys.js';
import type { PassphraseSource } from './passphrase.js';
import { KeyObjectSigner, type Signer } from './signer.js';
import { createPrivateKey } from 'node:crypto';

export interface KeyInfo {
  keyid: string;
  label: string;
  keytype: string;
  scheme: string;
  created: string;
  publicKey: PublicKeyJson;
}

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CNABSEC_HOME ?? path.join(homedir(), '.cnabsec');
}

function info(f: KeyFile): KeyInfo {
  return {
    keyid: f.keyid,
    label: f.label,
    keytype: f.public.keytype,
    scheme: f.public.scheme,
    created: f.created,
    publicKey: f.public,
  };
}

export class KeyStore {
  readonly dir: string;

  constructor(home: string = defaultHome()) {
    this.dir = path.join(home, 'keys');
  }

  private fileOf(keyid: string): string {
    return path.join(this.dir, `${keyid}.key`);
  }

  private async ensureDir(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Generate a key, encrypt it with a passphrase for `label`, store it; returns its info. */
  async generate(type: KeyType, label: string, passphrases: PassphraseSource): Promise<KeyInfo> {
    const passphrase = await passphrases(label, undefined, true);
    if (passphrase.length === 0) {
      throw new CryptoError('PASSPHRASE_REQUIRED', `empty passphrase for the new ${label} key`, {
        hint: 'private keys are always encrypted: choose a non-empty passphrase',
      });
    }
    const { privateKey } = generateKeyPair(type);
    const file = await encryptKey(privateKey, passphrase, label);
    await this.ensureDir();
    await writeKeyFile(this.fileOf(file.keyid), file);
    return info(file);
  }

  /** Import an unencrypted PEM private key (PKCS#8 or traditional) into the store. */
  async importPrivatePem(pem: string, label: string, passphrases: PassphraseSource): Promise<KeyInfo> {
    let key;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      throw new CryptoError('KEY_INVALID', 'not an unencrypted PEM private key', { cause: e });
    }
    const file = await encryptKey(key, await passphrases(label, undefined, true), label);
    await this.ensureDir();
    await writeKeyFile(this.fileOf(file.keyid), file);
    return info(file);
  }

  async list(): Promise<KeyInfo[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return [];
    }
    const out: KeyInfo[] = [];
    for (const n of names.filter((x) => x.endsWith('.key')).sort()) {
      out.push(info(await readKeyFile(path.join(this.dir, n))));
    }
    return out;
  }

  /** Full key id for a key id or unique prefix (>= 8 hex digits). */
  async resolveId(ref: string): Promise<string> {
    const r = ref.toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(r)) {
      throw new CryptoError('KEY_NOT_FOUND', `"${ref}" is not a key id`, {
        hint: 'give a key id or a prefix of at least 8 hex digits; `cnabsec key list` shows them',
      });
    }
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      /* empty store */
    }
    const hits = names.filter((n) => n.endsWith('.key') && n.startsWith(r)).map((n) => n.slice(0, -4));
    if (hits.length === 1 && hits[0] !== undefined) return hits[0];
    if (hits.length > 1) {
      throw new CryptoError('KEY_AMBIGUOUS', `key id prefix ${ref} matches ${hits.length} keys`, {
        details: { matches: hits },
        hint: 'give more digits of the key id',
      });
    }
    throw new CryptoError('KEY_NOT_FOUND', `no key ${ref} in the key store ${this.dir}`, {
      details: { keyid: ref, store: this.dir },
      hint: 'run `cnabsec key list`, or set CNABSEC_HOME to the store that holds the key',
    });
  }

  /** Whether the store holds the private key `keyid` (full id). */
  async has(keyid: string): Promise<boolean> {
    try {
      await fsp.access(this.fileOf(keyid));
      return true;
    } catch {
      return false;
    }
  }

  async info(ref: string): Promise<KeyInfo> {
    return info(await readKeyFile(this.fileOf(await this.resolveId(ref))));
  }

  /** Decrypt a stored key and return a signer for it. */
  async signer(ref: string, passphrases: PassphraseSource, label?: string): Promise<Signer> {
    const file = await readKeyFile(this.fileOf(await this.resolveId(ref)));
    const key = await decryptKey(file, await passphrases(label ?? file.label, file.keyid, false));
    return new KeyObjectSigner(key, file.public);
  }
}
