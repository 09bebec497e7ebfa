/**
 * Signing and signature checks on the envelope (in-toto spec §4.1): a signature is over the
 * canonical JSON of `signed` (securesystemslib encode_canonical, UTF-8), hex-encoded, with
 * the signer's securesystemslib key id.
 */
import { verifySslibSignature } from '../crypto/sslib.js';
import type { Signer } from '../crypto/signer.js';
import { canonicalBytes } from './canonical.js';
import { FormatError, SignatureVerificationError, preview } from './errors.js';
import type { Layout, LayoutKey, Link, Metablock, Signature } from './models.js';

/** The bytes that are signed: canonical JSON of `signed`. */
export function signableBytes(signed: Link | Layout): Buffer {
  return canonicalBytes(signed);
}

/**
 * Sign `mb` with `signer` and add the signature (python `Metablock.sign`). With `replace`
 * (the default), an existing signature by the same key id is replaced rather than doubled.
 */
export async function signMetablock(mb: Metablock, signer: Signer, replace = true): Promise<Signature> {
  const sig = Buffer.from(await signer.sign(signableBytes(mb.signed))).toString('hex');
  const signature: Signature = { keyid: signer.keyid, sig };
  const i = replace ? mb.signatures.findIndex((s) => s.keyid === signer.keyid) : -1;
  if (i >= 0) mb.signatures[i] = signature;
  else mb.signatures.push(signature);
  return signature;
}

/** The key id a layout key is known by (its `keyid` field, as python uses it). */
export function keyIdOfLayoutKey(key: LayoutKey, fallback?: string): string {
  const id = typeof key.keyid === 'string' ? key.keyid : fallback;
  if (id === undefined) {
    throw new FormatError('INTOTO_BAD_KEY', 'a verification key has no keyid', {
      hint: 'layout keys carry their key id in a "keyid" field',
    });
  }
  return id;
}

/**
 * Verify the signature by `key` on `mb` (python `Metablock.verify_signature`): the FIRST
 * signature whose key id is the key's (or one of its subkeys') is checked; it must verify.
 * `data` may be passed when the signable bytes are already computed.
 */
export function verifyMetablockSignature(
  mb: Metablock,
  key: LayoutKey,
  data?: Buffer,
  fallbackKeyId?: string,
): void {
  const keyid = keyIdOfLayoutKey(key, fallbackKeyId);
  const subkeys = key.subkeys !== undefined && key.subkeys !== null ? Object.keys(key.subkeys) : [];
  const signature = mb.signatures.find((s) => s.keyid === keyid || subkeys.includes(s.keyid));
  const what = mb.signed._type === 'layout' ? 'layout' : `link ${preview(mb.signed.name)}`;
  if (signature === undefined) {
    throw new SignatureVerificationError(`No signature found for key '${keyid}' on the ${what}`, {
      details: { keyid },
      hint: 'the metadata was not signed with this key',
    });
  }
  let valid = false;
  if (typeof signature.sig === 'string' && signature.sig.length % 2 === 1) {
    // python: binascii.unhexlify raises, which is not a signature failure but an error.
    throw new FormatError('INTOTO_BAD_FORMAT', `signature by ${keyid} is not whole hex bytes`, {
      details: { keyid },
    });
  }
  if (typeof signature.sig === 'string' && typeof key.keyval.public === 'string') {
    const signed = data ?? signableBytes(mb.signed); // a document it refuses is no key error
    try {
      valid = verifySslibSignature(key, signed, Buffer.from(signature.sig, 'hex'));
    } catch (e) {
      throw new FormatError('INTOTO_BAD_KEY', `cannot verify with key ${keyid}: ${(e as Error).message}`, {
        cause: e,
        details: { keyid },
      });
    }
  }
  if (!valid) {
    throw new SignatureVerificationError(`Invalid signature for keyid '${keyid}' on the ${what}`, {
      details: { keyid },
      hint: 'the metadata was changed after signing, or signed with another key',
    });
  }
}
