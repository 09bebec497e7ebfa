/**
 * Wrap errors of the tuf-js Updater in our error tree: same class family (python-tuf names),
 * plus our `code`, the role and version concerned and where the metadata came from.
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
import type { Fetched } from './fetcher.js';

type Ctor = new (code: TufErrorCode, message: string, options?: object) => TufError;

const BY_NAME: Record<string, [Ctor, TufErrorCode, string]> = {
  ExpiredMetadataError: [
    ExpiredMetadataError,
    'TUF_EXPIRED_METADATA',
    'metadata has expired (freeze attack or a repository that was not refreshed)',
  ],
  UnsignedMetadataError: [
    UnsignedMetadataError,
    'TUF_UNSIGNED_METADATA',
    'metadata is not signed by a threshold of trusted keys',
  ],
  EqualVersionError: [
    EqualVersionError,
    'TUF_ROLLBACK',
    'metadata version did not increase (rollback or replay)',
  ],
  BadVersionError: [
    BadVersionError,
    'TUF_ROLLBACK',
    'metadata version is older than trusted (rollback attack)',
  ],
  LengthOrHashMismatchError: [
    LengthOrHashMismatchError,
    'TUF_HASH_MISMATCH',
    'metadata does not match the length or hash that signed metadata lists',
  ],
  DownloadLengthMismatchError: [
    DownloadLengthMismatchError,
    'TUF_DOWNLOAD_TOO_LONG',
    'a download exceeded its allowed length',
  ],
  DownloadHTTPError: [DownloadHTTPError, 'TUF_DOWNLOAD_FAILED', 'the metadata server did not serve a file'],
  DownloadError: [DownloadError, 'TUF_DOWNLOAD_FAILED', 'a download failed'],
};

const ROLE_PATTERNS = [
  /Unable to load (snapshot) metadata/,
  /New (timestamp|snapshot) version/,
  /(?:Final )?([A-Za-z0-9%/._-]+?)\.json is expired/,
  /of ([A-Za-z0-9%/._-]+) does not match snapshot/,
  /Missing ([A-Za-z0-9%/._-]+?)\.json/,
  /^([A-Za-z0-9%/._-]+) was signed by/,
  /Snapshot version doesn't match/,
];

function roleFromMessage(msg: string): string | undefined {
  for (const p of ROLE_PATTERNS) {
    const m = p.exec(msg);
    if (m !== null) return m[1] === undefined ? 'snapshot' : decodeURIComponent(m[1]);
  }
  if (/root/i.test(msg)) return 'root';
  return undefined;
}

function roleOfUrl(url: string): { role: string; version?: number } | undefined {
  const m = /(?:^|\/)(?:(\d+)\.)?([^/]+)\.json$/.exec(url);
  if (m?.[2] === undefined) return undefined;
  return { role: decodeURIComponent(m[2]), ...(m[1] === undefined ? {} : { version: Number(m[1]) }) };
}

function describe(fetched: Fetched | undefined): { version?: number; expires?: string } {
  if (fetched?.bytes === undefined) return {};
  try {
    const signed = (
      JSON.parse(fetched.bytes.toString('utf8')) as { signed: { version: number; expires: string } }
    ).signed;
    return { version: signed.version, expires: signed.expires };
  } catch {
    return {};
  }
}

/**
 * tuf-js re-throws failures while loading snapshot and targets as a RuntimeError that carries
 * only the inner error's text ("Unable to load snapshot metadata error Error: ..."): classify
 * by that text.
 */
const INNER: [RegExp, string][] = [
  [/expired/i, 'ExpiredMetadataError'],
  [/signed by|signature|threshold/i, 'UnsignedMetadataError'],
  [/Max length reached|length|hash/i, 'LengthOrHashMismatchError'],
  [/version/i, 'BadVersionError'],
];

function classify(e: unknown): string {
  const errName = e instanceof Error ? e.constructor.name : 'Error';
  if (errName !== 'RuntimeError') return errName;
  const msg = messageOf(e);
  return INNER.find(([p]) => p.test(msg))?.[1] ?? errName;
}

/**
 * `cached(role)`: the client's cached (trusted) metadata of a role, to describe failures of
 * metadata that did not come from the remote in this update (e.g. an expired pinned root).
 */
export function wrapClientError(
  e: unknown,
  name: string,
  fetched: readonly Fetched[],
  cached?: (role: string) => Buffer | undefined,
): TufError {
  if (e instanceof TufError) return e;
  const errName = classify(e);
  const [Cls, code, what] = BY_NAME[errName] ?? [
    RepositoryError,
    'TUF_UPDATE_FAILED',
    'the TUF update failed',
  ];
  const msg = messageOf(e);
  const lastUrl = fetched.at(-1)?.url;
  const role = roleFromMessage(msg) ?? (lastUrl === undefined ? undefined : roleOfUrl(lastUrl)?.role);
  // Only a download that returned bytes counts as "from the remote" (a 404 is not).
  const fromRemote =
    role === undefined
      ? undefined
      : fetched.findLast((f) => f.bytes !== undefined && roleOfUrl(f.url)?.role === role);
  const source = fromRemote !== undefined ? 'remote' : role === undefined ? 'unknown' : 'cache';
  const fromCache = role === undefined || fromRemote !== undefined ? undefined : cached?.(role);
  const info = describe(
    fromRemote ?? (fromCache === undefined ? undefined : { url: 'cache', bytes: fromCache }),
  );
  const where = fromRemote !== undefined ? `remote ${fromRemote.url}` : source;
  const v = info.version === undefined ? '' : ` v${info.version}`;
  const exp = info.expires === undefined ? '' : `, expires ${info.expires}`;
  return new Cls(code, `${name}: ${role ?? 'metadata'}${v} from ${where}${exp}: ${what} (${msg})`, {
    cause: e,
    details: {
      repository: name,
      role,
      version: info.version,
      expires: info.expires,
      source,
      url: fromRemote?.url,
      tufError: errName,
    },
    hint:
      code === 'TUF_EXPIRED_METADATA'
        ? 'the repository owner must refresh or re-sign it (`cnabsec refresh` / `cnabsec resign`); do not trust it meanwhile'
        : code === 'TUF_DOWNLOAD_FAILED'
          ? 'check the metadata URL given to `cnabsec trust add` and that the server is up'
          : 'do not use this repository until its owner has fixed it; if the root was replaced out of band, run `cnabsec trust reset`',
  });
}
