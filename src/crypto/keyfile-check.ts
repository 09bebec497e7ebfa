/**
 * Validation of cnabsec key files before anything is derived from them. A key file must not
 * choose what reading it costs: its scrypt parameters, salt, IV and tag must be exactly the
 * values `encryptKey` writes (ADR 0010), every other field must have the type and bounds
 * cnabsec writes, and unknown fields are refused. A file that fails is refused with
 * KEY_FILE_INVALID naming the file and the field, so no key derivation ever runs on it.
 */
import { CryptoError } from './errors.js';
import { SCHEME_OF, isKeyType, type PublicKeyJson } from './keys.js';
import { quote } from '../util/json.js';

export const KEY_FILE_TYPE = 'cnabsec-encrypted-key';

/** Largest key file read (a 4096-bit rsa key file is ~5 KiB). */
export const KEY_FILE_MAX_BYTES = 64 * 1024;

/** The scrypt cost and sizes cnabsec writes: N=2^15, r=8, p=1 (~32 MiB, ~0.1 s), OWASP's minimum. */
export const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;
export const KEY_BYTES = 32;
export const SALT_BYTES = 16;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const MAX_CIPHERTEXT_BYTES = 16 * 1024;
const MAX_PUBLIC_CHARS = 4096;
const MAX_LABEL_CHARS = 200;

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

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return quote(v, 40);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

function invalid(source: string, field: string, value: unknown, want: string): CryptoError {
  return new CryptoError(
    'KEY_FILE_INVALID',
    `key file ${source}: field ${field} is ${shown(value)}, expected ${want}`,
    {
      details: { path: source, field },
      hint: 'the key file was edited or is not one cnabsec wrote; restore it from a backup of the key store',
    },
  );
}

/** The fields of one object of a key file, checked one by one; `at` is its path (`kdf.`). */
class Fields {
  constructor(
    readonly source: string,
    readonly obj: Record<string, unknown>,
    readonly at: string,
    keys: readonly string[],
  ) {
    const extra = Object.keys(obj).find((k) => !keys.includes(k));
    if (extra !== undefined) {
      throw invalid(
        source,
        `${at}${quote(extra, 40)}`,
        obj[extra],
        `no such field (only ${keys.join(', ')})`,
      );
    }
  }

  private fail(field: string, want: string): CryptoError {
    return invalid(this.source, `${this.at}${field}`, this.obj[field], want);
  }

  exact(field: string, want: string | number): void {
    if (this.obj[field] !== want) throw this.fail(field, JSON.stringify(want));
  }

  string(field: string, max: number, pattern?: RegExp, want?: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || v.length > max || (pattern !== undefined && !pattern.test(v)))
      throw this.fail(field, want ?? `a string of at most ${max} characters`);
    return v;
  }

  /** Strict base64 decoding to exactly `bytes` bytes, or to 1..`max` bytes when `bytes` is 0. */
  base64(field: string, bytes: number, max = bytes): void {
    const want = bytes > 0 ? `base64 of ${bytes} bytes` : `base64 of 1 to ${max} bytes`;
    const v = this.obj[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > Math.ceil(max / 3) * 4 || !BASE64.test(v))
      throw this.fail(field, want);
    const n = Buffer.from(v, 'base64').length;
    if (bytes > 0 ? n !== bytes : n > max) throw this.fail(field, want);
  }

  sub(field: string, keys: readonly string[]): Fields {
    const v = this.obj[field];
    if (!isRecord(v)) throw this.fail(field, 'an object');
    return new Fields(this.source, v, `${this.at}${field}.`, keys);
  }
}

function checkPublic(f: Fields): void {
  const pub = f.sub('public', ['keytype', 'scheme', 'keyval']);
  const keytype = pub.string('keytype', 16, /^(?:ed25519|ecdsa|rsa)$/, 'ed25519, ecdsa or rsa');
  if (isKeyType(keytype)) pub.exact('scheme', SCHEME_OF[keytype]);
  pub.sub('keyval', ['public']).string('public', MAX_PUBLIC_CHARS, /^\S/, 'a public key (hex or PEM)');
}

/**
 * The key file `value` (parsed JSON read from `source`) as a KeyFile, or KEY_FILE_INVALID
 * naming the first field that is missing, mistyped, out of bounds or not what cnabsec writes.
 */
export function checkKeyFile(value: unknown, source: string): KeyFile {
  if (!isRecord(value)) throw invalid(source, '(document)', value, 'a cnabsec key file object');
  const f = new Fields(source, value, '', [
    '_type',
    'version',
    'keyid',
    'label',
    'created',
    'public',
    'kdf',
    'cipher',
    'ciphertext',
  ]);
  f.exact('_type', KEY_FILE_TYPE);
  f.exact('version', 1);
  f.string('keyid', 64, /^[0-9a-f]{64}$/, '64 lower-case hex digits');
  f.string('label', MAX_LABEL_CHARS);
  f.string('created', 64);
  checkPublic(f);
  const kdf = f.sub('kdf', ['name', 'N', 'r', 'p', 'salt']);
  kdf.exact('name', 'scrypt');
  kdf.exact('N', SCRYPT.N);
  kdf.exact('r', SCRYPT.r);
  kdf.exact('p', SCRYPT.p);
  kdf.base64('salt', SALT_BYTES);
  const cipher = f.sub('cipher', ['name', 'iv', 'tag']);
  cipher.exact('name', 'aes-256-gcm');
  cipher.base64('iv', IV_BYTES);
  cipher.base64('tag', TAG_BYTES);
  f.base64('ciphertext', 0, MAX_CIPHERTEXT_BYTES);
  return value as unknown as KeyFile;
}
