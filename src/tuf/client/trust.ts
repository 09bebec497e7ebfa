/**
 * The TUF client (spec §5 client workflow) for CNAB-Sec bundle repositories: the real tuf-js
 * `Updater` with our fetchers, a cache directory per repository, and explicit trust on first
 * use — a repository is trusted only after `trust add` pinned its root metadata.
 *
 * Trust store layout: `$CNABSEC_HOME/trust/<url-encoded repository name>/trust.json`
 * (name and metadata URL) and `metadata/` (the tuf-js cache, starting from the pinned root).
 */
import '../models-patch.js'; // linear targets (de)serialization, ADR 0005
import { Metadata, type Root, type TargetFile } from '@tufjs/models';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Updater } from 'tuf-js';
import { authorityStatus } from '../authority.js';
import { TufError } from '../errors.js';
import { kindOf } from '../policy.js';
import { wrapClientError } from './errors.js';
import { discardIfRotated, trustedKeysSnapshot } from './fastforward.js';
import { fetcherFor, type RecordingFetcher } from './fetcher.js';
import { checkMetadataBytes, ROOT_MAX_BYTES } from './guard.js';
import { hookUpdater, traceLocalReads } from './hooks.js';
import { applyGrace, expiredRoles, type GraceAccepted } from './grace.js';
import { listVerifiedTargets, nearestTags, type VerifiedTarget, type TargetsWalker } from './list.js';
import { traceRead } from '../../util/trace.js';
import { isCnabsecError, messageOf } from '../../errors.js';
import { describeErrno, errnoOf, isNotFound } from '../../util/errno.js';
import { isNonIntegerRefusal, ONLY_INTEGERS_HINT, parseJsonBounded, quote } from '../../util/json.js';
import { checkRepositoryName, REPOSITORY_GRAMMAR } from '../names.js';

export interface TrustEntry {
  name: string;
  url: string;
  added: string;
  /** Set by `trust import` (ADR 0030): the metadata URL is the local offline mirror. */
  imported?: string;
  /** The metadata URL of the site the imported archive was exported from. */
  exportedFrom?: string;
}

export interface TrustClientOptions {
  name: string;
  metadataUrl: string;
  cacheDir: string;
  fetcher?: RecordingFetcher;
  targetBaseUrl?: string;
  /** Accept metadata expired for at most this long, and report it (./grace.ts, ADR 0030). */
  graceMs?: number;
}

export class TrustClient {
  readonly name: string;
  readonly fetcher: RecordingFetcher;
  private updater: Updater;
  private refreshed = false;

  /** Throws TRUST_CORRUPT when the pinned root in the cache cannot be loaded (TUF §5.2). */
  constructor(private readonly options: TrustClientOptions) {
    this.name = options.name;
    this.fetcher = options.fetcher ?? fetcherFor(options.metadataUrl);
    this.updater = this.newUpdater();
  }

