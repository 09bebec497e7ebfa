/**
 * The error classes of tuf-js and @tufjs/models, for classifying failures by class
 * (./errors.ts). Neither package exports them from its index (tuf-js none, @tufjs/models only
 * `ValueError`), so they come from the `dist/` modules of the pinned versions; ./hooks.ts
 * checks those versions and test/tuf/client-errors.test.js fails when they change.
 */
export {
  BadVersionError as TufjsBadVersionError,
  DownloadError as TufjsDownloadError,
  DownloadHTTPError as TufjsDownloadHTTPError,
  DownloadLengthMismatchError as TufjsDownloadLengthMismatchError,
  EqualVersionError as TufjsEqualVersionError,
  ExpiredMetadataError as TufjsExpiredMetadataError,
  PersistError as TufjsPersistError,
  RepositoryError as TufjsRepositoryError,
  RuntimeError as TufjsRuntimeError,
  ValueError as TufjsValueError,
} from 'tuf-js/dist/error.js';
export {
  CryptoError as ModelsCryptoError,
  LengthOrHashMismatchError as ModelsLengthOrHashMismatchError,
  RepositoryError as ModelsRepositoryError,
  UnsignedMetadataError as ModelsUnsignedMetadataError,
  ValueError as ModelsValueError,
} from '@tufjs/models/dist/error.js';
