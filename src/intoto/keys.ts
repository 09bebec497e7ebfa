/**
 * Keys for in-toto commands: public key files in any format in-toto-keygen writes (detected,
 * no `--key-types`), and signers from either a private key file (in-toto-keygen JSON,
 * password-protected JSON, PEM) or a cnabsec key-store id.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CryptoError } from '../crypto/errors.js';
import type { KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';
import type { Signer } from '../crypto/signer.js';
import {
  SSLIB_KEY_MAX_BYTES,
  SslibSigner,
  parseSslibPrivateKey,
  parseSslibPublicKey,
} from '../crypto/sslib.js';
import { checkJsonScan, scanJson } from '../util/json.js';
import { errnoOf, isNotFound } from '../util/errno.js';
import { readUserFile } from '../util/fs.js';
import { FormatError, IntotoError } from './errors.js';
import type { LayoutKey } from './models.js';

function keyError(file: string, e: unknown): FormatError {
  return new FormatError('INTOTO_BAD_KEY', `${file}: ${(e as Error).message}`, {
    cause: e,
    details: { path: file },
    hint: 'give an in-toto-keygen key file (JSON for ed25519/ecdsa, PEM for rsa) or a cnabsec key id',
  });
}

/** A key file's text, at most SSLIB_KEY_MAX_BYTES (a regular file, read without blocking). */
async function readKeyText(file: string): Promise<string> {
  try {
    return (await readUserFile(file, SSLIB_KEY_MAX_BYTES)).toString('utf8');
  } catch (e) {
    if (errnoOf(e) === 'EFBIG') {
      throw new FormatError(
        'INTOTO_BAD_KEY',
        `key file ${file} is larger than ${SSLIB_KEY_MAX_BYTES} bytes`,
        {
          details: { path: file },
          hint: 'give an in-toto-keygen key file (JSON for ed25519/ecdsa, PEM for rsa)',
        },
      );
    }
    throw new IntotoError('INTOTO_IO', `cannot read key file ${file}: ${(e as Error).message}`, {
      cause: e,
      details: { path: file },
      hint: 'give a readable in-toto-keygen key file (JSON for ed25519/ecdsa, PEM for rsa)',
    });
  }
}

/**
 * Refuse JSON key text nested deeper than `MAX_JSON_DEPTH` before it is parsed and walked
 * (ADR 0007); PEM text has no brackets outside its armor and passes.
 */
function checkKeyTextDepth(text: string): void {
  if (/^\s*[[{]/.test(text)) checkJsonScan(scanJson(text), { source: 'key file' });
}

/** Parse public key text (securesystemslib JSON or PEM) as a layout key. */
export function parsePublicKey(text: string, source = 'key'): LayoutKey {
  try {
    checkKeyTextDepth(text);
    return parseSslibPublicKey(text, source);
  } catch (e) {
    throw keyError(source, e);
  }
}

/** Load a public key file (JSON or PEM, any supported type). */
export async function loadPublicKeyFile(file: string): Promise<LayoutKey> {
  return parsePublicKey(await readKeyText(file), file);
}

/** Load public keys into a dict keyed by key id. */
export async function loadPublicKeys(files: readonly string[]): Promise<Record<string, LayoutKey>> {
  const out: Record<string, LayoutKey> = {};
  for (const k of await Promise.all(files.map(loadPublicKeyFile))) out[k.keyid] = k;
  return out;
}

export interface SignerOptions {
  passphrases: PassphraseSource;
  /** Key store for key-id references (default: the standard one). */
  keyStore?: KeyStore;
}

/**
 * A signer for `ref`: a path to a private key file written by in-toto-keygen (detected by
 * format; encrypted ones ask the passphrase for label = file name), or else a key id (prefix)
 * in the cnabsec key store. Its key id is the securesystemslib one.
 */
export async function loadSigner(ref: string, opts: SignerOptions): Promise<Signer> {
  // Only a path that does not exist is taken for a key id; any other failure is reported.
  const st = await fsp.stat(ref).catch((e: unknown) => {
    if (isNotFound(e) || (e as { code?: unknown }).code === 'ENAMETOOLONG') return undefined;
    throw new IntotoError('INTOTO_IO', `cannot read key file ${ref}: ${(e as Error).message}`, {
      cause: e,
      details: { path: ref },
      hint: 'give a readable in-toto-keygen private key file or a cnabsec key id',
    });
  });
  if (st?.isFile() === true) {
    const text = await readKeyText(ref);
    const label = path.basename(ref);
    try {
      checkKeyTextDepth(text);
      const key = await parseSslibPrivateKey(text, ref, () => opts.passphrases(label));
      return SslibSigner.fromKeyObject(key.privateKey, key.publicKey);
    } catch (e) {
      if (
        e instanceof CryptoError &&
        (e.code === 'WRONG_PASSPHRASE' || e.code === 'PASSPHRASE_REQUIRED' || e.code === 'KEY_FILE_INVALID')
      )
        throw e;
      throw keyError(ref, e);
    }
  }
  const store = opts.keyStore ?? new (await import('../crypto/keystore.js')).KeyStore();
  return SslibSigner.wrap(await store.signer(ref, opts.passphrases));
}
