import { CnabsecError } from '../errors.js';

export type CryptoErrorCode =
  | 'KEY_UNSUPPORTED_TYPE'
  | 'KEY_INVALID'
  | 'KEY_NOT_FOUND'
  | 'KEY_AMBIGUOUS'
  /** `key import` of a key the store already holds. */
  | 'KEY_EXISTS'
  /** `key export --private -o <file>` onto an existing file (without --force). */
  | 'KEY_BACKUP_EXISTS'
  /** A key backup file cannot be written. */
  | 'KEY_BACKUP_IO'
  | 'KEY_FILE_CORRUPT'
  | 'KEY_FILE_PERMISSIONS'
  | 'KEY_FILE_INVALID'
  | 'KEY_STORE_IO'
  /** Another process is changing the same key (`key passwd`): its lock file exists. */
  | 'KEY_BUSY'
  | 'KEY_STORE_UNSAFE'
  | 'WRONG_PASSPHRASE'
  | 'PASSPHRASE_REQUIRED'
  | 'SIGNATURE_INVALID';

/** Errors of the crypto layer: keys, key files, passphrases, signatures. */
export class CryptoError extends CnabsecError<CryptoErrorCode> {}
