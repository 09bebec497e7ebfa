/**
 * What `cnabsec key import <file>` accepts, told apart by content (ADR 0015): a cnabsec key
 * file (`{"_type": "cnabsec-encrypted-key", ...}`, which is what `key export --private`
 * writes and what the key store holds), or an unencrypted PEM private key (PKCS#8 or
 * traditional). A key file is checked field by field (`checkKeyFile`) and its key id against
 * its public key here; that its private key matches is checked by decrypting it.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import { KEY_FILE_MAX_BYTES, checkKeyFile, type KeyFile } from './keyfile.js';
import { keyIdOf, toPublicKeyJson } from './keys.js';
import { JsonInputError, parseJsonBounded, quote } from '../util/json.js';

export type ImportedKey =
  { kind: 'backup'; keyid: string; file: KeyFile } | { kind: 'pem'; keyid: string; key: KeyObject };

function backupOf(text: string, source: string): ImportedKey {
  let parsed: unknown;
  try {
    parsed = parseJsonBounded(text, { source, maxBytes: KEY_FILE_MAX_BYTES, integersOnly: true });
  } catch (e) {
    if (!(e instanceof JsonInputError)) throw e;
    throw new CryptoError('KEY_INVALID', `${quote(source)} is not a cnabsec key backup (${e.message})`, {
      cause: e,
      details: { path: source },
      hint: 'give a file written by `cnabsec key export <id> --private -o <file>`, or an unencrypted PEM private key',
    });
  }
  // any other JSON document (a bundle.json, a TUF key) is not a backup: say that, not "edited"
  if ((parsed as { _type?: unknown } | null)?._type !== 'cnabsec-encrypted-key') {
    throw new CryptoError(
      'KEY_INVALID',
      `${quote(source)} is not a cnabsec key backup or a PEM private key`,
      {
        details: { path: source },
        hint: 'give a file written by `cnabsec key export <id> --private -o <file>`, or an unencrypted PEM private key',
      },
    );
  }
  const file = checkKeyFile(parsed, source);
  if (keyIdOf(file.public) !== file.keyid) {
    throw new CryptoError(
      'KEY_FILE_CORRUPT',
      `key backup ${source}: its public key does not match its key id`,
      {
        details: { path: source, keyid: file.keyid },
        hint: 'the backup was edited; use another copy',
      },
    );
  }
  return { kind: 'backup', keyid: file.keyid, file };
}

function pemOf(text: string, source: string): ImportedKey {
  if (
    /-----BEGIN (?:ENCRYPTED PRIVATE KEY|[A-Z ]*PRIVATE KEY-----[\s\S]*Proc-Type: 4,ENCRYPTED)/.test(text)
  ) {
    throw new CryptoError('KEY_INVALID', `${quote(source)} is an encrypted PEM private key`, {
      details: { path: source },
      hint: 'decrypt it first (openssl pkey -in <file> -out plain.pem), import plain.pem, then delete it',
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (e) {
    throw new CryptoError(
      'KEY_INVALID',
      `${quote(source)} is not an unencrypted PEM private key or a cnabsec key backup`,
      {
        cause: e,
        details: { path: source },
        hint: 'give a PEM private key (PKCS#8 or traditional) or a file written by `cnabsec key export <id> --private`',
      },
    );
  }
  return { kind: 'pem', keyid: keyIdOf(toPublicKeyJson(key)), key };
}

/** The key in `text` (the content of `source`): a cnabsec key backup or a PEM private key. */
export function parseKeyImport(text: string, source: string): ImportedKey {
  return text.trimStart().startsWith('{') ? backupOf(text, source) : pemOf(text, source);
}
