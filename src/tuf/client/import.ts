/**
 * `cnabsec trust import` (ADR 0030): make an offline site able to run the TUF client workflow
 * for a repository from a trust archive's metadata. The metadata is laid out as a TUF metadata
 * repository (`offline/`, ./offline.ts) in a staging directory, next to a copy of the site's
 * metadata cache (or, for a repository not trusted yet, the root pinned with `--root`), and the
 * normal TUF update (§5.3-5.6) runs against it: signatures, thresholds, versions, rollback
 * against what this site trusted before, expiry (unless a grace is given), then the lookup of
 * the target and of every target file of the archive (length and hashes). Only when all of
 * that passed is the staging moved into place, under the entry's lock; on any failure the trust
 * store is as it was. A root is never pinned because it is in an archive.
 */
import type { TargetFile } from '@tufjs/models';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TufError } from '../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { errnoOf } from '../../util/errno.js';
import { quote } from '../../util/json.js';
import { checkMetadataBytes, roleOfFileName } from './guard.js';
import { checkBundleReference } from '../names.js';
import type { GraceAccepted } from './grace.js';
import { BUNDLE_FILE, BUNDLES_DIR, checkTargetPath, OFFLINE_DIR, type BundleKind } from './offline.js';
import {
  checkRootBytes,
  trustDir,
  trustEntryExists,
  trustStoreIo,
  TrustClient,
  type TrustEntry,
} from './trust.js';
import { notTrusted, withTrustLock, type TrustWriteOptions } from './trust-write.js';

export interface ImportInput extends TrustWriteOptions {
  repository: string;
  /** `<repository>:<tag>` the archive was exported for. */
  target: string;
  /** Metadata files by their repository file name (`2.root.json`, `snapshot.json`, ...). */
  metadata: readonly { file: string; bytes: Uint8Array }[];
  /** Target files (in-toto layout, keys, links) by target path. */
  targets: readonly { path: string; bytes: Uint8Array }[];
  /** `--root`: pin this root (only for a repository this site does not trust yet). */
  root?: Uint8Array;
  /** A bundle file (already hashed: `length`, `sha256`), moved into the trust store. */
  bundle?: { kind: BundleKind; file: string; length: number; sha256: string };
  /** The metadata URL of the exporting site, kept for `trust list`. */
  exportedFrom?: string;
  graceMs?: number;
}

export interface ImportResult {
  entry: TrustEntry;
  info: TargetFile;
  /** Whether this import pinned `--root` (the repository was not trusted before). */
  pinned: boolean;
  /** The metadata URL of the entry when it was trusted online before this import (now offline). */
  wasOnline?: string;
  versions: { role: string; version: number }[];
  graceAccepted: GraceAccepted[];
  /** Where the imported bundle is stored. */
  bundle?: string;
}

const STAGING_PREFIX = '.import-';
/** A bundle directory moved aside in the staging: this prefix, then its url-encoded tag. */
const OLD_BUNDLE = 'old-bundle-';

function archiveError(message: string, hint: string, details: Record<string, unknown> = {}): TufError {
  return new TufError('TUF_METADATA_INVALID', message, { details, hint });
}

/** Lay the archive's metadata and target files out as a metadata repository in `mirror`. */
async function writeMirror(mirror: string, input: ImportInput): Promise<void> {
  await fsp.mkdir(path.join(mirror, 'targets'), { recursive: true, mode: 0o700 });
  for (const { file, bytes } of input.metadata) {
    const named = roleOfFileName(file);
    const plain = named === undefined ? '' : `${encodeURIComponent(named.role)}.json`;
    const ok =
      named !== undefined &&
      (named.role === 'root' ? file === `${named.version ?? -1}.root.json` : file === plain);
    if (!ok || named === undefined || file.length > 255) {
      throw archiveError(
        `trust archive: metadata file name ${quote(file, 200)} is not a TUF role file`,
        'the archive was not written by `cnabsec trust export`, or was altered',
      );
    }
    const signed = (checkMetadataBytes(file, bytes, named.role) as { signed: { version: number } }).signed;
    await fsp.writeFile(path.join(mirror, file), bytes, { flag: 'wx' });
    // consistent-snapshot name too (TUF §5.5.1, §5.6.1): the update asks for one or the other
    if (named.role !== 'root' && named.role !== 'timestamp')
      await fsp.writeFile(path.join(mirror, `${signed.version}.${file}`), bytes, { flag: 'wx' });
  }
  for (const t of input.targets) {
    const segments = checkTargetPath(t.path);
    const dir = path.join(mirror, 'targets', ...segments.slice(0, -1));
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const base = segments.at(-1) ?? '';
    await fsp.writeFile(path.join(dir, base), t.bytes, { flag: 'wx' });
    const sha = createHash('sha256').update(t.bytes).digest('hex');
    // tuf-js asks for <hash>.<name> under a consistent snapshot: the first hash listed (sha256 here)
    await fsp.writeFile(path.join(dir, `${sha}.${base}`), t.bytes, { flag: 'wx' });
  }
}

