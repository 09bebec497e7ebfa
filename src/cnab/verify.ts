/**
 * The CNAB-Sec verification workflow (doc 303) for bundles obtained as files.
 *
 * Steps, as the document numbers them:
 *   1. TUF update of the bundle repository's metadata and lookup of the bundle target, in
 *      one trusted repository or across several by the rules of a TAP 4 map file;
 *   2. obtain the bundle (a thin `bundle.json` on disk or pulled from a registry: obtainThin, or a thick archive on disk);
 *   3. compare the observed length and hashes with the trusted ones; on mismatch stop;
 *   4. when the target lists in-toto metadata (`custom["in-toto"]`), fetch the root layout,
 *      its public keys and the links through TUF (./provenance-verify.ts);
 *   5. in-toto verification with bounded inspections; any failure refuses the bundle.
 * Every failure has its own code and keeps the underlying error as `cause`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TargetFile } from '@tufjs/models';
import { CnabError, type CnabErrorCode } from './errors.js';
import { checkThinBundle, fileDigest, MAX_BUNDLE_JSON_BYTES, type Digest } from './bundle.js';
import { canonicalize } from '@tufjs/canonical-json';
import { findUnsignableValue, parseJsonBounded } from '../util/json.js';
import { scanThickBundle, type ArchiveLimits } from './archive.js';
import { verifyProvenance } from './provenance-verify.js';
import { isCnabsecError, messageOf } from '../errors.js';
import { clientFor, listTrust, trustFor, type TrustClient } from '../tuf/client/trust.js';
import { resolveWithMap, type MapFile, type RepositoryLookup } from '../tuf/client/map.js';
import { TufError } from '../tuf/errors.js';
import type { GraceAccepted } from '../tuf/client/grace.js';

export interface VerifyOptions {
  /** `<repository>:<tag>` */
  target: string;
  /** Client state directory (trust store). */
  home: string;
  thin?: string;
  thick?: string;
  /**
   * A thin bundle obtained after the TUF update (doc 303 step 2), e.g. pulled from an OCI
   * registry: `fetch` is called with the trusted length as its bound, so that a hostile
   * source cannot make us read more than the signed length. `source` names it in messages.
   */
  obtainThin?: ObtainThin;
  onProgress?: (bytes: number, total: number) => void;
  /** A client to use instead of the trust store's (tests, embedding). */
  client?: TrustClient;
  /** TAP 4 map file: resolve the target across repositories (doc 303 step 1). */
  map?: MapFile;
  /** How to look a target up in one repository of the map (default: trust store + mirrors). */
  lookup?: RepositoryLookup;
  /** With an injected `lookup`: the client of a map repository, for in-toto metadata. */
  mapClient?: (name: string) => TrustClient | undefined;
  /** Name of the bundle in the inspections' directory (default bundle.tgz / bundle.json). */
  bundleFileName?: string;
  /** Bounds of the thick archive scan (decompressed size, entries, time): see archive.ts. */
  archiveLimits?: ArchiveLimits;
  /** Time limit per in-toto inspection (default 60 s). */
  inspectionTimeoutMs?: number;
  warn?: (message: string) => void;
  /** Accept TUF metadata expired for at most this long (`--grace`, ADR 0030); see `graceAccepted`. */
  graceMs?: number;
}

/** A thin bundle's bytes from elsewhere than a file (VerifyOptions.obtainThin). */
export interface ObtainThin {
  source: string;
  fetch(maxBytes: number): Promise<Uint8Array>;
}

/**
 * Default lookup for a map repository: its root must have been pinned with `trust add
 * <name>`; the map's URLs are tried in order as mirrors.
 */
function trustStoreLookup(home: string, answered: Map<string, TrustClient>): RepositoryLookup {
  return async (name, urls, target) => {
    const entry = (await listTrust(home)).find((e) => e.name === name);
    if (entry === undefined) {
      throw new TufError('TRUST_NOT_FOUND', `map repository ${name} is not trusted`, {
        hint: `pin its root first: cnabsec trust add ${name} --root root.json --url ${urls[0] ?? '<url>'}`,
      });
    }
    let last: unknown;
    for (const url of urls) {
      try {
        const client = clientFor(home, { ...entry, url });
        const info = await client.getTarget(target);
        answered.set(name, client); // its updated metadata serves steps 4-5
        return info;
      } catch (e) {
        last = e;
        const down =
          isCnabsecError(e) && (e.code === 'TUF_DOWNLOAD_FAILED' || e.code === 'TUF_SERVER_UNREACHABLE');
        if (!down) throw e; // a mirror may be down; bad data is final
      }
    }
    throw last;
  };
}

export interface VerifiedBundle {
  target: string;
  length: number;
  sha256: string;
  /** The verified bundle.json of a thin bundle. */
  bundle?: Record<string, unknown>;
  custom: Record<string, unknown>;
  /** Roles accepted past their expiry within `graceMs` (to be warned about). */
  graceAccepted?: GraceAccepted[];
}

