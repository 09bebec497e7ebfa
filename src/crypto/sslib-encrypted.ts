/**
 * securesystemslib password-encrypted key files (`in-toto-keygen -p`):
 * `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext`, hex, PBKDF2-HMAC-SHA256 → AES-256-CTR +
 * HMAC-SHA256 over the ciphertext (securesystemslib 0.26 `encrypt_key` / `decrypt_key`).
 *
 * The file names its own PBKDF2 iteration count, so reading it must not let it choose the
 * cost: every field is checked before any key derivation (KEY_FILE_INVALID naming the file and
 * field), and the count is at most SSLIB_MAX_PBKDF2_ITERATIONS, ten times the securesystemslib
 * default of 100 000 (ADR 0010).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { CryptoError } from './errors.js';
import { quote } from '../util/json.js';

/** securesystemslib `settings.PBKDF2_ITERATIONS`, what in-toto-keygen writes. */
export const SSLIB_PBKDF2_ITERATIONS = 100_000;
/** Highest iteration count read from a file (~0.3 s of PBKDF2). */
export const SSLIB_MAX_PBKDF2_ITERATIONS = 10 * SSLIB_PBKDF2_ITERATIONS;
/** Largest encrypted key text accepted (an encrypted ecdsa key is ~1 KiB of hex). */
export const SSLIB_MAX_ENCRYPTED_CHARS = 128 * 1024;
const DELIM = '@@@@';

export interface SslibEncrypted {
  salt: Buffer;
  iterations: number;
  mac: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
}

/** Does this key file text look like a securesystemslib encrypted key (checked later)? */
export function isSslibEncrypted(text: string): boolean {
  const t = text.trim();
  return t.includes(DELIM) && !t.startsWith('{') && !t.includes('-----BEGIN');
}

function invalid(source: string, field: string, value: string, want: string): CryptoError {
  return new CryptoError(
    'KEY_FILE_INVALID',
    `encrypted key file ${source}: field ${field} is ${quote(value, 40)}, expected ${want}`,
    {
      details: { path: source, field },
      hint: 'an in-toto-keygen -p key is salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext in hex; restore it or make it again',
    },
  );
}

function hexField(source: string, field: string, value: string, min: number, max: number): Buffer {
  const want = min === max ? `${min} bytes of hex` : `${min} to ${max} bytes of hex`;
  if (
    value.length % 2 !== 0 ||
    value.length < 2 * min ||
    value.length > 2 * max ||
    !/^[0-9a-f]*$/.test(value)
  )
    throw invalid(source, field, value, want);
  return Buffer.from(value, 'hex');
}

/** Parse and check every field of an encrypted key, before anything is derived from it. */
export function parseSslibEncrypted(text: string, source = 'encrypted key'): SslibEncrypted {
  const t = text.trim();
  if (t.length > SSLIB_MAX_ENCRYPTED_CHARS) {
    throw invalid(source, '(document)', `${t.length} characters`, `at most ${SSLIB_MAX_ENCRYPTED_CHARS}`);
  }
  const parts = t.split(DELIM);
  if (parts.length !== 5)
    throw invalid(source, '(document)', `${parts.length} parts`, '5 parts joined by @@@@');
  const [salt, iter, mac, iv, ct] = parts as [string, string, string, string, string];
  const want = `an integer from 1 to ${SSLIB_MAX_PBKDF2_ITERATIONS}`;
  if (!/^[1-9][0-9]{0,9}$/.test(iter)) throw invalid(source, 'iterations', iter, want);
  const iterations = Number(iter);
  if (iterations > SSLIB_MAX_PBKDF2_ITERATIONS) throw invalid(source, 'iterations', iter, want);
  return {
    salt: hexField(source, 'salt', salt, 8, 64),
    iterations,
    mac: hexField(source, 'hmac', mac, 32, 32),
    iv: hexField(source, 'iv', iv, 16, 16),
    ciphertext: hexField(source, 'ciphertext', ct, 1, SSLIB_MAX_ENCRYPTED_CHARS / 2),
  };
}

function deriveKey(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
}

/** securesystemslib encrypt_key: AES-256-CTR + HMAC-SHA256, key from PBKDF2-HMAC-SHA256. */
export function sslibEncrypt(
  plaintext: string,
  password: string,
  iterations = SSLIB_PBKDF2_ITERATIONS,
): string {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = deriveKey(password, salt, iterations);
  const c = createCipheriv('aes-256-ctr', key, iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  const mac = createHmac('sha256', key).update(ct).digest('hex');
  return [salt.toString('hex'), String(iterations), mac, iv.toString('hex'), ct.toString('hex')].join(DELIM);
}

/**
 * securesystemslib decrypt_key: KEY_FILE_INVALID for a malformed or too costly file (checked
 * first), WRONG_PASSPHRASE when the HMAC does not match.
 */
export function sslibDecrypt(text: string, password: string, source?: string): string {
  return sslibDecryptParsed(parseSslibEncrypted(text, source), password, source);
}

/** Decrypt an encrypted key already checked by `parseSslibEncrypted`. */
export function sslibDecryptParsed(e: SslibEncrypted, password: string, source?: string): string {
  const key = deriveKey(password, e.salt, e.iterations);
  const want = createHmac('sha256', key).update(e.ciphertext).digest();
  if (!timingSafeEqual(e.mac, want)) {
    throw new CryptoError('WRONG_PASSPHRASE', 'wrong password for the encrypted in-toto key', {
      details: source === undefined ? {} : { path: source },
      hint: 'the password given when the key was made with in-toto-keygen -p',
    });
  }
  const d = createDecipheriv('aes-256-ctr', key, e.iv);
  return Buffer.concat([d.update(e.ciphertext), d.final()]).toString('utf8');
}