/** The starting metadata cache: the site's (rollback protection) or the root given. */
async function seedCache(dir: string, cache: string, trusted: boolean, root?: Uint8Array): Promise<void> {
  await fsp.mkdir(cache, { recursive: true, mode: 0o700 });
  if (!trusted) {
    await fsp.writeFile(path.join(cache, 'root.json'), root ?? new Uint8Array());
    return;
  }
  const current = path.join(dir, 'metadata');
  for (const f of await fsp.readdir(current)) {
    const st = await fsp.lstat(path.join(current, f));
    if (st.isFile() && f.endsWith('.json')) await fsp.copyFile(path.join(current, f), path.join(cache, f));
  }
}

/** Run the TUF update against the staged mirror; the bundle must be the signed target. */
async function verifyStaged(
  staging: string,
  input: ImportInput,
): Promise<Omit<ImportResult, 'entry' | 'pinned'>> {
  const client = new TrustClient({
    name: input.repository,
    metadataUrl: pathToFileURL(path.join(staging, OFFLINE_DIR)).href,
    cacheDir: path.join(staging, 'metadata'),
    ...(input.graceMs === undefined ? {} : { graceMs: input.graceMs }),
  });
  await client.refresh();
  const info = await client.getTarget(input.target);
  const scratch = path.join(staging, 'scratch');
  await fsp.mkdir(scratch);
  for (const [i, t] of input.targets.entries()) {
    await client.downloadTarget(await client.getTarget(t.path), path.join(scratch, String(i)));
  }
  const b = input.bundle;
  if (b !== undefined && (b.length !== info.length || b.sha256 !== info.hashes.sha256)) {
    throw new TufError('TUF_HASH_MISMATCH', `trust archive: the bundle is not the signed ${input.target}`, {
      details: { target: input.target, trusted: { length: info.length, sha256: info.hashes.sha256 ?? null } },
      hint: 'the archive was altered or mixes two exports: export it again at the connected site',
    });
  }
  return { info, versions: client.trustedRoles(), graceAccepted: client.graceAccepted() };
}

/** rename, or copy then remove across file systems (the archive was read into the temp dir). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
  } catch (e) {
    if (errnoOf(e) !== 'EXDEV') throw e;
    await fsp.copyFile(from, to);
    await fsp.rm(from, { force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}

/** Swap the staged mirror, cache and bundle in; on failure put the previous ones back. */
async function commit(
  dir: string,
  staging: string,
  entry: TrustEntry,
  input: ImportInput,
): Promise<string | undefined> {
  const moved: [string, string][] = [];
  const move = async (from: string, to: string): Promise<void> => {
    await fsp.rename(from, to);
    moved.push([from, to]);
  };
  const tag = input.target.slice(input.repository.length + 1);
  const bundleDir = path.join(dir, BUNDLES_DIR, encodeURIComponent(tag));
  let bundle: string | undefined;
  try {
    for (const d of [OFFLINE_DIR, 'metadata']) {
      if (await exists(path.join(dir, d))) await move(path.join(dir, d), path.join(staging, `old-${d}`));
      await move(path.join(staging, d), path.join(dir, d));
    }
    if (input.bundle !== undefined) {
      const staged = path.join(staging, 'bundle');
      await fsp.mkdir(staged, { mode: 0o700 });
      bundle = path.join(bundleDir, BUNDLE_FILE[input.bundle.kind]);
      await moveFile(input.bundle.file, path.join(staged, BUNDLE_FILE[input.bundle.kind]));
      await fsp.mkdir(path.join(dir, BUNDLES_DIR), { recursive: true, mode: 0o700 });
      if (await exists(bundleDir))
        await move(bundleDir, path.join(staging, `${OLD_BUNDLE}${encodeURIComponent(tag)}`));
      await move(staged, bundleDir);
    }
    await writeFileAtomic(path.join(dir, 'trust.json'), JSON.stringify(entry, null, 2) + '\n');
  } catch (e) {
    for (const [from, to] of moved.reverse()) await fsp.rename(to, from).catch(() => undefined);
    if (errnoOf(e) === undefined) throw e;
    throw trustStoreIo('write', dir, e);
  }
  return bundle;
}

/**
 * Undo what an import killed between its renames left (we hold the entry's lock, so every
 * `.import-*` here is a dead import's staging): a directory moved aside and not replaced is
 * put back (the pinned metadata above all: without it the entry is unusable and unprotected
 * against rollback), then the staging is removed.
 */