function fail(code: CnabErrorCode, message: string, cause: unknown, hint: string, details = {}): CnabError {
  return new CnabError(code, message, { cause, hint, details });
}

/** Step 1: TUF update and target lookup. */
async function trustedTarget(options: VerifyOptions): Promise<{ info: TargetFile; client?: TrustClient }> {
  try {
    if (options.map !== undefined) {
      const answered = new Map<string, TrustClient>();
      const r = await resolveWithMap(
        options.map,
        options.target,
        options.lookup ?? trustStoreLookup(options.home, answered),
      );
      // in-toto metadata is fetched through the client of the first repository that agreed
      const first = r.repositories[0] ?? '';
      const client = options.mapClient?.(first) ?? answered.get(first);
      return { info: r.info, ...(client === undefined ? {} : { client }) };
    }
    const client =
      options.client ??
      clientFor(
        options.home,
        await trustFor(options.home, options.target),
        options.graceMs === undefined ? {} : { graceMs: options.graceMs },
      );
    await client.refresh();
    return { info: await client.getTarget(options.target), client };
  } catch (e) {
    const notFound = isCnabsecError(e) && (e.code === 'TARGET_NOT_FOUND' || e.code === 'MAP_NO_MATCH');
    const down = isCnabsecError(e) && e.code === 'TUF_SERVER_UNREACHABLE';
    throw fail(
      notFound ? 'TARGET_NOT_FOUND' : down ? 'TUF_SERVER_UNREACHABLE' : 'TUF_UPDATE_FAILED',
      `${options.target}: ${messageOf(e)}`,
      e,
      isCnabsecError(e) && e.hint !== undefined ? e.hint : 'the trusted metadata could not be updated',
      { target: options.target, step: 1, ...(isCnabsecError(e) ? { tufCode: e.code } : {}) },
    );
  }
}

/** Step 3: length first (cheap), then every trusted hash we can compute. */
function checkDigest(options: VerifyOptions, info: TargetFile, digest: Digest, why?: string): void {
  const trusted = info.hashes.sha256;
  if (digest.length === info.length && trusted !== undefined && trusted === digest.sha256) return;
  throw new CnabError(
    'BUNDLE_HASH_MISMATCH',
    `${options.target}: the bundle does not match its signed metadata${why === undefined ? '' : ` (${why})`}`,
    {
      details: {
        target: options.target,
        step: 3,
        trusted: { length: info.length, sha256: trusted ?? null },
        observed: digest,
      },
      hint: 'the bundle was altered or is another version: discard it and obtain it again from its registry',
    },
  );
}

/**
 * A thin bundle whose bytes do not match, but whose canonical form does (indentation, key
 * order, a trailing newline): the same bundle in another JSON form. Said so, with the
 * canonicalize hint, instead of a plain mismatch; anything else (unreadable, not JSON, another
 * digest) is left to the mismatch. CNAB doc 101: a bundle.json is signed in canonical form.
 */
async function notCanonicalOnly(
  options: VerifyOptions,
  info: TargetFile,
  file: string,
  size: number,
): Promise<void> {
  if (size > MAX_BUNDLE_JSON_BYTES || info.hashes.sha256 === undefined) return;
  let canonical: Buffer;
  try {
    const value = parseJsonBounded(await readFile(file), { source: file, maxBytes: MAX_BUNDLE_JSON_BYTES });
    if (findUnsignableValue(value) !== undefined) return;
    canonical = Buffer.from(canonicalize(value));
  } catch {
    return;
  }
  const sha256 = createHash('sha256').update(canonical).digest('hex');
  if (canonical.length !== info.length || sha256 !== info.hashes.sha256) return;
  throw new CnabError(
    'BUNDLE_NOT_CANONICAL',
    `${options.target}: ${file} is the signed bundle, but not in canonical JSON form (indentation, key order or a trailing newline differ)`,
    {
      details: {
        target: options.target,
        step: 3,
        path: file,
        trusted: { length: info.length, sha256 },
        observed: { length: size },
      },
      hint: `a bundle.json is signed in canonical JSON (CNAB doc 101): cnabsec bundle canonicalize ${file} > bundle.canonical.json, then verify --thin bundle.canonical.json`,
    },
  );
}

async function sizeOf(file: string): Promise<number> {
  try {
    const st = await stat(file);
    // A directory's size would only be reported as "length differs", blaming the bundle.
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EFTYPE' });
    return st.size;
  } catch (e) {
    throw new CnabError('BUNDLE_NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'check the path of the bundle and that it is readable',
    });
  }
}

/**
 * Steps 2-3: obtain the bundle and compare it with the trusted length and sha256. The length
 * is compared before anything is read and the hash before the archive is decompressed, so
 * that a swapped file fails fast whatever it holds; the scan hashes the archive again, so a
 * file changed in between is a mismatch too (the bundle.json returned is from hashed bytes).
 */
