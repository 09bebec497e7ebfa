import { CnabsecError } from '../errors.js';

/** Codes of the server layer (`cnabsec serve`). */
export type ServerErrorCode =
  /** The directory to serve does not exist or cannot be opened. */
  | 'SERVER_DIRECTORY'
  /** The address cannot be listened on (in use, not local, not permitted). */
  | 'SERVER_LISTEN_FAILED'
  /** A `cnabsec server` setting is bad: a flag, CNABSEC_SERVER_* variable or server.json key (named), or the file itself. */
  | 'SERVER_CONFIG'
  /** A TLS certificate or key file of `cnabsec server` cannot be read or does not load. */
  | 'SERVER_TLS'
  /** An upload was refused by `validateUpload` (./validate.ts); `details` is the refusal. */
  | 'UPLOAD_REFUSED'
  /** A store write lost a race: the version (or the state it was based on) was taken first (HTTP 409). */
  | 'VERSION_CONFLICT'
  /** A store write waited longer than allowed for its repository's lock, or the database was locked (HTTP 503). */
  | 'STORE_BUSY'
  /** The store's database cannot be opened, read or written (a disk, permission or corruption error). */
  | 'STORE_IO'
  /** The database's schema is newer than this cnabsec knows (written by a later version). */
  | 'STORE_SCHEMA'
  /** A metadata file or target file above the store's configured size limit. */
  | 'STORE_TOO_LARGE'
  /** No master key configured: neither CNABSEC_SERVER_MASTER_KEY nor a master key file (ADR 0021). */
  | 'MASTER_KEY_MISSING'
  /** The master key is not exactly 32 bytes of hex, base64 or raw bytes, or its file cannot be read. */
  | 'MASTER_KEY_INVALID'
  /** The master key file is readable or writable by group or others (must be mode 0600). */
  | 'MASTER_KEY_UNSAFE'
  /** A sealed online key was sealed under a master key (kek id) that is not loaded. */
  | 'KEK_UNKNOWN'
  /** A sealed online key does not open: wrong master key, moved to another repo/role/keyid, or tampered. */
  | 'UNSEAL_FAILED'
  /** The server holds no online key with that key id for that repository and role. */
  | 'ONLINE_KEY_UNKNOWN'
  /** The online key was retired (a later root no longer lists it); it signs nothing. */
  | 'ONLINE_KEY_RETIRED'
  /** The service runs without online keys (developer-managed repositories only): no key endpoints, no server signing. */
  | 'ONLINE_KEYS_DISABLED'
  /** A key endpoint was asked for a role the server never holds (only `timestamp` and `snapshot`, doc 302). */
  | 'ONLINE_ROLE_INVALID'
  /** An HTTP request names a bad part: repository, role, version, checksum, target path or multipart field (400). */
  | 'BAD_REQUEST'
  /** No metadata, target file or route at that path (404). */
  | 'NOT_FOUND'
  /** The Authorization header is not `Bearer <token>`, or the token is refused (401, WWW-Authenticate: Bearer). */
  | 'UNAUTHORIZED'
  /** A request body, upload part or the whole upload is above its size limit (413). */
  | 'TOO_LARGE'
  /** A request body of a content type the route does not take, e.g. an upload that is not multipart/form-data (415). */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** A valid token whose scope or repository patterns do not cover the request (403; never says whether the repository exists). */
  | 'FORBIDDEN'
  /** A token repository pattern (or an `anonymousRead` pattern) is not a pattern (./tokens.ts). */
  | 'TOKEN_PATTERN'
  /** No token with that id in the server's database (`server-token revoke`). */
  | 'TOKEN_UNKNOWN';

/** Errors of the server layer. */
export class ServerError extends CnabsecError<ServerErrorCode> {}

/**
 * Why an upload is refused (ADR 0019), after notary's `tuf/validation/errors.go` (ErrBadRoot,
 * ErrBadTargets, ErrBadSnapshot, ErrBadHierarchy) and its server errors (ErrOldVersion,
 * MALFORMED_JSON), plus what notary folds into them.
 */
export type UploadRefusalCode =
  /** An uploaded root does not verify, skips a version, or lists no usable roles. */
  | 'BAD_ROOT'
  /** An uploaded (or kept) targets or delegated role does not verify, or signs outside its paths. */
  | 'BAD_TARGETS'
  /** An uploaded snapshot does not verify or does not list exactly the roles that will be current. */
  | 'BAD_SNAPSHOT'
  /** An uploaded timestamp does not verify or does not list the snapshot that will be current. */
  | 'BAD_TIMESTAMP'
  /** The set of roles is not a repository: a role missing that the server cannot make, a role nobody delegates. */
  | 'BAD_HIERARCHY'
  /** A version not above the current one (root: not the current + 1). */
  | 'OLD_VERSION'
  /** A role already expired at the time of the upload. */
  | 'EXPIRED'
  /** A role or target file above its size limit. */
  | 'TOO_LARGE'
  /** A target file no signed role lists with its length and sha256. */
  | 'BAD_TARGET_FILE'
  /** Not metadata at all: bad JSON, non-integers, a wrong shape, a duplicate part, an unknown role name. */
  | 'MALFORMED';

/** A refused upload: which role (or target file path), which version, which rule; one line. */
export interface UploadRefusal {
  code: UploadRefusalCode;
  /** The role refused, or for BAD_TARGET_FILE and target-file TOO_LARGE the target path. */
  role: string;
  /** The uploaded version of that role, when it could be read. */
  version?: number;
  /** Stable name of the rule, e.g. `threshold`, `old-root-threshold`, `snapshot-meta`. */
  rule: string;
  message: string;
}

/** The ServerError a caller throws for a refusal (UPLOAD_REFUSED, the refusal as details). */
export function uploadRefused(refusal: UploadRefusal): ServerError {
  return new ServerError('UPLOAD_REFUSED', refusal.message, {
    details: { ...refusal },
    hint: 'fix the named role (sign, re-version or re-publish from the current state) and upload again; nothing was stored',
  });
}
