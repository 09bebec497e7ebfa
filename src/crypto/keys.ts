/**
 * Public keys in the TUF / securesystemslib JSON format and their key ids.
 *
 * TUF 1.0 §4.2: a key is `{keytype, scheme, keyval: {public}}`; its key id is the hex SHA-256
 * of the canonical JSON of that object. ed25519 public keys are hex of the 32 raw bytes;
 * ecdsa and rsa public keys are PEM (SubjectPublicKeyInfo), as python-tuf and
 * securesystemslib write them.
 */
import { canonicalize } from '@tufjs/canonical-json';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';

/** Key types cnabsec generates; names as on the command line. */
export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';
export const KEY_TYPES: readonly KeyType[] = ['ed25519', 'ecdsa', 'rsa'];

export type Scheme = 'ed25519' | 'ecdsa-sha2-nistp256' | 'rsassa-pss-sha256';

export const SCHEME_OF: Record<KeyType, Scheme> = {
  ed25519: 'ed25519',
  ecdsa: 'ecdsa-sha2-nistp256',
  rsa: 'rsassa-pss-sha256',
};

/** A public key as TUF metadata carries it (without its key id). */
export interface PublicKeyJson {
  keytype: string;
  scheme: string;
  keyval: { public: string };
  [extra: string]: unknown;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function isKeyType(value: string): value is KeyType {
  return (KEY_TYPES as readonly string[]).includes(value);
}

/** Hex SHA-256 of the canonical JSON of a public key (TUF key id). */
export function keyIdOf(key: PublicKeyJson): string {
  return createHash('sha256').update(canonicalize(key)).digest('hex');
}

/** Generate a new key pair of `type` (ed25519 by default). RSA keys are 3072 bits. */
export function generateKeyPair(type: KeyType = 'ed25519'): {
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  switch (type) {
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ecdsa':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 3072 });
  }
}

/** The cnabsec key type of a node KeyObject (public or private). */
export function keyTypeOf(key: KeyObject): KeyType {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return 'ed25519';
  if (t === 'rsa') return 'rsa';
  if (t === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa';
  throw new CryptoError('KEY_UNSUPPORTED_TYPE', `unsupported key type ${String(t)}`, {
    hint: 'use an ed25519, ecdsa P-256 or rsa key',
  });
}

/** TUF JSON form of a public key. */
export function toPublicKeyJson(key: KeyObject): PublicKeyJson {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const type = keyTypeOf(pub);
  const value =
    type === 'ed25519'
      ? pub.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length).toString('hex')
      : (pub.export({ format: 'pem', type: 'spki' }) as string);
  return { keytype: type, scheme: SCHEME_OF[type], keyval: { public: value } };
}

/** node KeyObject of a TUF JSON public key. */
export function publicKeyObject(key: PublicKeyJson): KeyObject {
  const value = key.keyval?.public;
  if (typeof value !== 'string' || value.length === 0) {
    throw new CryptoError('KEY_INVALID', 'public key has no keyval.public', {
      hint: 'a TUF key looks like {"keytype","scheme","keyval":{"public"}}',
    });
  }
  try {
    if (value.startsWith('-----BEGIN')) return createPublicKey(value);
    if (key.keytype === 'ed25519' && /^[0-9a-f]{64}$/i.test(value)) {
      return createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(value, 'hex')]),
        format: 'der',
        type: 'spki',
      });
    }
  } catch (e) {
    throw new CryptoError('KEY_INVALID', `cannot parse ${key.keytype} public key`, { cause: e });
  }
  throw new CryptoError('KEY_INVALID', `cannot parse ${key.keytype} public key value`, {
    hint: 'ed25519 keys are 64 hex digits; ecdsa and rsa keys are PEM',
  });
}

/** Public key as PEM (SubjectPublicKeyInfo), for export. */
export function publicKeyToPem(key: PublicKeyJson): string {
  return publicKeyObject(key).export({ format: 'pem', type: 'spki' }) as string;
}

/** Parse a PEM public key (any supported type) into TUF JSON form. */
export function publicKeyFromPem(pem: string): PublicKeyJson {
  let obj: KeyObject;
  try {
    obj = createPublicKey(pem);
  } catch (e) {
    throw new CryptoError('KEY_INVALID', 'not a PEM public key', {
      cause: e,
      hint: 'export a public key with `cnabsec key export <id>`',
    });
  }
  return toPublicKeyJson(obj);
}