  /** The pinned root must be readable, bounded TUF root metadata (tuf-js reads it in its constructor). */
  private pinnedRootError(e: unknown): TufError {
    const file = path.join(this.options.cacheDir, 'root.json');
    const missing = (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    const problem = e instanceof TufError ? e.details.problem : undefined;
    const why = typeof problem === 'string' ? problem : quote(messageOf(e), 200);
    return new TufError(
      'TRUST_CORRUPT',
      `${this.name}: the pinned root ${file} ${missing ? 'is missing' : `cannot be loaded: ${why}`}`,
      {
        cause: e,
        details: { repository: this.name, path: file },
        hint: `get root metadata of ${this.name} from its owner through a channel you trust and re-pin it: \`cnabsec trust reset ${this.name} --root root.json\``,
      },
    );
  }

  /** The cached (trusted) metadata of a role, for error messages. */
  private readonly cached = (role: string): Buffer | undefined => {
    try {
      return readFileSync(path.join(this.options.cacheDir, `${encodeURIComponent(role)}.json`));
    } catch {
      return undefined;
    }
  };

  private newUpdater(): Updater {
    const options = this.options;
    let updater: Updater;
    try {
      const rootFile = path.join(options.cacheDir, 'root.json');
      const rootBytes = readFileSync(rootFile);
      traceRead(rootFile, rootBytes.length);
      checkMetadataBytes(rootFile, rootBytes, 'root');
      updater = new Updater({
        metadataDir: options.cacheDir,
        metadataBaseUrl: options.metadataUrl,
        // Target files (layouts, keys, links) live under <metadata URL>/targets, as on the
        // metadata repository server (design.md §5).
        targetBaseUrl: options.targetBaseUrl ?? `${options.metadataUrl.replace(/\/+$/, '')}/targets`,
        targetDir: path.join(options.cacheDir, 'targets'),
        fetcher: this.fetcher,
        // a new root is parsed before its signatures are checked: keep it small (ADR 0009)
        config: { rootMaxLength: ROOT_MAX_BYTES },
      });
    } catch (e) {
      throw this.pinnedRootError(e);
    }
    if (options.graceMs !== undefined) applyGrace(updater, options.graceMs);
    hookUpdater(updater, this.fetcher);
    traceLocalReads(updater, options.cacheDir);
    return updater;
  }

  /** The metadata cache directory and metadata URL (`trust export`, ../client/export.ts). */
  get cacheDir(): string {
    return this.options.cacheDir;
  }

  get metadataUrl(): string {
    return this.options.metadataUrl;
  }

  /** Roles trusted so far in this update, expired at the real time (accepted within the grace). */
  graceAccepted(): GraceAccepted[] {
    return this.options.graceMs === undefined ? [] : expiredRoles(this.updater);
  }

  /** The roles the update and lookups have trusted so far, with their versions. */
  trustedRoles(): { role: string; version: number }[] {
    const set = (this.updater as unknown as { trustedSet?: { trustedSet?: Record<string, unknown> } })
      .trustedSet?.trustedSet;
    if (set === undefined) return [];
    return Object.entries(set).flatMap(([role, md]) => {
      const version = (md as { signed?: { version?: unknown } } | undefined)?.signed?.version;
      return typeof version === 'number' ? [{ role, version }] : [];
    });
  }

  /**
   * TUF client workflow §5.3–5.5: update root, timestamp, snapshot, targets; when the new
   * root rotated timestamp or snapshot keys and the update failed, apply fast-forward
   * recovery (§5.3.11, ./fastforward.ts) and update once more.
   */
  async refresh(): Promise<void> {
    const before = await trustedKeysSnapshot(this.options.cacheDir);
    this.fetcher.lastAttempt = undefined;
    try {
      await this.updater.refresh();
      this.refreshed = true;
    } catch (e) {
      await this.throwIfRemoved(e);
      if (!(await discardIfRotated(this.options.cacheDir, before)))
        throw wrapClientError(e, this.name, this.fetcher, this.cached);
      this.updater = this.newUpdater();
      try {
        await this.updater.refresh();
        this.refreshed = true;
      } catch (e2) {
        await this.throwIfRemoved(e2);
        throw wrapClientError(e2, this.name, this.fetcher, this.cached);
      }
    }
  }

  /**
   * A failure because `cnabsec trust remove` took the metadata cache away while this update
   * ran is TRUST_NOT_FOUND, not a repository fault (whose hint would send the user to
   * `trust reset`).
   */
  private async throwIfRemoved(e: unknown): Promise<void> {
    try {
      await fsp.stat(this.options.cacheDir);
    } catch (s) {
      if (!isNotFound(s)) return;
      throw new TufError(
        'TRUST_NOT_FOUND',
        `${this.name} is no longer trusted: it was removed while this command ran`,
        {
          cause: e,
          details: { repository: this.name },
          hint: `if you still mean to use it, trust it again: \`cnabsec trust add ${this.name} --root root.json --url <metadata url>\``,
        },
      );
    }
  }

  /** Verified target info (§5.6, preorder search through delegations); TARGET_NOT_FOUND when absent. */
  async getTarget(targetName: string): Promise<TargetFile> {
    if (!this.refreshed) await this.refresh();
    let info: TargetFile | undefined;
    this.fetcher.lastAttempt = undefined;
    try {
      info = await this.updater.getTargetInfo(targetName);
    } catch (e) {
      await this.throwIfRemoved(e);
      throw wrapClientError(e, this.name, this.fetcher, this.cached);
    }
    if (info === undefined) throw await this.notFound(targetName);
    return info;
  }

  /** TARGET_NOT_FOUND; for `<name>:<tag>`, the hint names the nearest signed tags (./list.ts). */
  private async notFound(targetName: string): Promise<TufError> {
    const prefix = `${this.name}:`;
    let tags: string[] | undefined;
    if (targetName.startsWith(prefix)) {
      try {
        tags = (await this.signedTags()).map((t) => t.info.path.slice(prefix.length));
      } catch {
        tags = undefined; // the listing failed: the plain hint
      }
    }
    const nearest = tags === undefined ? [] : nearestTags(targetName.slice(prefix.length), tags);
    const all = `\`cnabsec list ${this.name}\``;
    const hint =
      nearest.length > 0
        ? `the nearest signed tags: ${nearest.join(', ')} (all of them: ${all})`
        : tags?.length === 0
          ? `${this.name} has no signed tags yet; its owner publishes them with \`cnabsec bundle add\` + \`publish\``
          : `check the tag (${all} lists the signed tags); the repository owner publishes targets with \`cnabsec bundle add\` + \`publish\``;
    return new TufError('TARGET_NOT_FOUND', `${targetName} is not a signed target of ${this.name}`, {
      details: { repository: this.name, target: targetName, ...(tags === undefined ? {} : { nearest }) },
      hint,
    });
  }

  /**
   * Every signed target a lookup resolves, with the role it is found in (./list.ts), sorted;
   * `wanted` selects target names (default all).
   */
  async listTargets(wanted?: (name: string) => boolean): Promise<VerifiedTarget[]> {
    if (!this.refreshed) await this.refresh();
    this.fetcher.lastAttempt = undefined;
    try {
      return await listVerifiedTargets(this.walker(), this.name, wanted);
    } catch (e) {
      await this.throwIfRemoved(e);
      throw wrapClientError(e, this.name, this.fetcher, this.cached);
    }
  }

  /** The signed tags `<name>:<tag>` of this repository (`cnabsec list`). */
  signedTags(): Promise<VerifiedTarget[]> {
    const prefix = `${this.name}:`;
    return this.listTargets((n) => n.startsWith(prefix) && n.length > prefix.length);
  }

  /** The Updater's verifying loader of targets roles (private in tuf-js 5.0.1, as in ./hooks.ts). */
  private walker(): TargetsWalker {
    const updater = this.updater;
    const load = (updater as unknown as Record<string, unknown>).loadTargets;
    if (typeof load !== 'function') {
      throw new TufError('TUF_UPDATE_FAILED', `${this.name}: this tuf-js cannot list targets`, {
        hint: 'cnabsec expects tuf-js 5.0.1; reinstall cnabsec with its locked dependencies',
      });
    }
    return {
      loadTargets: (role, parent) => (load as TargetsWalker['loadTargets']).call(updater, role, parent),
      getTargetInfo: (name) => updater.getTargetInfo(name),
    };
  }

  /** Download a target file through TUF (verifies length and hashes) into `dest`. */
  async downloadTarget(info: TargetFile, dest: string): Promise<string> {
    this.fetcher.lastAttempt = undefined;
    try {
      return await this.updater.downloadTarget(info, dest);
    } catch (e) {
      throw wrapClientError(e, this.name, this.fetcher, this.cached);
    }
  }
}

// ---- trust store ------------------------------------------------------------------------

/**
 * The directory of trust name `name`: `<home>/trust/<url-encoded name>`. The name must be a
 * repository name (./names.ts); and, should that check ever be bypassed, the directory must
 * still be a child of `<home>/trust` (encodeURIComponent keeps `.` and `..`).
 */
export function trustDir(home: string, name: string): string {
  checkRepositoryName(name, 'trust name');
  const base = path.resolve(home, 'trust');
  const dir = path.resolve(base, encodeURIComponent(name));
  if (path.dirname(dir) !== base || dir === base) {
    throw new TufError('INVALID_NAME', `trust name ${quote(name)} would leave ${base}`, {
      details: { name: name.slice(0, 256) },
      hint: REPOSITORY_GRAMMAR,
    });
  }
  return dir;
}

/** Parse root metadata and check it is signed by a threshold of its own root keys. */
export function checkRootBytes(bytes: Uint8Array, where: string): Metadata<Root> {
  let root: Metadata<Root>;
  try {
    root = Metadata.fromJSON(kindOf('root') as never, checkMetadataBytes(where, bytes, 'root') as never);
  } catch (e) {
    throw new TufError('REPO_CORRUPT', `${where} is not TUF root metadata: ${quote(messageOf(e), 200)}`, {
      cause: e,
      hint: isNonIntegerRefusal(e)
        ? ONLY_INTEGERS_HINT
        : 'the file is truncated or is not a root.json; get the root metadata again from the repository owner',
    });
  }
  const role = root.signed.roles.root;
  const status =
    role === undefined
      ? undefined
      : authorityStatus(root, {
          source: 'itself',
          keys: root.signed.keys,
          keyIDs: role.keyIDs,
          threshold: role.threshold,
        });
  if (status?.met !== true) {
    throw new TufError(
      'TUF_UNSIGNED_METADATA',
      `${where}: root v${root.signed.version} is not signed by a threshold of its own keys`,
      {
        hint: 'get the root metadata from the repository owner through a channel you trust',
      },
    );
  }
  return root;
}

export function trustStoreIo(op: string, p: string, e: unknown): TufError {
  return new TufError('TRUST_STORE_IO', `cannot ${op} ${p}: ${describeErrno(e)}`, {
    cause: e,
    details: { path: p, errno: errnoOf(e) },
    hint: `check ${p}: the trust store is a directory you can read, with one <name>/trust.json per trusted repository`,
  });
}

/** Whether a trust entry exists (ENOENT: no; any other failure: TRUST_STORE_IO). */
export async function trustEntryExists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw trustStoreIo('read', file, e);
  }
}