async function observe(
  options: VerifyOptions,
  info: TargetFile,
): Promise<{ digest: Digest; bytes?: Buffer; problem?: CnabError }> {
  if (options.obtainThin !== undefined) {
    // doc 303 step 2 after step 1: at most the signed length is read
    const bytes = Buffer.from(await options.obtainThin.fetch(info.length));
    const digest = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    checkDigest(options, info, digest);
    return { bytes, digest };
  }
  const file = options.thin ?? options.thick;
  if (file === undefined) {
    throw new CnabError(
      'BUNDLE_NOT_FOUND',
      'give the bundle to verify: --thin <bundle.json> or --thick <bundle.tgz>',
      {
        hint: 'a thin bundle is the canonical bundle.json from the registry, a thick one its .tgz archive; at an offline site, `cnabsec trust import` of an archive exported with --with-bundle stores it for `verify`',
      },
    );
  }
  const size = await sizeOf(file);
  if (size !== info.length) {
    if (options.thin !== undefined) await notCanonicalOnly(options, info, options.thin, size);
    checkDigest(options, info, { length: size, sha256: '' }, 'length differs');
  }
  if (options.thin !== undefined) {
    const bytes = await readFile(options.thin).catch((e: unknown) => {
      throw new CnabError('BUNDLE_NOT_FOUND', `cannot read ${options.thin}: ${messageOf(e)}`, { cause: e });
    });
    const digest = { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    // same length, other bytes: key order (or spacing traded for it) may be all that differs
    if (digest.sha256 !== info.hashes.sha256) await notCanonicalOnly(options, info, options.thin, size);
    checkDigest(options, info, digest);
    return { bytes, digest };
  }
  checkDigest(options, info, await fileDigest(file, (n) => options.onProgress?.(n, info.length)));
  const scan = await scanThickBundle(file, undefined, options.archiveLimits);
  checkDigest(options, info, scan.digest, 'the file changed while it was read');
  return {
    digest: scan.digest,
    ...(scan.bundleJson === undefined ? {} : { bytes: scan.bundleJson }),
    ...(scan.problem === undefined ? {} : { problem: scan.problem }),
  };
}

/**
 * The bundle as a file for the in-toto inspections: the given file, or (obtainThin) the
 * verified bytes written to a private temporary directory (mkdtemp: 0700), removed afterwards.
 */
async function withBundleFile<T>(
  options: VerifyOptions,
  bytes: Buffer | undefined,
  use: (file: string) => Promise<T>,
): Promise<T> {
  if (options.obtainThin === undefined) return use(options.thin ?? options.thick ?? '');
  const dir = await mkdtemp(path.join(tmpdir(), 'cnabsec-thin-'));
  try {
    const file = path.join(dir, 'bundle.json');
    await writeFile(file, bytes ?? Buffer.alloc(0), { mode: 0o600, flag: 'wx' });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function verifyBundle(options: VerifyOptions): Promise<VerifiedBundle> {
  const { info, client } = await trustedTarget(options); // step 1
  const { digest, bytes, problem } = await observe(options, info); // steps 2-3
  const custom = info.custom;
  // The signed bytes matched; a signed archive without a valid bundle.json is still unusable.
  if (problem !== undefined) throw problem;
  const where = options.obtainThin?.source ?? options.thin ?? `${options.thick ?? ''}:bundle.json`;
  const bundle = bytes === undefined ? undefined : checkThinBundle(bytes, where).bundle;
  if (custom['in-toto'] !== undefined) {
    // Steps 4-5: provenance through TUF, then in-toto verification of this very bundle.
    if (client === undefined) {
      throw new CnabError(
        'INTOTO_METADATA_MISSING',
        `${options.target}: no repository client to fetch its in-toto metadata`,
        {
          details: { target: options.target, step: 4 },
          hint: 'give a mapClient with an injected map lookup',
        },
      );
    }
    await withBundleFile(options, bytes, (bundlePath) =>
      verifyProvenance({
        client,
        target: options.target,
        info,
        bundlePath,
        bundleFileName:
          options.bundleFileName ?? (options.thick === undefined ? 'bundle.json' : 'bundle.tgz'),
        ...(options.inspectionTimeoutMs === undefined
          ? {}
          : { inspectionTimeoutMs: options.inspectionTimeoutMs }),
        ...(options.warn === undefined ? {} : { warn: options.warn }),
      }),
    );
  }
  const graceAccepted = client?.graceAccepted() ?? [];
  return {
    target: options.target,
    length: digest.length,
    sha256: digest.sha256,
    custom,
    ...(bundle === undefined ? {} : { bundle }),
    ...(graceAccepted.length === 0 ? {} : { graceAccepted }),
  };
}