async function recoverStaging(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const staging = path.join(dir, name);
    for (const d of [OFFLINE_DIR, 'metadata']) {
      const old = path.join(staging, `old-${d}`);
      if (!(await exists(path.join(dir, d))) && (await exists(old))) await fsp.rename(old, path.join(dir, d));
    }
    for (const f of await fsp.readdir(staging)) {
      const to = path.join(dir, BUNDLES_DIR, f.slice(OLD_BUNDLE.length));
      if (f.startsWith(OLD_BUNDLE) && !(await exists(to))) await fsp.rename(path.join(staging, f), to);
    }
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** The current entry (its `added` time is kept by the import), if readable. */
function currentOf(dir: string): Partial<TrustEntry> {
  try {
    const entry = JSON.parse(readFileSync(path.join(dir, 'trust.json'), 'utf8')) as unknown;
    return typeof entry === 'object' && entry !== null ? entry : {};
  } catch {
    return {};
  }
}

/** Import the metadata of a trust archive for `input.repository` (see the file comment). */
export async function importTrust(home: string, input: ImportInput): Promise<ImportResult> {
  trustDir(home, input.repository); // INVALID_NAME first
  if (checkBundleReference(input.target).repository !== input.repository) {
    throw archiveError(
      `trust archive: target ${quote(input.target)} is not in ${quote(input.repository)}`,
      'the archive was not written by `cnabsec trust export`, or was altered',
    );
  }
  if (input.root !== undefined) checkRootBytes(input.root, 'the given root');
  const dir = trustDir(home, input.repository);
  if (input.root === undefined && !(await trustEntryExists(path.join(dir, 'trust.json'))))
    throw untrusted(input.repository);
  // a refused import of a new repository leaves no trust/ directory it created behind
  const base = path.dirname(dir);
  const hadBase = await exists(base);
  try {
    return await locked(home, input);
  } finally {
    if (!hadBase) await fsp.rmdir(base).catch(() => undefined);
  }
}

function untrusted(repository: string): TufError {
  return new TufError(
    'TRUST_NOT_FOUND',
    `${quote(repository)} is not trusted at this site: an archive's own root is never pinned`,
    {
      cause: notTrusted(repository),
      details: { repository },
      hint: 'give the root obtained from the repository owner through a channel you trust: `cnabsec trust import <archive> --root root.json`',
    },
  );
}

/** The archive as a metadata repository, and the starting cache, in `staging`. */
async function stage(dir: string, staging: string, trusted: boolean, input: ImportInput): Promise<void> {
  const mirror = path.join(staging, OFFLINE_DIR);
  await writeMirror(mirror, input).catch((e: unknown) => {
    if (errnoOf(e) === 'EEXIST') {
      const at = path.relative(mirror, (e as NodeJS.ErrnoException).path ?? mirror);
      throw archiveError(
        `trust archive: two files for one metadata or target name (${quote(at.split(path.sep).join('/'), 300)})`,
        'the archive was altered: export it again',
        { path: at },
      );
    }
    throw errnoOf(e) === undefined ? e : trustStoreIo('write', mirror, e);
  });
  await seedCache(dir, path.join(staging, 'metadata'), trusted, input.root).catch((e: unknown) => {
    throw errnoOf(e) === undefined ? e : trustStoreIo('read', path.join(dir, 'metadata'), e);
  });
}

async function locked(home: string, input: ImportInput): Promise<ImportResult> {
  return withTrustLock(
    home,
    input.repository,
    async (dir) => {
      const trusted = await trustEntryExists(path.join(dir, 'trust.json'));
      if (trusted && input.root !== undefined) {
        throw new TufError(
          'TRUST_EXISTS',
          `${quote(input.repository)} is already trusted: --root is for a repository this site does not trust yet`,
          {
            details: { repository: input.repository },
            hint: `import without --root (the archive's root chain must walk from the root this site trusts); to re-pin a root, \`cnabsec trust reset ${input.repository} --root root.json\` first`,
          },
        );
      }
      if (!trusted && input.root === undefined) throw untrusted(input.repository);
      await recoverStaging(dir).catch((e: unknown) => {
        throw trustStoreIo('write', dir, e);
      });
      const staging = await fsp.mkdtemp(path.join(dir, STAGING_PREFIX));
      try {
        await stage(dir, staging, trusted, input);
        const verified = await verifyStaged(staging, input);
        await fsp.rm(path.join(staging, 'metadata', 'targets'), { recursive: true, force: true });
        const now = new Date().toISOString();
        const previous = trusted ? currentOf(dir) : {};
        const entry: TrustEntry = {
          name: input.repository,
          url: pathToFileURL(path.join(dir, OFFLINE_DIR)).href,
          added: (typeof previous.added === 'string' ? previous.added : undefined) ?? now,
          imported: now,
          ...(input.exportedFrom === undefined ? {} : { exportedFrom: input.exportedFrom }),
        };
        const bundle = await commit(dir, staging, entry, input);
        // trusted online until now: from here on, no update from that URL (said by the CLI)
        const online =
          trusted && previous.imported === undefined && typeof previous.url === 'string'
            ? { wasOnline: previous.url }
            : {};
        return {
          entry,
          pinned: !trusted,
          ...online,
          ...verified,
          ...(bundle === undefined ? {} : { bundle }),
        };
      } finally {
        await fsp.rm(staging, { recursive: true, force: true });
      }
    },
    input,
  );
}
