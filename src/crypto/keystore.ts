/**
 * The key store: one encrypted key file per private key under `$CNABSEC_HOME/keys`
 * (default `~/.cnabsec/keys`, directory mode 0700), named `<keyid>.key`. Keys are referred
 * to by their full key id or any unique prefix of at least 8 hex digits.
 *
 * The store is refused (KEY_STORE_UNSAFE) when its directory, or the directory a `keys`
 * symlink points to, is writable by group or others or owned by another user: whoever can
 * write it can plant keys. Only a missing directory is an empty store; any other failure to
 * read it is KEY_STORE_IO with the path and errno.
 */
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CryptoError } from './errors.js';
import {
  decryptKey,
  encryptKey,
  keyFileText,
  keyStoreIoError,
  lockKeyFile,
  readKeyFile,
  writeKeyFile,
  writeNewFile,
  type KeyFile,
} from './keyfile.js';
import { parseKeyImport } from './key-import.js';
import { generateKeyPair, keyIdOf, toPublicKeyJson, type KeyType, type PublicKeyJson } from './keys.js';
import type { KeyPosition, PassphraseSource } from './passphrase.js';
import { KeyObjectSigner, type Signer } from './signer.js';
import { unlockKeyFile } from './unlock.js';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { describeErrno, errnoOf, isNotFound } from '../util/errno.js';
import { pathExists, writeFileAtomic } from '../util/fs.js';
import { quote } from '../util/json.js';

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
    try {
      await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw keyStoreIoError('create the key store directory', this.dir, e);
    }
    await this.checkDir();
  }

  /**
   * Check the store directory (following a symlink): false when it does not exist; throws
   * KEY_STORE_IO when it is not a readable directory, KEY_STORE_UNSAFE when it is writable
   * by group or others or owned by another user (POSIX).
   */
  private async checkDir(): Promise<boolean> {
    let st;
    try {
      st = await fsp.stat(this.dir);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw keyStoreIoError('open the key store', this.dir, e);
    }
    if (!st.isDirectory()) {
      throw new CryptoError('KEY_STORE_IO', `key store ${this.dir} is not a directory`, {
        details: { path: this.dir },
        hint: `move ${this.dir} away; the key store is a directory of key files (mode 0700)`,
      });
    }
    const uid = process.platform === 'win32' ? undefined : process.getuid?.();
    if (uid === undefined) return true;
    const real = await fsp.realpath(this.dir).catch(() => this.dir);
    const where = real === this.dir ? this.dir : `${this.dir} (-> ${real})`;
    if ((st.mode & 0o022) !== 0) {
      throw new CryptoError(
        'KEY_STORE_UNSAFE',
        `key store ${where} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`,
        { details: { path: this.dir, realPath: real }, hint: `run: chmod 700 ${real}` },
      );
    }
    if (st.uid !== uid) {
      throw new CryptoError(
        'KEY_STORE_UNSAFE',
        `key store ${where} is owned by uid ${st.uid}, not by you (uid ${uid})`,
        {
          details: { path: this.dir, realPath: real, uid: st.uid },
          hint: 'use a key store directory you own (set CNABSEC_HOME)',
        },
      );
    }
    return true;
  }

  /** The `.key` file names of the store ([] when it does not exist). */
  private async names(): Promise<string[]> {
    if (!(await this.checkDir())) return [];
    try {
      return (await fsp.readdir(this.dir)).filter((n) => n.endsWith('.key'));
    } catch (e) {
      if (isNotFound(e)) return [];
      throw keyStoreIoError('list', this.dir, e);
    }
  }

  /** Read the key file of a full key id; its content must carry that key id. */
  private async readFile(keyid: string): Promise<KeyFile> {
    const file = this.fileOf(keyid);
    const f = await readKeyFile(file);
    if (f.keyid !== keyid) {
      throw new CryptoError('KEY_FILE_CORRUPT', `key file ${file} holds key ${f.keyid}, not ${keyid}`, {
        details: { path: file, keyid: f.keyid },
        hint: 'a key file was renamed or replaced; restore the key store from a backup',
      });
    }
    return f;
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
    return this.addFile(await encryptKey(privateKey, passphrase, label));
  }

  /** Import an unencrypted PEM private key (PKCS#8 or traditional) into the store. */
  async importPrivatePem(pem: string, label: string, passphrases: PassphraseSource): Promise<KeyInfo> {
    let key;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      throw new CryptoError('KEY_INVALID', 'not an unencrypted PEM private key', {
        cause: e,
        hint: 'give a PEM private key (PKCS#8 or traditional) without a passphrase, e.g. from `openssl genpkey`',
      });
    }
    return this.storeNew(key, label, passphrases);
  }

  /** Encrypt `key` under a new passphrase for `label` and add it (KEY_EXISTS when present). */
  private async storeNew(key: KeyObject, label: string, passphrases: PassphraseSource): Promise<KeyInfo> {
    await this.refuseDuplicate(keyIdOf(toPublicKeyJson(key)));
    const passphrase = await passphrases(label, undefined, true);
    if (passphrase.length === 0) {
      throw new CryptoError('PASSPHRASE_REQUIRED', `empty passphrase for the imported ${label} key`, {
        hint: 'private keys are always encrypted: choose a non-empty passphrase',
      });
    }
    return this.addFile(await encryptKey(key, passphrase, label));
  }

  private async refuseDuplicate(keyid: string): Promise<void> {
    if (!(await this.has(keyid))) return;
    const held = await this.readFile(keyid);
    throw new CryptoError('KEY_EXISTS', `key ${keyid} (${quote(held.label)}) is already in the key store`, {
      details: { keyid, label: held.label, path: this.fileOf(keyid) },
      hint: `nothing to import; to replace it, run \`cnabsec key remove ${keyid.slice(0, 8)}\` first`,
    });
  }

  /** Write a new key file into the store; KEY_EXISTS when its key id is already there. */
  private async addFile(file: KeyFile): Promise<KeyInfo> {
    await this.ensureDir();
    let added: boolean;
    try {
      added = await writeNewFile(this.fileOf(file.keyid), keyFileText(file));
    } catch (e) {
      throw keyStoreIoError('write', this.fileOf(file.keyid), e);
    }
    if (!added) await this.refuseDuplicate(file.keyid);
    return info(file);
  }

  /**
   * Import a key file's content (`source` names it in errors): a cnabsec key backup (`key
   * export --private`), kept encrypted as it is after its passphrase was checked (the
   * passphrase stays the backup's), or an unencrypted PEM private key, encrypted under a new
   * passphrase. `label` replaces the backup's label; a PEM key gets `label` or "default".
   * A key the store already holds is refused (KEY_EXISTS) before any passphrase is asked.
   */
  async importKey(
    text: string,
    source: string,
    passphrases: PassphraseSource,
    label?: string,
  ): Promise<KeyInfo & { format: 'backup' | 'pem' }> {
    const imported = parseKeyImport(text, source);
    if (imported.kind === 'pem') {
      return { ...(await this.storeNew(imported.key, label ?? 'default', passphrases)), format: 'pem' };
    }
    await this.refuseDuplicate(imported.keyid);
    const file = { ...imported.file, label: label ?? imported.file.label };
    await unlockKeyFile(file, passphrases, { source });
    return { ...(await this.addFile(file)), format: 'backup' };
  }

  async list(): Promise<KeyInfo[]> {
    const out: KeyInfo[] = [];
    for (const n of (await this.names()).sort()) {
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
    const hits = (await this.names()).filter((n) => n.startsWith(r)).map((n) => n.slice(0, -4));
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
    if (!(await this.checkDir())) return false;
    try {
      await fsp.access(this.fileOf(keyid));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw keyStoreIoError('open', this.fileOf(keyid), e);
    }
  }

  /**
   * Delete the key file of `keyid` (full id). Resolves to false when the store did not hold
   * it. Used to roll back keys generated by a workflow that failed (workflows/init) and by
   * `cnabsec key remove`.
   */
  async remove(keyid: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(keyid)) {
      throw new CryptoError('KEY_NOT_FOUND', `"${keyid}" is not a full key id`, {
        hint: 'give the full 64-digit key id (`cnabsec key list --json` shows it)',
      });
    }
    if (!(await pathExists(this.fileOf(keyid)))) return false;
    // under the key's lock: a `key passwd` running meanwhile would write the key back
    const release = await lockKeyFile(this.fileOf(keyid), keyid);
    try {
      await fsp.unlink(this.fileOf(keyid));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw keyStoreIoError('remove', this.fileOf(keyid), e);
    } finally {
      await release();
    }
  }

  async info(ref: string): Promise<KeyInfo> {
    return info(await this.readFile(await this.resolveId(ref)));
  }

  /**
   * Decrypt a stored key (asking again after a wrong passphrase where the source can) and
   * return a signer for it. `label` selects the passphrase (the role being signed; default
   * the key's label); `position` is where the key stands among the role's keys, for prompts.
   */
  async signer(
    ref: string,
    passphrases: PassphraseSource,
    label?: string,
    position?: KeyPosition,
  ): Promise<Signer> {
    const keyid = await this.resolveId(ref);
    const file = await this.readFile(keyid);
    const key = await unlockKeyFile(file, passphrases, {
      ...(label === undefined ? {} : { label }),
      ...(position === undefined ? {} : { position }),
      source: this.fileOf(keyid),
    });
    return new KeyObjectSigner(key, file.public);
  }

  /**
   * Re-encrypt a stored key under a new passphrase: the old one from `passphrases`, the new
   * one from `newPassphrases` (asked twice at a terminal). The new file replaces the old one by
   * rename, only after it was decrypted back to the same key; label and creation time stay.
   */
  async changePassphrase(
    ref: string,
    passphrases: PassphraseSource,
    newPassphrases: PassphraseSource,
  ): Promise<KeyInfo> {
    const keyid = await this.resolveId(ref);
    const release = await lockKeyFile(this.fileOf(keyid), keyid);
    try {
      return await this.reencrypt(keyid, passphrases, newPassphrases);
    } finally {
      await release();
    }
  }

  private async reencrypt(
    keyid: string,
    passphrases: PassphraseSource,
    newPassphrases: PassphraseSource,
  ): Promise<KeyInfo> {
    const file = await this.readFile(keyid);
    const key = await unlockKeyFile(file, passphrases, { source: this.fileOf(keyid) });
    const passphrase = await newPassphrases(file.label, keyid, true);
    if (passphrase.length === 0) {
      throw new CryptoError('PASSPHRASE_REQUIRED', `empty new passphrase for key ${keyid}`, {
        details: { keyid },
        hint: 'private keys are always encrypted: choose a non-empty passphrase',
      });
    }
    const next: KeyFile = { ...(await encryptKey(key, passphrase, file.label)), created: file.created };
    const back = await decryptKey(next, passphrase, this.fileOf(keyid));
    if (keyIdOf(toPublicKeyJson(back)) !== keyid) {
      throw new CryptoError('KEY_FILE_CORRUPT', `re-encrypted key ${keyid} does not decrypt back to itself`, {
        details: { keyid },
        hint: 'the key file was left unchanged; please report this',
      });
    }
    await writeKeyFile(this.fileOf(keyid), next);
    return info(next);
  }

  /**
   * Write an encrypted backup of a stored key to `out` (mode 0600): the key file exactly as
   * stored and checked, still encrypted under its passphrase (ADR 0015); no passphrase is
   * needed and the private key is never decrypted. An existing `out` is refused
   * (KEY_BACKUP_EXISTS) unless `force`, then replaced atomically.
   */
  async exportPrivate(ref: string, out: string, options: { force?: boolean } = {}): Promise<KeyInfo> {
    const keyid = await this.resolveId(ref);
    const file = await this.readFile(keyid);
    const text = keyFileText(file);
    try {
      if (options.force === true) await writeFileAtomic(out, text, { mode: 0o600 });
      else if (!(await writeNewFile(out, text))) {
        throw new CryptoError('KEY_BACKUP_EXISTS', `${quote(out)} already exists`, {
          details: { path: out },
          hint: 'choose another file name, or pass --force to replace it',
        });
      }
    } catch (e) {
      if (e instanceof CryptoError || errnoOf(e) === undefined) throw e;
      throw new CryptoError('KEY_BACKUP_IO', `cannot write key backup ${quote(out)}: ${describeErrno(e)}`, {
        cause: e,
        details: { path: out, errno: errnoOf(e) },
        hint: 'write the backup to a file in an existing directory you can write',
      });
    }
    return info(file);
  }
}
