/**
 * The `Signer` interface is the only way cnabsec code signs bytes, so that key files,
 * environment keys and (later) KMS or PKCS#11 signers are interchangeable.
 *
 * Signature encodings follow securesystemslib, which python-tuf, tuf-js and python in-toto
 * verify: ed25519 raw 64 bytes; ecdsa-sha2-nistp256 DER over SHA-256; rsassa-pss-sha256
 * with MGF1-SHA256 and a salt as long as the digest.
 */
import { constants, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import {
  keyIdOf,
  keyTypeOf,
  publicKeyObject,
  toPublicKeyJson,
  type KeyType,
  type PublicKeyJson,
} from './keys.js';

export interface Signer {
  /** TUF key id of the public key. */
  readonly keyid: string;
  readonly publicKey: PublicKeyJson;
  /** Signature over `data`, raw bytes (callers hex-encode for TUF and in-toto). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

function signParams(type: KeyType, key: KeyObject): { algorithm: string | null; key: KeyObject | object } {
  switch (type) {
    case 'ed25519':
      return { algorithm: null, key };
    case 'ecdsa':
      return { algorithm: 'sha256', key: { key, dsaEncoding: 'der' } };
    case 'rsa':
      return {
        algorithm: 'sha256',
        key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
      };
  }
}

/** Signer over an in-memory private key. */
export class KeyObjectSigner implements Signer {
  readonly keyid: string;
  readonly publicKey: PublicKeyJson;
  readonly #key: KeyObject;
  readonly #type: KeyType;

  constructor(privateKey: KeyObject, publicKey?: PublicKeyJson) {
    this.#key = privateKey;
    this.#type = keyTypeOf(privateKey);
    this.publicKey = publicKey ?? toPublicKeyJson(privateKey);
    this.keyid = keyIdOf(this.publicKey);
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    const p = signParams(this.#type, this.#key);
    return Promise.resolve(nodeSign(p.algorithm, data, p.key as KeyObject));
  }
}

/** Verify a raw signature over `data` with a TUF JSON public key. Never throws on a bad signature. */
export function verifySignature(key: PublicKeyJson, data: Uint8Array, signature: Uint8Array): boolean {
  const obj = publicKeyObject(key);
  let type: KeyType;
  try {
    type = keyTypeOf(obj);
  } catch {
    return false;
  }
  const p = signParams(type, obj);
  try {
    return nodeVerify(p.algorithm, data, p.key as KeyObject, signature);
  } catch {
    return false;
  }
}

/** Verify and throw a `SIGNATURE_INVALID` error naming the key id when the signature is bad. */
export function assertSignature(
  key: PublicKeyJson,
  data: Uint8Array,
  signature: Uint8Array,
  what: string,
): void {
  if (!verifySignature(key, data, signature)) {
    const keyid = keyIdOf(key);
    throw new CryptoError('SIGNATURE_INVALID', `signature by key ${keyid} over ${what} does not verify`, {
      details: { keyid },
      hint: 'the signature was made over other bytes or with another key',
    });
  }
}
