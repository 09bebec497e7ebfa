/**
 * `pull` and `clone` (issue 13 item 5): a second maintainer's way to a repository that lives on
 * a metadata repository server. `pullRepository` brings a local repository up to the server's
 * verified state (./remote-sync.ts); `cloneRepository` makes a new local repository from it —
 * configuration and published metadata only: no private key is copied or generated, the
 * maintainer signs with their own key-store keys (the ones root or a delegation lists).
 */
import { canonicalize } from '@tufjs/canonical-json';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { checkRepositoryName } from '../tuf/names.js';
import { DEFAULT_EXPIRY, metadataFileName } from '../tuf/policy.js';
import {
  CONFIG_FILE,
  LocalRepository,
  METADATA_DIR,
  STAGED_DIR,
  type RepositoryConfig,
  type ServerRole,
} from '../tuf/repository.js';
import { FsMetadataStore } from '../tuf/store.js';
import { TufError } from '../tuf/errors.js';
import { checkRootBytes } from '../tuf/client/trust.js';
import { pathExists } from '../util/fs.js';
import { WorkflowError } from './errors.js';
import { serverOf } from './remote-publish.js';
import { RemoteRepository } from './remote.js';
import { applyPull, fetchCurrent, type PullResult, type RemoteState } from './remote-sync.js';

export interface RemoteAccess {
  token?: string;
  timeoutMs?: number;
}

/** The RemoteRepository of a local repository with a server (REMOTE_NOT_CONFIGURED otherwise). */
export function remoteOf(repo: LocalRepository, access: RemoteAccess = {}): RemoteRepository {
  return new RemoteRepository({ server: serverOf(repo).url, repo: repo.config.name, ...access });
}

/** Pull the server's current state into `repo` (run under the repository lock). */
export async function pullRepository(repo: LocalRepository, access: RemoteAccess = {}): Promise<PullResult> {
  const remote = remoteOf(repo, access);
  const published = repo.published.get('root');
  const file = `${METADATA_DIR}/${metadataFileName('root', published?.signed.version ?? 1)}`;
  const trusted = published === undefined ? undefined : await repo.store.read(file);
  const state = await fetchCurrent(remote, trusted);
  if (published === undefined) checkOwnRoot(repo, remote, state);
  return applyPull(repo, state);
}

/**
 * A repository never published trusts no root yet, but it has its own staged root v1 (init):
 * the server's root v1 (trusted on first use by fetchCurrent) must be that root, signatures
 * aside. Otherwise the server holds another repository of this name (or lies), and pulling
 * would make its root this repository's published root.json — the one handed to users.
 */
function checkOwnRoot(repo: LocalRepository, remote: RemoteRepository, state: RemoteState): void {
  const mine = repo.staged.get('root');
  const theirs = state.roots[0];
  if (mine === undefined || theirs === undefined) return;
  const signed = checkRootBytes(theirs.bytes, 'root').signed;
  if (canonicalize(signed.toJSON()) === canonicalize(mine.signed.toJSON())) return;
  throw new WorkflowError(
    'REMOTE_BAD_RESPONSE',
    `${remote.server} serves another root v1 of ${remote.repo} than the one staged in ${repo.store.location}`,
    {
      details: { server: remote.server, repository: remote.repo },
      hint: 'someone else published this name there: check the repository name and server, or `cnabsec clone` it into a new directory to join its maintainers',
    },
  );
}

export interface CloneOptions extends RemoteAccess {
  server: string;
  name: string;
  dir: string;
  /** Roles whose keys the server holds; default: found out from the server and the root. */
  managed?: ServerRole[];
  lockWaitMs?: number;
}

export interface CloneResult extends PullResult {
  name: string;
  location: string;
  server: string;
  managed: ServerRole[];
  /** The newest root (the chain from v1, trusted on first use, verified): compare its keys with the owner's. */
  rootVersion: number;
  rootKeyids: string[];
}

/**
 * The roles the server holds: the timestamp when its key is the root's only timestamp key;
 * then the snapshot likewise (a server-held snapshot comes with a server-held timestamp,
 * ../tuf/repository.ts ServerRole). Asked only when root lists one key (asking creates a
 * key); a 404 (e.g. ONLINE_KEYS_DISABLED: a server holding no keys) means "not held".
 */
async function managedRoles(remote: RemoteRepository, state: RemoteState): Promise<ServerRole[]> {
  const newest = state.roots.at(-1);
  if (newest === undefined) return [];
  const root = checkRootBytes(newest.bytes, 'root').signed;
  const out: ServerRole[] = [];
  for (const role of ['timestamp', 'snapshot'] as const) {
    const r = root.roles[role];
    if (r?.keyIDs.length !== 1 || r.threshold !== 1) break;
    const key = await remote.publicKey(role).catch((e: unknown) => {
      if (e instanceof WorkflowError && e.code === 'REMOTE_REFUSED' && e.details.status === 404)
        return undefined;
      throw e;
    });
    if (key?.keyid !== r.keyIDs[0]) break;
    out.push(role);
  }
  return out.sort();
}

/** A new local repository in `dir` from the server's verified state; nothing is left on failure. */
export async function cloneRepository(options: CloneOptions): Promise<CloneResult> {
  const name = checkRepositoryName(options.name);
  const remote = new RemoteRepository({
    server: options.server,
    repo: name,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const store = new FsMetadataStore(options.dir);
  if ((await store.read(CONFIG_FILE)) !== undefined) {
    throw new TufError('REPO_EXISTS', `a repository already exists at ${options.dir}`, {
      details: { path: options.dir },
      hint: 'clone into a new directory, or run `cnabsec pull` in the existing one',
    });
  }
  // a failed clone removes what it made (below): never a metadata/ or staged/ already there
  for (const sub of [METADATA_DIR, STAGED_DIR]) {
    if (await pathExists(path.join(options.dir, sub))) {
      throw new TufError('REPO_EXISTS', `${path.join(options.dir, sub)} already exists`, {
        details: { path: path.join(options.dir, sub) },
        hint: 'clone into a new or empty directory',
      });
    }
  }
  const state = await fetchCurrent(remote, undefined);
  const managed = options.managed ?? (await managedRoles(remote, state));
  const config: RepositoryConfig = {
    _type: 'cnabsec-repository',
    version: 1,
    name,
    expiry: { ...DEFAULT_EXPIRY },
    serverManaged: managed.length > 0,
    server: { url: remote.server, managed },
  };
  const existed = await pathExists(options.dir);
  try {
    await mkdir(options.dir, { recursive: true });
    const result = await LocalRepository.locked(
      store,
      async () => {
        if ((await store.read(CONFIG_FILE)) !== undefined)
          throw new TufError('REPO_EXISTS', `a repository already exists at ${options.dir}`);
        await store.write(CONFIG_FILE, new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
        return applyPull(await LocalRepository.open(store), state);
      },
      { waitMs: options.lockWaitMs ?? 10_000, create: true },
    );
    const root = checkRootBytes(state.roots.at(-1)?.bytes ?? new Uint8Array(), 'root').signed;
    return {
      ...result,
      name,
      location: options.dir,
      server: remote.server,
      managed,
      rootVersion: root.version,
      rootKeyids: root.roles.root?.keyIDs ?? [],
    };
  } catch (e) {
    if (!existed) await rm(options.dir, { recursive: true, force: true });
    else
      for (const f of [CONFIG_FILE, METADATA_DIR, STAGED_DIR])
        await rm(path.join(options.dir, f), { recursive: true, force: true });
    throw e;
  }
}
