/**
 * The manifest of a trust archive (`cnabsec-trust.json`, ADR 0030) and the bounds of the
 * archive: which entry names the writer uses, how large each may be, and the checks of the
 * manifest document itself (./trust-archive-read.ts applies them while reading).
 */
import { CnabError, type CnabErrorCode } from './errors.js';
import { MAX_BUNDLE_JSON_BYTES } from './bundle.js';
import {
  MANIFEST_NAME,
  TRUST_ARCHIVE_FORMAT,
  type ManifestFile,
  type TrustManifest,
} from './trust-archive.js';
import { checkBundleReference } from '../tuf/names.js';
import { ROOT_MAX_BYTES } from '../tuf/client/guard.js';
import { messageOf } from '../errors.js';
import { quote } from '../util/json.js';

export const TRUST_ARCHIVE_LIMITS = {
  entries: 4096,
  manifestBytes: 1 << 20,
  metadataBytes: 5_000_000,
  targetBytes: 32 << 20,
  smallTotalBytes: 256 << 20,
  thickBundleBytes: 8 * 2 ** 30,
  trailingBytes: 1 << 20,
};
export type TrustArchiveLimits = typeof TRUST_ARCHIVE_LIMITS;

/** The longest `exportedFrom` (a metadata URL) a manifest may give. */
export const MAX_EXPORTED_FROM = 8192;

const HINT =
  'the archive is damaged, was altered or was not written by `cnabsec trust export`: get it again from the connected site';

/** A refusal of the archive `file`, with the hint to export it again. */
export function bad(
  code: CnabErrorCode,
  file: string,
  why: string,
  details: Record<string, unknown> = {},
): CnabError {
  return new CnabError(code, `trust archive ${file}: ${why}`, {
    hint: HINT,
    details: { path: file, ...details },
  });
}

export const META_NAME = /^metadata\/([A-Za-z0-9_%-][A-Za-z0-9._%-]{0,199})$/;
export const TARGET_NAME = /^targets\/(0|[1-9][0-9]{0,4})$/;
export const BUNDLE_NAME = /^bundle\/bundle\.(json|tgz)$/;

/** The most bytes an entry of this name may have (undefined: not a name the writer uses). */
function boundOf(name: string, limits: TrustArchiveLimits): number | undefined {
  const meta = META_NAME.exec(name);
  if (meta !== null)
    return /^[0-9]+\.root\.json$/.test(meta[1] ?? '') ? ROOT_MAX_BYTES : limits.metadataBytes;
  if (TARGET_NAME.test(name)) return limits.targetBytes;
  const b = BUNDLE_NAME.exec(name);
  if (b !== null) return b[1] === 'json' ? MAX_BUNDLE_JSON_BYTES : limits.thickBundleBytes;
  return undefined;
}

export function checkManifest(value: unknown, file: string, limits: TrustArchiveLimits): TrustManifest {
  const m = value as Partial<TrustManifest> | null;
  const fail = (why: string): CnabError =>
    bad('TRUST_ARCHIVE_INVALID', file, `manifest ${MANIFEST_NAME}: ${why}`);
  if (typeof m !== 'object' || m === null || m.format !== TRUST_ARCHIVE_FORMAT)
    throw fail(`format is not ${TRUST_ARCHIVE_FORMAT}`);
  if (
    typeof m.repository !== 'string' ||
    typeof m.target !== 'string' ||
    !m.target.startsWith(`${m.repository}:`)
  )
    throw fail('repository and target must be a repository name and one of its <name>:<tag>');
  let repository: string;
  try {
    repository = checkBundleReference(m.target).repository;
  } catch (e) {
    throw fail(messageOf(e));
  }
  // exactly the target's repository: a shorter name (`example.com` for
  // `example.com:5000/org/app:v1`) would be pinned for every name under it
  if (repository !== m.repository)
    throw fail(`repository ${quote(m.repository, 120)} is not the repository of ${quote(m.target, 300)}`);
  if (typeof m.created !== 'string' || m.created.length > 64 || Number.isNaN(Date.parse(m.created)))
    throw fail('created is not a time');
  // kept in trust.json (read back with a 64 KiB bound): a string of URL size only
  if (typeof m.exportedFrom !== 'string' || m.exportedFrom.length > MAX_EXPORTED_FROM)
    throw fail(`exportedFrom is not a URL of at most ${MAX_EXPORTED_FROM} characters`);
  if (!Array.isArray(m.files) || m.files.length > limits.entries)
    throw fail(`files is not a list of at most ${limits.entries}`);
  const names = new Set<string>();
  let small = 0;
  let bundles = 0;
  for (const f of m.files as Partial<ManifestFile>[]) {
    if (typeof f !== 'object' || f === null || Array.isArray(f))
      throw fail('files must be {name, length, sha256} objects');
    const name = typeof f.name === 'string' ? f.name : '';
    const bound = boundOf(name, limits);
    if (bound === undefined) throw fail(`entry name ${quote(name, 120)} is not one of the archive's`);
    if (names.has(name)) throw fail(`entry ${quote(name)} is listed twice`);
    names.add(name);
    if (!Number.isSafeInteger(f.length) || (f.length ?? -1) < 0 || (f.length ?? 0) > bound)
      throw fail(`entry ${quote(name)}: length must be at most ${bound} bytes`);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
      throw fail(`entry ${quote(name)}: no sha256`);
    if (TARGET_NAME.test(name) !== (typeof f.target === 'string'))
      throw fail(`entry ${quote(name)}: target path`);
    if (BUNDLE_NAME.test(name)) bundles++;
    else small += f.length ?? 0;
  }
  if (bundles > 1) throw fail('more than one bundle');
  if (small > limits.smallTotalBytes)
    throw fail(`metadata and target files over ${limits.smallTotalBytes} bytes`);
  return m as TrustManifest;
}
