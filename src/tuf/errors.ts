/**
 * The TUF layer's error tree. Class names follow python-tuf / tuf-js (RepositoryError ⊃
 * UnsignedMetadataError, BadVersionError ⊃ EqualVersionError, ExpiredMetadataError,
 * LengthOrHashMismatchError; DownloadError ⊃ DownloadLengthMismatchError, DownloadHTTPError);
 * every error also has a stable `code` and names the role, version, key id or path involved.
 */
import { CnabsecError } from '../errors.js';

export type TufErrorCode =
  // repository side (signing workflows, doc 302)
  | 'REPO_NOT_FOUND'
  | 'REPO_EXISTS'
  | 'REPO_CORRUPT'
  | 'STORE_IO'
  | 'INVALID_ARGUMENT'
  | 'INVALID_DURATION'
  /** An expiry period shorter than the refresh rule of ./policy.ts allows. */
  | 'EXPIRY_TOO_SHORT'
  // names and signable values (ADR 0012)
  | 'INVALID_NAME'
  | 'INVALID_TAG'
  | 'INVALID_ROLE_NAME'
  | 'UNSIGNABLE_VALUE'
  | 'ROLE_UNKNOWN'
  | 'ROLE_EXPIRED'
  | 'ROLE_NOT_STAGED'
  | 'KEY_NOT_AUTHORIZED'
  | 'THRESHOLD_NOT_MET'
  | 'TARGET_NOT_FOUND'
  | 'TARGET_NOT_DELEGATED'
  | 'BAD_SIGNATURE'
  | 'PUBLISH_FAILED'
  // concurrent writers and lost files (ADR 0003)
  | 'REPOSITORY_LOCKED'
  | 'REPOSITORY_INCOMPLETE'
  | 'PUBLISHED_FILE_EXISTS'
  // cnabsec reset of a repository that was never published (issue 12)
  | 'REPO_NOT_PUBLISHED'
  // key rotation, delegations, recovery (issue 4)
  | 'KEY_NOT_IN_ROLE'
  | 'KEY_ALREADY_IN_ROLE'
  | 'NOTHING_TO_CHANGE'
  | 'DELEGATION_EXISTS'
  | 'DELEGATION_NOT_FOUND'
  | 'ROLE_WOULD_BE_UNTRUSTED'
  | 'RECOVERY_KEY_REUSED'
  | 'RECOVERY_NOT_PUBLISHED'
  // client side (TUF client workflow, spec §5)
  | 'TRUST_NOT_FOUND'
  | 'TRUST_EXISTS'
  | 'TRUST_STORE_IO'
  | 'TRUST_STORE_CORRUPT'
  | 'TRUST_CORRUPT'
  | 'TRUST_ROOT_OLDER'
  | 'MAP_INVALID'
  | 'MAP_NO_MATCH'
  | 'MAP_THRESHOLD_NOT_MET'
  | 'TUF_UPDATE_FAILED'
  | 'TUF_EXPIRED_METADATA'
  | 'TUF_UNSIGNED_METADATA'
  | 'TUF_ROLLBACK'
  | 'TUF_HASH_MISMATCH'
  | 'TUF_DOWNLOAD_FAILED'
  | 'TUF_DOWNLOAD_TOO_LONG'
  | 'TUF_DOWNLOAD_TIMEOUT'
  | 'TUF_SERVER_UNREACHABLE'
  | 'TUF_LIST_TOO_LARGE'
  | 'TUF_METADATA_INVALID';

export class TufError extends CnabsecError<TufErrorCode> {}

export class RepositoryError extends TufError {}
export class UnsignedMetadataError extends RepositoryError {}
export class BadVersionError extends RepositoryError {}
export class EqualVersionError extends BadVersionError {}
export class ExpiredMetadataError extends RepositoryError {}
export class LengthOrHashMismatchError extends RepositoryError {}
export class DownloadError extends TufError {}
export class DownloadLengthMismatchError extends DownloadError {}
export class DownloadHTTPError extends DownloadError {}
