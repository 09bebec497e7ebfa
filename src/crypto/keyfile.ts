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
import { keyIdOf, toPublicKeyJson, type PublicKeyJson } from './keys.js';
import { writeFileAtomic } from '../util/fs.js';

export const KEY_FILE_TYPE = 'cnabsec-encrypted-key';

export interface KeyFile {
  _type: typeof KEY_FILE_TYPE;
  version: 1;
  keyid: string;
  label: string;
  created: string;
  public: PublicKeyJson;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string; tag: string };
  ciphertext: string;
}

// scrypt cost: N=2^15, r=8, p=1 (~32 MiB, ~0.1 s): OWASP's recommended minimum.
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

function deriveKey(
  passphrase: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(passphrase, salt, 32, { ...params, maxmem: 128 * params.N * params.r * 2 }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

export async function encryptKey(privateKey: KeyObject, passphrase: string, label: string): Promise<KeyFile> {
  const pub = toPublicKeyJson(privateKey);
  const keyid = keyIdOf(pub);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(passphrase, salt, SCRYPT);
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

export async function decryptKey(file: KeyFile, passphrase: string): Promise<KeyObject> {
  const key = await deriveKey(passphrase, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.cipher.iv, 'base64'));
  decipher.setAAD(Buffer.from(file.keyid));
  decipher.setAuthTag(Buffer.from(file.cipher.tag, 'base64'));
  let der: Buffer;
  try {
    der = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new CryptoError('WRONG_PASSPHRASE', `wrong passphrase for key ${file.keyid} (${file.label})`, {
      details: { keyid: file.keyid, label: file.label },
      hint: `check CNABSEC_PASSPHRASE_${envSuffix(file.label)} or CNABSEC_PASSPHRASE`,
    });
  }
  const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  if (keyIdOf(toPublicKeyJson(priv)) !== file.keyid) {
    throw new CryptoError(
      'KEY_FILE_CORRUPT',
      `key file ${file.keyid}: private key does not match its key id`,
    );
  }
  return priv;
}

/** Environment-variable suffix for a role or label: `targets/releases` → `TARGETS_RELEASES`. */
export function envSuffix(label: string): string {
  return label
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
}

function isKeyFile(v: unknown): v is KeyFile {
  const f = v as Partial<KeyFile> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    f._type === KEY_FILE_TYPE &&
    typeof f.keyid === 'string' &&
    typeof f.public === 'object' &&
    typeof f.kdf?.salt === 'string' &&
    typeof f.cipher?.iv === 'string' &&
    typeof f.ciphertext === 'string'
  );
}

/** Read and check a key file: permissions 0600 (POSIX), well-formed, key id matches. */
export async function readKeyFile(path: string): Promise<KeyFile> {
  let stat;
  try {
    stat = await fsp.stat(path);
  } catch (e) {
    throw new CryptoError('KEY_NOT_FOUND', `key file ${path} not found`, { cause: e });
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new CryptoError(
      'KEY_FILE_PERMISSIONS',
      `key file ${path} is readable by others (mode ${(stat.mode & 0o777).toString(8)})`,
      { details: { path }, hint: `run: chmod 600 ${path}` },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fsp.readFile(path, 'utf8'));
  } catch (e) {
    throw new CryptoError('KEY_FILE_CORRUPT', `key file ${path} is not valid JSON`, { cause: e });
  }
  if (!isKeyFile(parsed) || keyIdOf(parsed.public) !== parsed.keyid) {
    throw new CryptoError('KEY_FILE_CORRUPT', `key file ${path} is not a cnabsec encrypted key`, {
      details: { path },
    });
  }
  return parsed;
}
