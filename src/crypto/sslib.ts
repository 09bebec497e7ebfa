/**
 * The securesystemslib key format, as python in-toto 1.3.1 (securesystemslib 0.26) reads and
 * writes it: `in-toto-keygen` key files, key ids, and signatures by scheme.
 *
 * - A public key is `{keytype, scheme, keyid_hash_algorithms, keyval: {public}}`; ed25519
 *   public values are 64 hex digits, ecdsa values PEM with a trailing newline, rsa values PEM
 *   without one (securesystemslib strips rsa PEMs to header..footer).
 * - Its key id is the hex SHA-256 of the canonical JSON of that object WITH
 *   `keyid_hash_algorithms: ["sha256", "sha512"]` (unlike TUF key ids).
 * - Files: ed25519 and ecdsa keys are JSON (`<name>` private with `keyval.private`, hex seed
 *   or SEC1 PEM; `<name>.pub` public); rsa keys are PEM (PKCS#1 private, SPKI public).
 *   Password-protected JSON keys are `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext` (hex;
 *   PBKDF2-HMAC-SHA256, AES-256-CTR, HMAC-SHA256 over the ciphertext); protected rsa keys
 *   are encrypted PEM.
 */
import { canonicalize } from '@tufjs/canonical-json';
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from './errors.js';
import { keyTypeOf, publicKeyObject, type KeyType } from './keys.js';
import { checkPemEncryption } from './pem-encryption.js';
import type { Signer } from './signer.js';
import {
  isSslibEncrypted,
  parseSslibEncrypted,
  sslibDecryptParsed,
  sslibEncrypt,
} from './sslib-encrypted.js';
import { JsonInputError, parseJsonBounded } from '../util/json.js';

export {
  SSLIB_MAX_PBKDF2_ITERATIONS,
  SSLIB_PBKDF2_ITERATIONS,
  isSslibEncrypted,
  parseSslibEncrypted,
  sslibDecrypt,
  sslibDecryptParsed,
  sslibEncrypt,
  type SslibEncrypted,
} from './sslib-encrypted.js';

/** Largest in-toto key file read (JSON, PEM or encrypted). */
export const SSLIB_KEY_MAX_BYTES = 64 * 1024;

export const SSLIB_KEYID_HASH_ALGORITHMS: readonly string[] = ['sha256', 'sha512'];
const SCHEME: Record<KeyType, string> = {
  ed25519: 'ed25519',
  ecdsa: 'ecdsa-sha2-nistp256',
  rsa: 'rsassa-pss-sha256',
};
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A public key in securesystemslib form (unknown fields are kept). */
export interface SslibPublicKey {
  keytype: string;
  scheme: string;
  keyid: string;
  keyid_hash_algorithms?: string[];
  keyval: { public: string; private?: string };
  [extra: string]: unknown;
}

/** A private key read from a file, with its public half in securesystemslib form. */
export interface SslibPrivateKey {
  privateKey: KeyObject;
  publicKey: SslibPublicKey;
}

function bad(message: string, cause?: unknown): CryptoError {
  return new CryptoError('KEY_INVALID', message, {
    cause,
    hint: 'in-toto keys are in-toto-keygen files: JSON for ed25519/ecdsa, PEM for rsa',
  });
}

/** securesystemslib key id: sha256 of canonical `{keytype, scheme, keyid_hash_algorithms, keyval}`. */
export function sslibKeyId(key: { keytype: string; scheme: string; keyval: { public: string } }): string {
  const meta = {
    keytype: key.keytype,
    scheme: key.scheme,
    keyid_hash_algorithms: SSLIB_KEYID_HASH_ALGORITHMS,
    keyval: { public: key.keyval.public },
  };
  return createHash('sha256').update(canonicalize(meta)).digest('hex');
}

/** Strip a PEM to header..footer, as securesystemslib's extract_pem does for rsa keys. */
function extractPem(pem: string): string {
  const start = pem.indexOf('-----BEGIN PUBLIC KEY-----');
  const endMark = '-----END PUBLIC KEY-----';
  const end = pem.indexOf(endMark, start);
  if (start < 0 || end < 0) throw bad('not a PEM public key');
  return pem.slice(start, end + endMark.length).replace(/\r\n/g, '\n');
}

/** securesystemslib public key of a node key (private keys give their public half). */
export function sslibPublicKeyOf(key: KeyObject): SslibPublicKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const type = keyTypeOf(pub);
  let value: string;
  if (type === 'ed25519') {
    value = pub.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI.length).toString('hex');
  } else {
    const pem = pub.export({ format: 'pem', type: 'spki' }) as string;
    value = type === 'rsa' ? extractPem(pem) : pem;
  }
  const base = { keytype: type, scheme: SCHEME[type], keyval: { public: value } };
  return { ...base, keyid: sslibKeyId(base), keyid_hash_algorithms: [...SSLIB_KEYID_HASH_ALGORITHMS] };
}

