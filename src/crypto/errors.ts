import { CnabsecError } from '../errors.js';

export type CryptoErrorCode =
  | 'KEY_UNSUPPORTED_TYPE'
  | 'KEY_INVALID'
  | 'KEY_NOT_FOUND'
  | 'KEY_AMBIGUOUS'
  | 'KEY_FILE_CORRUPT'
  | 'KEY_FILE_PERMISSIONS'
  | 'WRONG_PASSPHRASE'
  | 'PASSPHRASE_REQUIRED'
  | 'SIGNATURE_INVALID';

/** Errors of the crypto layer: keys, key files, passphrases, signatures. */
export class CryptoError extends CnabsecError<CryptoErrorCode> {}
