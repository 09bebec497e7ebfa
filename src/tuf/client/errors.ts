/**
 * Wrap errors of the tuf-js Updater in our error tree: same class family (python-tuf names),
 * plus our `code`, the role and version concerned and where the metadata came from.
 *
 * Failures are classified by the class of the error object (tuf-js and @tufjs/models classes,
 * ./upstream.ts) and the role recorded when it was thrown (./hooks.ts, ./fetcher.ts), never by
 * matching their messages: those repeat values from the metadata, which an attacker chooses,
 * and a regular expression over them can take time quadratic in their length. What is quoted
 * from them into our message is bounded (`quote`).
 */
import {
  BadVersionError,
  DownloadError,
  DownloadHTTPError,
  DownloadLengthMismatchError,
  EqualVersionError,
  ExpiredMetadataError,
  LengthOrHashMismatchError,
  RepositoryError,
  UnsignedMetadataError,
  TufError,
  type TufErrorCode,
} from '../errors.js';
import { messageOf } from '../../errors.js';
import { parseJsonBounded, quote } from '../../util/json.js';
import type { Attempt, Fetched } from './fetcher.js';
import { roleOfFileName } from './guard.js';
import * as up from './upstream.js';

type Ctor = new (code: TufErrorCode, message: string, options?: object) => TufError;
type Upstream = abstract new (...args: never[]) => Error;

/** Most specific class first. */
const BY_CLASS: [Upstream, Ctor, TufErrorCode, string][] = [
  [
    up.TufjsExpiredMetadataError,
    ExpiredMetadataError,
    'TUF_EXPIRED_METADATA',
    'metadata has expired (freeze attack or a repository that was not refreshed)',
  ],
  [
    up.ModelsUnsignedMetadataError,
    UnsignedMetadataError,
    'TUF_UNSIGNED_METADATA',
    'metadata is not signed by a threshold of trusted keys',
  ],
  [
    up.TufjsEqualVersionError,
    EqualVersionError,
    'TUF_ROLLBACK',
    'metadata version did not increase (rollback or replay)',
  ],
  [
    up.TufjsBadVersionError,
    BadVersionError,
    'TUF_ROLLBACK',
    'metadata version is older than trusted (rollback attack)',
  ],
  [
    up.ModelsLengthOrHashMismatchError,
    LengthOrHashMismatchError,
    'TUF_HASH_MISMATCH',
    'metadata does not match the length or hash that signed metadata lists',
  ],
  [
    up.TufjsDownloadLengthMismatchError,
    DownloadLengthMismatchError,
    'TUF_DOWNLOAD_TOO_LONG',
    'a download exceeded its allowed length',
  ],
  [
    up.TufjsDownloadHTTPError,
    DownloadHTTPError,
    'TUF_DOWNLOAD_FAILED',
    'the metadata server did not serve a file',
  ],
  [up.TufjsDownloadError, DownloadError, 'TUF_DOWNLOAD_FAILED', 'a download failed'],
  [up.TufjsRepositoryError, RepositoryError, 'TUF_METADATA_INVALID', 'metadata is not valid'],
  [up.ModelsRepositoryError, RepositoryError, 'TUF_METADATA_INVALID', 'metadata is not valid'],
  [up.ModelsValueError, RepositoryError, 'TUF_METADATA_INVALID', 'metadata is not valid'],
];

/** Errors that, thrown while metadata was verified, mean the metadata is malformed. */
const MALFORMED: Upstream[] = [TypeError, SyntaxError, RangeError, up.ModelsCryptoError];

const GENERIC: [Ctor, TufErrorCode, string] = [RepositoryError, 'TUF_UPDATE_FAILED', 'the TUF update failed'];

/**
 * The error that really happened: tuf-js replaces failures while loading snapshot and targets
 * by a `RuntimeError`; the recorded attempt still has the original.
 */
function effective(e: unknown, attempt: Attempt | undefined): { error: unknown; attempt?: Attempt } {
  const failed = attempt?.error;
  if (failed !== undefined && (failed === e || e instanceof up.TufjsRuntimeError))
    return { error: failed, attempt };
  return { error: e };
}

