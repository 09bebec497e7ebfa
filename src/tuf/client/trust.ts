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
import { pathExists, writeFileAtomic } from '../../util/fs.js';
import { messageOf } from '../../errors.js';
import { quote } from '../../util/json.js';
import { checkRepositoryName, REPOSITORY_GRAMMAR } from '../names.js';

export interface TrustEntry {
  name: string;
  url: string;
  added: string;
}

export interface TrustClientOptions {
  name: string;
  metadataUrl: string;
  cacheDir: string;
  fetcher?: RecordingFetcher;
  targetBaseUrl?: string;
}

export class TrustClient {
  readonly name: string;
  readonly fetcher: RecordingFetcher;
  private updater: Updater;
  private refreshed = false;

  constructor(private readonly options: TrustClientOptions) {
    this.name = options.name;
    this.fetcher = options.fetcher ?? fetcherFor(options.metadataUrl);
    this.updater = this.newUpdater();
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
    return new Updater({
      metadataDir: options.cacheDir,
      metadataBaseUrl: options.metadataUrl,
      // Target files (layouts, keys, links) live under <metadata URL>/targets, as on the
      // metadata repository server (design.md §5).
      targetBaseUrl: options.targetBaseUrl ?? `${options.metadataUrl.replace(/\/+$/, '')}/targets`,
      targetDir: path.join(options.cacheDir, 'targets'),
      fetcher: this.fetcher,
    });
  }

  /**
   * TUF client workflow §5.3–5.5: update root, timestamp, snapshot, targets; when the new
   * root rotated timestamp or snapshot keys and the update failed, apply fast-forward
   * recovery (§5.3.11, ./fastforward.ts) and update once more.
   */
  async refresh(): Promise<void> {
    const before = await trustedKeysSnapshot(this.options.cacheDir);
    try {
      await this.updater.refresh();
      this.refreshed = true;
    } catch (e) {
      if (!(await discardIfRotated(this.options.cacheDir, before)))
        throw wrapClientError(e, this.name, this.fetcher.fetched, this.cached);
      this.updater = this.newUpdater();
      try {
        await this.updater.refresh();
        this.refreshed = true;
      } catch (e2) {
        throw wrapClientError(e2, this.name, this.fetcher.fetched, this.cached);
      }
    }
  }

  /** Verified target info (§5.6, preorder search through delegations); TARGET_NOT_FOUND when absent. */
  async getTarget(targetName: string): Promise<TargetFile> {
    if (!this.refreshed) await this.refresh();
    let info: TargetFile | undefined;
    try {
      info = await this.updater.getTargetInfo(targetName);
    } catch (e) {
      throw wrapClientError(e, this.name, this.fetcher.fetched, this.cached);
    }
    if (info === undefined) {
      throw new TufError('TARGET_NOT_FOUND', `${targetName} is not a signed target of ${this.name}`, {
        details: { repository: this.name, target: targetName },
        hint: 'check the tag; the repository owner publishes targets with `cnabsec bundle add` + `publish`',
      });
    }
    return info;
  }

  /** Download a target file through TUF (verifies length and hashes) into `dest`. */
  async downloadTarget(info: TargetFile, dest: string): Promise<string> {
    try {
      return await this.updater.downloadTarget(info, dest);
    } catch (e) {
      throw wrapClientError(e, this.name, this.fetcher.fetched, this.cached);
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
    root = Metadata.fromJSON(
      kindOf('root') as never,
      JSON.parse(Buffer.from(bytes).toString('utf8')) as never,
    );
  } catch (e) {
    throw new TufError('REPO_CORRUPT', `${where} is not TUF root metadata: ${messageOf(e)}`, {
      cause: e,
      hint: 'the file is truncated or is not a root.json; get the root metadata again from the repository owner',
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

export async function addTrust(
  home: string,
  name: string,
  rootBytes: Uint8Array,
  url: string,
  replace = false,
): Promise<TrustEntry> {
  const dir = trustDir(home, name);
  if (!/^(file|https?):\/\//i.test(url)) {
    throw new TufError('INVALID_ARGUMENT', `cannot fetch metadata from ${quote(url)}`, {
      details: { url },
      hint: 'give a file://, http:// or https:// URL of the metadata directory',
    });
  }
  checkRootBytes(rootBytes, 'the given root');
  if (!replace && (await pathExists(path.join(dir, 'trust.json')))) {
    throw new TufError('TRUST_EXISTS', `${quote(name)} is already trusted`, {
      details: { repository: name },
      hint: 'to re-pin a root distributed out of band, use `cnabsec trust reset`',
    });
  }
  await fsp.rm(path.join(dir, 'metadata'), { recursive: true, force: true });
  await fsp.mkdir(path.join(dir, 'metadata'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path.join(dir, 'metadata', 'root.json'), rootBytes);
  const entry: TrustEntry = { name, url: url.replace(/\/+$/, ''), added: new Date().toISOString() };
  await writeFileAtomic(path.join(dir, 'trust.json'), JSON.stringify(entry, null, 2) + '\n');
  return entry;
}

export async function listTrust(home: string): Promise<TrustEntry[]> {
  let names: string[] = [];
  try {
    names = await fsp.readdir(path.join(home, 'trust'));
  } catch {
    return [];
  }
  const out: TrustEntry[] = [];
  for (const n of names) {
    try {
      out.push(
        JSON.parse(await fsp.readFile(path.join(home, 'trust', n, 'trust.json'), 'utf8')) as TrustEntry,
      );
    } catch {
      /* not a trust entry */
    }
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

export function clientFor(home: string, entry: TrustEntry): TrustClient {
  return new TrustClient({
    name: entry.name,
    metadataUrl: entry.url,
    cacheDir: path.join(trustDir(home, entry.name), 'metadata'),
  });
}
