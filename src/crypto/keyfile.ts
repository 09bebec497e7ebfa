/**
 * Encrypted private key files. A key file is JSON: the public key in TUF form (readable
 * without a passphrase), and the PKCS#8 private key encrypted with AES-256-GCM under a key
 * derived by scrypt from the passphrase. The key id is bound into the GCM additional data,
 * so a file whose public half was swapped fails to decrypt. Files are written with mode 0600
 * and refused on read when group or others may read them.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  randomBytes,
  scrypt as scryptCb,
  type KeyObject,
} from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { CryptoError } from './errors.js';
import {
  IV_BYTES,
  KEY_BYTES,
  KEY_FILE_MAX_BYTES,
  KEY_FILE_TYPE,
  SALT_BYTES,
  SCRYPT,
  checkKeyFile,
  type KeyFile,
} from './keyfile-check.js';
import { keyIdOf, toPublicKeyJson } from './keys.js';
import { createNewFile, writeFileAtomic } from '../util/fs.js';
import { describeErrno, errnoOf, isNotFound } from '../util/errno.js';
import { JsonInputError, parseJsonBounded, quote } from '../util/json.js';
import { acquireLockFile, type LockFileResult } from '../util/lockfile.js';

export { KEY_FILE_MAX_BYTES, KEY_FILE_TYPE, checkKeyFile, type KeyFile } from './keyfile-check.js';

/** scrypt with cnabsec's fixed cost (never a cost read from a file). */
function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(passphrase, salt, KEY_BYTES, { ...SCRYPT, maxmem: 256 * SCRYPT.N * SCRYPT.r }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

export async function encryptKey(privateKey: KeyObject, passphrase: string, label: string): Promise<KeyFile> {
  const pub = toPublicKeyJson(privateKey);
  const keyid = keyIdOf(pub);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const key = await deriveKey(passphrase, salt);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(keyid));
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
  return {
    _type: KEY_FILE_TYPE,
    version: 1,
    keyid,
    label,
    created: new Date().toISOString(),
    public: pub,
    kdf: { name: 'scrypt', ...SCRYPT, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
}

/**
 * Decrypt a key file. Every field is checked first (`checkKeyFile`, KEY_FILE_INVALID), so a
 * file cannot choose the scrypt cost or feed bad sizes to the cipher; the key is then derived
 * with cnabsec's own parameters.
 */
export async function decryptKey(file: KeyFile, passphrase: string, source?: string): Promise<KeyObject> {
  const f = checkKeyFile(
    file,
    source ?? `for key ${String((file as { keyid?: unknown }).keyid).slice(0, 64)}`,
  );
  const key = await deriveKey(passphrase, Buffer.from(f.kdf.salt, 'base64'));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(f.cipher.iv, 'base64'));
  decipher.setAAD(Buffer.from(f.keyid));
  decipher.setAuthTag(Buffer.from(f.cipher.tag, 'base64'));
  let der: Buffer;
  try {
    der = Buffer.concat([decipher.update(Buffer.from(f.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new CryptoError('WRONG_PASSPHRASE', `wrong passphrase for key ${f.keyid} (${quote(f.label)})`, {
      details: { keyid: f.keyid, label: f.label },
      hint: `check CNABSEC_PASSPHRASE_${envSuffix(f.label)} or CNABSEC_PASSPHRASE`,
    });
  }
  let priv: KeyObject;
  try {
    priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw corrupt(source ?? f.keyid, 'the decrypted private key is not PKCS#8', e);
  }
  if (keyIdOf(toPublicKeyJson(priv)) !== f.keyid) {
    throw corrupt(source ?? f.keyid, 'private key does not match its key id');
  }
  return priv;
}

function corrupt(source: string, what: string, cause?: unknown): CryptoError {
  return new CryptoError('KEY_FILE_CORRUPT', `key file ${source}: ${what}`, {
    cause,
    details: { path: source },
    hint: 'the key file was edited or is not a cnabsec key; restore it from a backup of the key store',
  });
}

/** KEY_STORE_IO: a key store path exists but cannot be read or written. */
export function keyStoreIoError(op: string, file: string, e: unknown): CryptoError {
  return new CryptoError('KEY_STORE_IO', `cannot ${op} ${file}: ${describeErrno(e)}`, {
    cause: e,
    details: { path: file, errno: errnoOf(e) },
    hint: `check ${file}: the key store holds regular key files you own, in a directory you own`,
  });
}

/** Environment-variable suffix for a role or label: `targets/releases` → `TARGETS_RELEASES`. */
export function envSuffix(label: string): string {
  return label
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The bytes of a key file as cnabsec writes it (in the store and as a backup). */
export function keyFileText(file: KeyFile): string {
  return JSON.stringify(file, null, 2) + '\n';
}

export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  try {
    await writeFileAtomic(path, keyFileText(file), { mode: 0o600 });
  } catch (e) {
    if (errnoOf(e) === undefined) throw e;
    throw keyStoreIoError('write', path, e);
  }
}

/**
 * Take `<key file>.lock` (exclusive create) for a read-modify-write of one key file, so that
 * two `key passwd` at once cannot both report success while only the last one's passphrase
 * opens the key. Resolves to a function that releases it.
 */
export async function lockKeyFile(file: string, keyid: string): Promise<() => Promise<void>> {
  const lock = `${file}.lock`;
  let taken: LockFileResult;
  try {
    // the same lock file as the repository's (../util/lockfile.ts): a lock left by a process
    // that died (kill -9 during `key passwd`) is taken over, not a KEY_BUSY until removed by hand
    taken = await acquireLockFile(lock, { mode: 0o600 });
  } catch (e) {
    if (errnoOf(e) === undefined) throw e;
    throw keyStoreIoError('create', lock, e);
  }
  if ('held' in taken) {
    const who = taken.held.owner === 'unreadable' ? 'another cnabsec process' : `pid ${taken.held.owner.pid}`;
    throw new CryptoError('KEY_BUSY', `key ${keyid} is being changed by ${who}`, {
      details: { keyid, path: taken.held.path },
      hint: `wait for the other \`cnabsec key passwd\` to finish and try again; if none is running, remove ${taken.held.path}`,
    });
  }
  return taken.release;
}

/** Write `data` to `file` (mode 0600) only if it does not exist (util/fs createNewFile). */
export function writeNewFile(file: string, data: string): Promise<boolean> {
  return createNewFile(file, data, 0o600);
}

/** Refuse a key file others may read or write, or that someone else owns (POSIX). */
function checkFileMode(path: string, stat: { mode: number; uid: number }): void {
  if (process.platform === 'win32') return;
  if ((stat.mode & 0o077) !== 0) {
    throw new CryptoError(
      'KEY_FILE_PERMISSIONS',
      `key file ${path} is readable by others (mode ${(stat.mode & 0o777).toString(8)})`,
      { details: { path }, hint: `run: chmod 600 ${path}` },
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new CryptoError(
      'KEY_FILE_PERMISSIONS',
      `key file ${path} is owned by uid ${stat.uid}, not by you (uid ${uid})`,
      {
        details: { path, uid: stat.uid },
        hint: `only use key files you own: run chown ${uid} ${path} if you trust its content`,
      },
    );
  }
}

/**
 * Read and check a key file: a regular file you own with mode 0600 (POSIX), at most
 * KEY_FILE_MAX_BYTES, bounded JSON, every field as cnabsec writes it, key id matching.
 */
export async function readKeyFile(path: string): Promise<KeyFile> {
  let stat;
  try {
    stat = await fsp.stat(path);
  } catch (e) {
    if (isNotFound(e)) throw new CryptoError('KEY_NOT_FOUND', `key file ${path} not found`, { cause: e });
    throw keyStoreIoError('read', path, e);
  }
  if (!stat.isFile()) throw corrupt(path, 'is not a regular file');
  checkFileMode(path, stat);
  if (stat.size > KEY_FILE_MAX_BYTES)
    throw corrupt(path, `${stat.size} bytes, more than ${KEY_FILE_MAX_BYTES}`);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    throw keyStoreIoError('read', path, e);
  }
  let parsed: unknown;
  try {
    parsed = parseJsonBounded(bytes, { source: path, maxBytes: KEY_FILE_MAX_BYTES, integersOnly: true });
  } catch (e) {
    if (!(e instanceof JsonInputError)) throw e;
    throw corrupt(path, `not valid JSON (${e.code})`, e);
  }
  const file = checkKeyFile(parsed, path);
  if (keyIdOf(file.public) !== file.keyid) throw corrupt(path, 'its public key does not match its key id');
  return file;
}