/** One trust entry; undefined when `dir` holds none (absent, or a stray file in trust/). */
async function readTrustEntry(dir: string): Promise<TrustEntry | undefined> {
  const file = path.join(dir, 'trust.json');
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
    traceRead(file, bytes.length);
  } catch (e) {
    if (isNotFound(e) || errnoOf(e) === 'ENOTDIR') return undefined;
    throw trustStoreIo('read', file, e);
  }
  let entry: Partial<TrustEntry> | undefined;
  try {
    entry = parseJsonBounded(bytes, { source: file, maxBytes: 64 * 1024 }) as Partial<TrustEntry>;
  } catch (e) {
    if (!isCnabsecError(e)) throw e;
  }
  if (typeof entry?.name !== 'string' || typeof entry.url !== 'string') {
    throw new TufError('TRUST_STORE_CORRUPT', `${file} is not a trust entry`, {
      details: { path: file },
      // `trust add` refuses while the entry exists (TRUST_EXISTS): the directory goes first.
      hint: `it holds {name, url, added}; remove ${path.dirname(file)} and run \`cnabsec trust add\` again for that repository`,
    });
  }
  return entry as TrustEntry;
}

export async function listTrust(home: string): Promise<TrustEntry[]> {
  const dir = path.join(home, 'trust');
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw trustStoreIo('list', dir, e);
  }
  const out: TrustEntry[] = [];
  for (const n of names) {
    const entry = await readTrustEntry(path.join(dir, n));
    if (entry !== undefined) out.push(entry);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The trusted repository holding `target` (`<name>:<tag>` or `<name>/<path>`), longest name first. */
export async function trustFor(home: string, target: string): Promise<TrustEntry> {
  const entries = (await listTrust(home)).sort((a, b) => b.name.length - a.name.length);
  const hit = entries.find(
    (e) => target.startsWith(`${e.name}:`) || target.startsWith(`${e.name}/`) || target === e.name,
  );
  if (hit === undefined) {
    throw new TufError('TRUST_NOT_FOUND', `no trusted repository for ${quote(target)}`, {
      details: { target },
      hint: 'trust the repository first: `cnabsec trust add <name> --root root.json --url <metadata url>`',
    });
  }
  return hit;
}

export function clientFor(home: string, entry: TrustEntry, options: { graceMs?: number } = {}): TrustClient {
  return new TrustClient({
    name: entry.name,
    metadataUrl: entry.url,
    cacheDir: path.join(trustDir(home, entry.name), 'metadata'),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
  });
}