/** node public key of a securesystemslib key. */
export function sslibKeyObject(key: Pick<SslibPublicKey, 'keytype' | 'keyval'>): KeyObject {
  const value = key.keyval.public;
  if (key.keytype === 'ed25519') {
    if (!/^[0-9a-fA-F]{64}$/.test(value)) throw bad('ed25519 public key is not 64 hex digits');
    return createPublicKey({
      key: Buffer.concat([ED25519_SPKI, Buffer.from(value, 'hex')]),
      format: 'der',
      type: 'spki',
    });
  }
  try {
    return createPublicKey(value);
  } catch (e) {
    throw bad(`cannot parse ${key.keytype} public key`, e);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check a parsed JSON key object and give it its computed key id (python recomputes it too). */
function publicFromJson(obj: unknown, source: string): SslibPublicKey {
  if (!isRecord(obj) || !isRecord(obj.keyval)) throw bad(`${source}: not a securesystemslib key`);
  const { keytype, scheme } = obj;
  const pub = obj.keyval.public;
  if (typeof keytype !== 'string' || typeof scheme !== 'string' || typeof pub !== 'string') {
    throw bad(`${source}: key needs string keytype, scheme and keyval.public`);
  }
  const base = { keytype, scheme, keyval: { public: pub } };
  sslibKeyObject(base);
  return { ...base, keyid: sslibKeyId(base), keyid_hash_algorithms: [...SSLIB_KEYID_HASH_ALGORITHMS] };
}

function parseKeyJson(text: string, source: string): unknown {
  try {
    return parseJsonBounded(text, { source, maxBytes: SSLIB_KEY_MAX_BYTES });
  } catch (e) {
    if (!(e instanceof JsonInputError)) throw e;
    throw bad(`${source}: invalid JSON (${e.code})`, e);
  }
}

/**
 * Parse a public key file in any format in-toto-keygen writes (JSON for ed25519/ecdsa, PEM for
 * rsa), or a PEM of any supported type; the format is detected, no `--key-types` needed.
 */
export function parseSslibPublicKey(text: string, source = 'key'): SslibPublicKey {
  const t = text.trim();
  if (t.startsWith('{')) {
    return publicFromJson(parseKeyJson(t, source), source);
  }
  if (t.includes('PRIVATE KEY')) throw bad(`${source}: is a private key, a public key is needed`);
  let obj: KeyObject;
  try {
    obj = createPublicKey(t);
  } catch (e) {
    throw bad(`${source}: not a public key (JSON or PEM)`, e);
  }
  return sslibPublicKeyOf(obj);
}

/** Does a key file need a password (encrypted JSON or encrypted PEM)? */
export function sslibKeyNeedsPassword(text: string): boolean {
  return isSslibEncrypted(text) || text.includes('ENCRYPTED');
}

function privateFromJson(obj: unknown, source: string): SslibPrivateKey {
  const publicKey = publicFromJson(obj, source);
  const priv = (obj as { keyval: { private?: unknown } }).keyval.private;
  if (typeof priv !== 'string' || priv.length === 0) throw bad(`${source}: key has no private part`);
  let privateKey: KeyObject;
  try {
    privateKey =
      publicKey.keytype === 'ed25519'
        ? createPrivateKey({
            key: Buffer.concat([ED25519_PKCS8, Buffer.from(priv, 'hex')]),
            format: 'der',
            type: 'pkcs8',
          })
        : createPrivateKey(priv);
  } catch (e) {
    throw bad(`${source}: cannot parse the private key`, e);
  }
  return { privateKey, publicKey };
}

/**
 * Parse a private key file written by in-toto-keygen (JSON, encrypted JSON, or PEM, plain or
 * encrypted). `password` is asked only when the file is encrypted.
 */
export async function parseSslibPrivateKey(
  text: string,
  source: string,
  password: () => Promise<string>,
): Promise<SslibPrivateKey> {
  let t = text.trim();
  // Every field of an encrypted file is checked (sslibDecrypt, checkPemEncryption) before
  // the password is asked and before any key derivation.
  if (isSslibEncrypted(t)) {
    const encrypted = parseSslibEncrypted(t, source);
    t = sslibDecryptParsed(encrypted, await password(), source).trim();
  }
  if (t.startsWith('{')) {
    return privateFromJson(parseKeyJson(t, source), source);
  }
  if (!t.includes('PRIVATE KEY')) throw bad(`${source}: not a private key`);
  const encrypted = t.includes('ENCRYPTED');
  if (encrypted) checkPemEncryption(t, source);
  let privateKey: KeyObject;
  try {
    privateKey = encrypted ? createPrivateKey({ key: t, passphrase: await password() }) : createPrivateKey(t);
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError('WRONG_PASSPHRASE', `${source}: cannot decrypt or parse the PEM private key`, {
      cause: e,
    });
  }
  return { privateKey, publicKey: sslibPublicKeyOf(privateKey) };
}

/** Python `json.dumps` with default separators, for key files byte-like in-toto-keygen's. */
function pyDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  if (isRecord(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** Contents of `<name>` and `<name>.pub` as in-toto-keygen writes them for this key. */
export function sslibKeyFiles(privateKey: KeyObject, password?: string): { private: string; public: string } {
  const pub = sslibPublicKeyOf(privateKey);
  const type = pub.keytype as KeyType;
  if (type === 'rsa') {
    const enc = password === undefined ? {} : { cipher: 'aes-256-cbc', passphrase: password };
    return {
      private: privateKey.export({ format: 'pem', type: 'pkcs1', ...enc }) as string,
      public: pub.keyval.public + '\n',
    };
  }
  const priv =
    type === 'ed25519'
      ? privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(ED25519_PKCS8.length).toString('hex')
      : (privateKey.export({ format: 'pem', type: 'sec1' }) as string);
  const base = { keytype: pub.keytype, scheme: pub.scheme, keyid: pub.keyid };
  const full = {
    ...base,
    keyid_hash_algorithms: pub.keyid_hash_algorithms,
    keyval: { ...pub.keyval, private: priv },
  };
  const text = pyDumps(full);
  const publicText = pyDumps({
    keytype: pub.keytype,
    scheme: pub.scheme,
    keyid_hash_algorithms: pub.keyid_hash_algorithms,
    keyval: { public: pub.keyval.public },
  });
  return { private: password === undefined ? text : sslibEncrypt(text, password), public: publicText };
}

function hashOfScheme(scheme: string): string | undefined {
  const m = /^(?:rsassa-pss|rsa-pkcs1v15)-(md5|sha1|sha224|sha256|sha384|sha512)$/.exec(scheme);
  if (m) return m[1];
  if (scheme === 'ecdsa-sha2-nistp256') return 'sha256';
  if (scheme === 'ecdsa-sha2-nistp384') return 'sha384';
  return undefined;
}

/**
 * Verify a raw signature as securesystemslib verify_signature does: ed25519; ecdsa-sha2-nistp256
 * and -nistp384 (DER); rsassa-pss-* (any salt length, as PSS.AUTO) and rsa-pkcs1v15-*. Returns
 * false on a bad signature; throws KEY_UNSUPPORTED_TYPE / KEY_INVALID for keys it cannot use
 * (securesystemslib raises then too).
 */
export function verifySslibSignature(
  key: Pick<SslibPublicKey, 'keytype' | 'scheme' | 'keyval'>,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const { keytype, scheme } = key;
  const unsupported = () =>
    new CryptoError('KEY_UNSUPPORTED_TYPE', `unsupported key type/scheme ${keytype}/${scheme}`);
  if (keytype === 'ed25519') {
    if (scheme !== 'ed25519') throw unsupported();
    return safeVerify(null, data, sslibKeyObject(key), signature);
  }
  const hash = hashOfScheme(scheme);
  if (['ecdsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384'].includes(keytype)) {
    if (!scheme.startsWith('ecdsa-') || hash === undefined) throw unsupported();
    return safeVerify(hash, data, { key: sslibKeyObject(key), dsaEncoding: 'der' }, signature);
  }
  if (keytype === 'rsa') {
    if (hash === undefined) throw unsupported();
    const padding = scheme.startsWith('rsassa-pss')
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }
      : { padding: constants.RSA_PKCS1_PADDING };
    return safeVerify(hash, data, { key: sslibKeyObject(key), ...padding }, signature);
  }
  throw unsupported();
}

function safeVerify(alg: string | null, data: Uint8Array, key: KeyObject | object, sig: Uint8Array): boolean {
  try {
    return nodeVerify(alg, data, key as KeyObject, sig);
  } catch {
    return false;
  }
}

/** Signer whose key id and public key are in securesystemslib form (for in-toto metadata). */
export class SslibSigner implements Signer {
  readonly keyid: string;
  readonly publicKey: SslibPublicKey;
  readonly #key: KeyObject | undefined;
  readonly #inner: Signer | undefined;

  private constructor(publicKey: SslibPublicKey, key?: KeyObject, inner?: Signer) {
    this.publicKey = publicKey;
    this.keyid = publicKey.keyid;
    this.#key = key;
    this.#inner = inner;
  }

  /** A signer over an in-memory private key (ed25519, ecdsa P-256 or rsa). */
  static fromKeyObject(privateKey: KeyObject, publicKey?: SslibPublicKey): SslibSigner {
    keyTypeOf(privateKey);
    return new SslibSigner(publicKey ?? sslibPublicKeyOf(privateKey), privateKey);
  }

  /** Wrap another signer (e.g. a key-store signer) so it carries the securesystemslib key id. */
  static wrap(signer: Signer): SslibSigner {
    return new SslibSigner(sslibPublicKeyOf(publicKeyObject(signer.publicKey)), undefined, signer);
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    if (this.#inner !== undefined) return this.#inner.sign(data);
    const key = this.#key as KeyObject;
    switch (keyTypeOf(key)) {
      case 'ed25519':
        return Promise.resolve(nodeSign(null, data, key));
      case 'ecdsa':
        return Promise.resolve(nodeSign('sha256', data, { key, dsaEncoding: 'der' }));
      case 'rsa':
        return Promise.resolve(
          nodeSign('sha256', data, {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          }),
        );
    }
  }
}
