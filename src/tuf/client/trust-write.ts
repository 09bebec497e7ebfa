/**
 * Writes to the client trust store (`$CNABSEC_HOME/trust/<url-encoded name>/`): `trust add`
 * pins a root, `trust remove` forgets a repository. Each holds the lock of the entry's
 * directory (`<entry>/.cnabsec.lock`, ../lock.ts: the same exclusive lock as repositories),
 * so two commands changing one entry are serialized instead of mixing their files; everything
 * given is checked before the lock is taken, and an entry directory left empty afterwards
 * (a refused add, a removal) is removed.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TufError } from '../errors.js';
import { acquireRepositoryLock, type ReleaseLock } from '../lock.js';
import { writeFileAtomic } from '../../util/fs.js';
import { errnoOf, isNotFound } from '../../util/errno.js';
import { parseJsonBounded, quote } from '../../util/json.js';
import { checkRootBytes, trustDir, trustEntryExists, trustStoreIo, type TrustEntry } from './trust.js';

export interface TrustWriteOptions {
  /** Keep trying this long (ms) while another process holds the entry's lock; default 0. */
  waitMs?: number;
}

/** The metadata URL must be one the client can fetch from. */
export function checkMetadataUrl(url: string): void {
  if (!/^(file|https?):\/\//i.test(url)) {
    throw new TufError('INVALID_ARGUMENT', `cannot fetch metadata from ${quote(url)}`, {
      details: { url },
      hint: 'give a file://, http:// or https:// URL of the metadata directory',
    });
  }
  // user:password@ would be stored and printed, and fetch refuses such URLs on every update
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed !== undefined && (parsed.username !== '' || parsed.password !== '')) {
    parsed.username = '';
    parsed.password = '';
    throw new TufError(
      'INVALID_ARGUMENT',
      `metadata URL ${quote(parsed.href)} with credentials (user:password@)`,
      {
        details: { url: parsed.href },
        hint: 'give the URL without user:password@: TUF metadata is signed and public, cnabsec sends no credentials',
      },
    );
  }
}

export function notTrusted(name: string): TufError {
  return new TufError('TRUST_NOT_FOUND', `${quote(name)} is not a trusted repository`, {
    details: { repository: name },
    hint: '`cnabsec trust list` lists the trusted repositories (names are exact)',
  });
}

/** Create the entry directory; a file in its place is TRUST_STORE_IO (ENOTDIR). */
async function ensureEntryDir(dir: string): Promise<void> {
  try {
    const st = await fsp.lstat(dir).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (st !== undefined && !st.isDirectory())
      throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    if (errnoOf(e) === undefined) throw e;
    throw trustStoreIo('write', dir, e);
  }
}

/** Run `fn` holding the lock of the trust entry of `name`. */
export async function withTrustLock<T>(
  home: string,
  name: string,
  fn: (dir: string) => Promise<T>,
  options: TrustWriteOptions = {},
): Promise<T> {
  const dir = trustDir(home, name);
  await ensureEntryDir(dir);
  let release: ReleaseLock;
  try {
    release = await acquireRepositoryLock(dir, { waitMs: options.waitMs ?? 0 });
  } catch (e) {
    if (e instanceof TufError && e.code === 'STORE_IO') throw trustStoreIo('lock', dir, e.cause);
    if (e instanceof TufError && e.code === 'REPO_NOT_FOUND') throw notTrusted(name); // removed meanwhile
    throw e;
  }
  try {
    return await fn(dir);
  } finally {
    await release();
    // an entry without trust.json (refused add, removal) leaves no directory behind
    if (!(await trustEntryExists(path.join(dir, 'trust.json')).catch(() => true)))
      await fsp.rmdir(dir).catch(() => undefined);
  }
}

/** Replace the pinned root and entry of `dir` (under its lock); the metadata cache restarts. */
export async function writeTrust(dir: string, entry: TrustEntry, rootBytes: Uint8Array): Promise<void> {
  try {
    await fsp.rm(path.join(dir, 'metadata'), { recursive: true, force: true });
    await fsp.mkdir(path.join(dir, 'metadata'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(dir, 'metadata', 'root.json'), rootBytes);
    await writeFileAtomic(path.join(dir, 'trust.json'), JSON.stringify(entry, null, 2) + '\n');
  } catch (e) {
    if (errnoOf(e) === undefined) throw e;
    throw trustStoreIo('write', dir, e);
  }
}

export async function addTrust(
  home: string,
  name: string,
  rootBytes: Uint8Array,
  url: string,
  replace = false,
  options: TrustWriteOptions = {},
): Promise<TrustEntry> {
  trustDir(home, name); // INVALID_NAME first
  checkMetadataUrl(url);
  checkRootBytes(rootBytes, 'the given root');
  return withTrustLock(
    home,
    name,
    async (dir) => {
      if (!replace && (await trustEntryExists(path.join(dir, 'trust.json')))) {
        throw new TufError('TRUST_EXISTS', `${quote(name)} is already trusted`, {
          details: { repository: name },
          hint: `to re-pin a root distributed out of band, use \`cnabsec trust reset ${name} --root root.json\``,
        });
      }
      const entry: TrustEntry = { name, url: url.replace(/\/+$/, ''), added: new Date().toISOString() };
      await writeTrust(dir, entry, rootBytes);
      return entry;
    },
    options,
  );
}

export interface TrustRemoved {
  name: string;
  url: string;
  /** The directory removed. */
  path: string;
}

/** `trust remove`: forget `name`: its entry, pinned root and metadata cache. */
export async function removeTrust(
  home: string,
  name: string,
  options: TrustWriteOptions = {},
): Promise<TrustRemoved> {
  const dir = trustDir(home, name);
  if (!(await trustEntryExists(path.join(dir, 'trust.json')))) throw notTrusted(name);
  return withTrustLock(
    home,
    name,
    async () => {
      const file = path.join(dir, 'trust.json');
      let url = '';
      try {
        const bytes = await fsp.readFile(file);
        const entry = parseJsonBounded(bytes, {
          source: file,
          maxBytes: 64 * 1024,
        }) as Partial<TrustEntry> | null;
        url = typeof entry?.url === 'string' ? entry.url : '';
      } catch (e) {
        if (isNotFound(e)) throw notTrusted(name); // removed while we waited for the lock
        // an unreadable entry is removed all the same
      }
      try {
        await fsp.rm(file, { force: true }); // first: from now on the repository is not trusted
        await fsp.rm(path.join(dir, 'metadata'), { recursive: true, force: true });
        // what `trust import` added (ADR 0030): the offline mirror and the imported bundles
        // and the staging an import killed half-way left (its copies of metadata and bundle)
        const staged = (await fsp.readdir(dir)).filter((d) => d.startsWith('.import-'));
        for (const d of ['offline', 'bundles', ...staged])
          await fsp.rm(path.join(dir, d), { recursive: true, force: true });
      } catch (e) {
        if (errnoOf(e) === undefined) throw e;
        throw trustStoreIo('remove', dir, e);
      }
      return { name, url, path: dir };
    },
    options,
  );
}
