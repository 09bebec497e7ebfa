import { CnabsecError } from '../errors.js';

export type CnabErrorCode =
  | 'BUNDLE_NOT_FOUND'
  | 'BUNDLE_INVALID_JSON'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_NOT_CANONICAL'
  | 'INVALID_TAG'
  // thick bundle archives (doc 104): see archive.ts and tar.ts
  | 'ARCHIVE_BAD_ENTRY'
  | 'ARCHIVE_DUPLICATE_ENTRY'
  | 'ARCHIVE_TOO_LARGE'
  | 'ARCHIVE_TIMEOUT'
  // verification workflow (doc 303), one code per step
  | 'TUF_UPDATE_FAILED'
  | 'TUF_SERVER_UNREACHABLE'
  | 'TARGET_NOT_FOUND'
  | 'BUNDLE_HASH_MISMATCH'
  | 'INTOTO_METADATA_MISSING'
  | 'INTOTO_VERIFICATION_FAILED'
  // trust archives for air-gapped sites (ADR 0030): trust-archive*.ts
  | 'TRUST_ARCHIVE_INVALID'
  | 'ARCHIVE_WRITE_FAILED';

/** Errors of the CNAB layer: bundle files, archives, target names, verification. */
export class CnabError extends CnabsecError<CnabErrorCode> {}