function classify(error: unknown, attempt: Attempt | undefined): [Ctor, TufErrorCode, string] {
  const hit = BY_CLASS.find(([cls]) => error instanceof cls);
  if (hit !== undefined) return [hit[1], hit[2], hit[3]];
  if (attempt?.kind === 'verify' && MALFORMED.some((cls) => error instanceof cls)) {
    return [RepositoryError, 'TUF_METADATA_INVALID', 'metadata is not valid'];
  }
  return GENERIC;
}

function describe(bytes: Buffer | undefined): { version?: number; expires?: string } {
  if (bytes === undefined) return {};
  try {
    const json = parseJsonBounded(bytes, { source: 'metadata' }) as { signed?: Record<string, unknown> };
    const version = json.signed?.version;
    const expires = json.signed?.expires;
    return {
      ...(Number.isSafeInteger(version) ? { version: version as number } : {}),
      ...(typeof expires === 'string' ? { expires: expires.slice(0, 40) } : {}),
    };
  } catch {
    return {};
  }
}

/** A role name or URL as is when short and printable, else quoted (bounded, escaped). */
function shown(s: string, max = 200): string {
  return s.length <= max && /^[\x21-\x7e]*$/.test(s) ? s : quote(s, max);
}

export interface ClientFailureContext {
  fetched: readonly Fetched[];
  lastAttempt?: Attempt | undefined;
}

function hintFor(code: TufErrorCode): string {
  if (code === 'TUF_EXPIRED_METADATA')
    return 'the repository owner must refresh or re-sign it (`cnabsec refresh` / `cnabsec resign`); do not trust it meanwhile (an offline site with imported metadata may accept it for a while with `--grace <duration>`, warned, then import a newer trust archive)';
  if (code === 'TUF_DOWNLOAD_FAILED')
    return 'check the metadata URL given to `cnabsec trust add` and that the server is up';
  return 'do not use this repository until its owner has fixed it; if the root was replaced out of band, run `cnabsec trust reset`';
}

/**
 * `cached(role)`: the client's cached (trusted) metadata of a role, to describe failures of
 * metadata that did not come from the remote in this update (e.g. an expired pinned root).
 */
export function wrapClientError(
  e: unknown,
  name: string,
  from: ClientFailureContext | readonly Fetched[],
  cached?: (role: string) => Buffer | undefined,
): TufError {
  // a fetcher (its downloads and last attempt), or only the downloads (the former signature)
  const context: ClientFailureContext = Array.isArray(from)
    ? { fetched: from as readonly Fetched[] }
    : (from as ClientFailureContext);
  const { error, attempt } = effective(e, context.lastAttempt);
  if (error instanceof TufError) return error;
  const [Cls, code, what] = classify(error, attempt);
  const { fetched } = context;
  const lastUrl = attempt?.url ?? fetched.at(-1)?.url;
  const role = attempt?.role ?? (lastUrl === undefined ? undefined : roleOfFileName(lastUrl)?.role);
  // Only a download that returned bytes counts as "from the remote" (a 404 is not).
  const fromRemote =
    role === undefined
      ? undefined
      : fetched.findLast((f) => f.bytes !== undefined && roleOfFileName(f.url)?.role === role);
  const source = fromRemote !== undefined ? 'remote' : role === undefined ? 'unknown' : 'cache';
  const fromCache = role === undefined || fromRemote !== undefined ? undefined : cached?.(role);
  const info = describe(fromRemote?.bytes ?? fromCache);
  const where = fromRemote !== undefined ? `remote ${shown(fromRemote.url)}` : source;
  const v = info.version === undefined ? '' : ` v${info.version}`;
  const exp = info.expires === undefined ? '' : `, expires ${shown(info.expires)}`;
  const detail = quote(messageOf(error), 200);
  return new Cls(
    code,
    `${shown(name)}: ${role === undefined ? 'metadata' : shown(role)}${v} from ${where}${exp}: ${what} (${detail})`,
    {
      cause: error,
      details: {
        repository: name,
        role,
        version: info.version,
        expires: info.expires,
        source,
        url: fromRemote?.url,
      },
      hint: hintFor(code),
    },
  );
}
