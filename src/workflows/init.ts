/**
 * Setting up a bundle's TUF repository (CNAB-Sec doc 302 "Setup", doc 301 MVP roles), after
 * python-tuf's `Repository` and go-tuf's `repository` examples: `planInit` checks every input
 * and resolves the given keys (it generates and writes nothing); `applyInit` generates the new
 * keys, creates the repository under its writer lock, sets up provenance (doc 301 in-toto
 * extension) and records it in the known-repositories registry. If any step fails, the
 * keys it generated and the files it created are removed again: a failed init leaves no trace.
 */
import { rm, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';
import type { KeyType } from '../crypto/keys.js';
import { TufError } from '../tuf/errors.js';
import { checkRepositoryName } from '../tuf/names.js';
import {
  checkExpiryPolicy,
  parseDuration,
  TOP_LEVEL_ROLES,
  type ExpiryPolicy,
  type TopLevelRole,
} from '../tuf/policy.js';
import { LocalRepository, type RepositoryServer, type RoleKeys, type ServerRole } from '../tuf/repository.js';
import { RemoteRepository } from './remote.js';
import { FsMetadataStore } from '../tuf/store.js';
import { checkNotExpired } from '../tuf/publish.js';
import { checkLayout, setupProvenance, type LayoutInput } from '../cnab/provenance.js';
import { pathExists } from '../util/fs.js';
import { WorkflowError } from './errors.js';
import { knownRepositories, rememberRepository } from './known-repos.js';
import {
  checkKeyType,
  KeyGenerator,
  NEW_KEY,
  resolveKeyRefs,
  type KeyRef,
  type PlannedKey,
} from './key-refs.js';

/** Keys of one role: given keys, and a total `count` (new keys make up the difference). */
export interface InitRoleOptions {
  keys?: KeyRef[];
  /** Number of keys (default 1, at least the number given). */
  count?: number;
  /** Default: 1 for one key, else a majority of the keys (floor(n/2)+1). */
  threshold?: number;
}

export interface InitOptions {
  /** Directory of the new repository (it may exist, but must hold no repository). */
  dir: string;
  /** OCI repository name, e.g. `example.com/org/bundle`: required unless `nameFromDir`. */
  name?: string;
  /** Use the directory's name as the repository name (still checked by the OCI grammar). */
  nameFromDir?: boolean;
  keyType?: string;
  /** Timestamp and snapshot keys held by the metadata repository server: give their public keys. */
  serverManaged?: boolean;
  /**
   * The roles whose keys the server holds (default: both with `serverManaged`, `timestamp`
   * with `server`). Without `server`, their public keys are given as the roles' keys.
   */
  serverRoles?: ServerRole[];
  /**
   * The metadata repository server this repository publishes to (issue 13): the public keys
   * of `serverRoles` are fetched from it (GET …/<role>.key, which creates them) and its URL
   * is recorded in cnabsec.json.
   */
  server?: { url: string; token?: string; timeoutMs?: number };
  roles?: Partial<Record<TopLevelRole, InitRoleOptions>>;
  /** Expiry periods: seconds or durations such as `30d` (./tuf/policy.ts refresh rule applies). */
  expiry?: Partial<Record<TopLevelRole | 'delegated', number | string>>;
  /** Provenance (doc 301 in-toto extension): the signed root layout and targets/releases keys. */
  inToto?: { layout: LayoutInput; releases?: InitRoleOptions };
  /** Resolves key-store ids among the given keys. */
  keyStore?: KeyStore;
}

export interface InitRolePlan {
  role: string;
  keys: PlannedKey[];
  threshold: number;
  /** Set when the threshold was not given and a majority of the keys was chosen. */
  thresholdDefault?: 'majority';
}

export interface InitPlan {
  dir: string;
  name: string;
  nameFromDir: boolean;
  keyType: KeyType;
  serverManaged: boolean;
  /** The server and the roles it holds, as recorded in cnabsec.json. */
  server?: RepositoryServer;
  roles: Record<TopLevelRole, InitRolePlan>;
  expiry: Partial<ExpiryPolicy>;
  inToto?: { layout: LayoutInput; releases: InitRolePlan };
}

function invalid(message: string, hint: string, details: Record<string, unknown> = {}): WorkflowError {
  return new WorkflowError('WORKFLOW_INVALID_PLAN', message, { hint, details });
}

function repositoryName(opts: InitOptions): { name: string; nameFromDir: boolean } {
  if (opts.name !== undefined && opts.nameFromDir === true) {
    throw invalid('give a repository name or take it from the directory, not both', 'drop --name-from-dir');
  }
  if (opts.name !== undefined) return { name: checkRepositoryName(opts.name), nameFromDir: false };
  if (opts.nameFromDir !== true) {
    throw new WorkflowError('NAME_REQUIRED', `init of ${opts.dir} needs the bundle repository name`, {
      details: { dir: opts.dir },
      hint: 'give --name <oci name> (e.g. example.com/org/bundle), or --name-from-dir',
    });
  }
  const name = path.basename(path.resolve(opts.dir));
  return { name: checkRepositoryName(name, 'repository name (the directory name)'), nameFromDir: true };
}

/** A role's keys and threshold; `flag` names the options in hints (`root`, `releases`). */
async function rolePlan(
  role: string,
  flag: string,
  input: InitRoleOptions | undefined,
  store: KeyStore | undefined,
): Promise<InitRolePlan> {
  const given = input?.keys ?? [];
  for (const [what, n] of [
    ['count', input?.count],
    ['threshold', input?.threshold],
  ] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 1))
      throw invalid(
        `${role}: ${what} ${n} is not a positive integer`,
        `give --${flag}-keys/--${flag}-threshold >= 1`,
      );
  }
  const count = Math.max(input?.count ?? 1, given.length);
  const threshold = input?.threshold ?? (count === 1 ? 1 : Math.floor(count / 2) + 1);
  if (threshold > count) {
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `${role}: threshold ${threshold} is more than its ${count} key(s)`,
      {
        details: { role, threshold, keys: count },
        hint: `raise --${flag}-keys or lower --${flag}-threshold`,
      },
    );
  }
  const keys = await resolveKeyRefs(store, given);
  while (keys.length < count) keys.push(NEW_KEY);
  return {
    role,
    keys,
    threshold,
    ...(input?.threshold === undefined && count > 1 ? { thresholdDefault: 'majority' as const } : {}),
  };
}

function expiryOf(input: InitOptions['expiry']): Partial<ExpiryPolicy> {
  const out: Partial<ExpiryPolicy> = {};
  for (const [role, v] of Object.entries(input ?? {}) as [keyof ExpiryPolicy, number | string][]) {
    if (v === undefined) continue;
    out[role] = typeof v === 'number' ? v : parseDuration(v);
    if (!Number.isInteger(out[role]) || (out[role] ?? 0) < 1)
      throw invalid(`${role} expiry ${v} is not a positive number of seconds`, 'give a duration such as 30d');
  }
  return checkExpiryPolicy(out);
}

async function checkNoRepository(dir: string): Promise<void> {
  await LocalRepository.open(new FsMetadataStore(dir)).then(
    () => {
      throw new TufError('REPO_EXISTS', `a repository already exists at ${dir}`, {
        details: { path: dir },
        hint: 'choose another directory',
      });
    },
    (e: unknown) => {
      if (!(e instanceof TufError && e.code === 'REPO_NOT_FOUND')) throw e;
    },
  );
}

function serverRolesOf(opts: InitOptions): ServerRole[] {
  const roles = opts.serverRoles ?? (opts.serverManaged === true ? ['snapshot', 'timestamp'] : undefined);
  const list = roles ?? (opts.server === undefined ? [] : ['timestamp']);
  const out = SERVER_ROLES.filter((r) => list.includes(r));
  if (out.includes('snapshot') && !out.includes('timestamp')) {
    throw invalid(
      'a server that holds the snapshot key holds the timestamp key too',
      'give --server-managed snapshot,timestamp or --server-managed timestamp',
    );
  }
  return out;
}

const SERVER_ROLES: readonly ServerRole[] = ['snapshot', 'timestamp'];

/** The server's public keys of the roles it holds (fetched, which creates them), as the roles' keys. */
async function serverKeys(
  opts: InitOptions,
  name: string,
  managed: ServerRole[],
): Promise<{ config: RepositoryServer; keys: Partial<Record<TopLevelRole, InitRoleOptions>> }> {
  const remote = new RemoteRepository({
    server: opts.server?.url ?? '',
    repo: name,
    ...(opts.server?.token === undefined ? {} : { token: opts.server.token }),
    ...(opts.server?.timeoutMs === undefined ? {} : { timeoutMs: opts.server.timeoutMs }),
  });
  const keys: Partial<Record<TopLevelRole, InitRoleOptions>> = {};
  for (const role of managed) {
    const given = opts.roles?.[role];
    if ((given?.keys ?? []).length > 0 || (given?.count ?? 1) !== 1 || (given?.threshold ?? 1) !== 1) {
      throw invalid(
        `${role} is held by the server: its one key comes from ${remote.server}`,
        `drop --${role}-key, --${role}-keys and --${role}-threshold, or leave ${role} out of --server-managed`,
        { role },
      );
    }
    keys[role] = { keys: [(await remote.publicKey(role)).public], count: 1, threshold: 1 };
  }
  return { config: { url: remote.server, managed }, keys };
}

/**
 * Check every input of an init and resolve the given keys; nothing is generated or written
 * here. With a server, its public keys are fetched (the server creates a key on first request).
 */
export async function planInit(opts: InitOptions): Promise<InitPlan> {
  const keyType = checkKeyType(opts.keyType);
  const { name, nameFromDir } = repositoryName(opts);
  await checkNoRepository(opts.dir);
  const managed = serverRolesOf(opts);
  const serverManaged = managed.length > 0;
  const server = opts.server === undefined ? undefined : await serverKeys(opts, name, managed);
  const roles = {} as Record<TopLevelRole, InitRolePlan>;
  for (const role of TOP_LEVEL_ROLES) {
    const input = server?.keys[role] ?? opts.roles?.[role];
    if (managed.includes(role as ServerRole) && (input?.keys ?? []).length === 0) {
      throw new TufError('INVALID_ARGUMENT', `--server-managed needs the server's ${role} public key`, {
        hint: `pass --${role}-key <pem file> with the key the metadata repository server published`,
      });
    }
    roles[role] = await rolePlan(role, role, input, opts.keyStore);
  }
  const expiry = expiryOf(opts.expiry);
  let inToto: InitPlan['inToto'];
  if (opts.inToto !== undefined) {
    checkLayout(opts.inToto.layout);
    const releases = await rolePlan('targets/releases', 'releases', opts.inToto.releases, opts.keyStore);
    inToto = { layout: opts.inToto.layout, releases };
  }
  return {
    dir: opts.dir,
    name,
    nameFromDir,
    keyType,
    serverManaged,
    ...(server === undefined ? {} : { server: server.config }),
    roles,
    expiry,
    ...(inToto === undefined ? {} : { inToto }),
  };
}

export interface ApplyInitOptions {
  keyStore: KeyStore;
  passphrases: PassphraseSource;
  /** Home of the known-repositories registry (default: the key store's home). */
  home?: string;
  /** How long to wait for the repository lock (default 10 s). */
  lockWaitMs?: number;
  now?: Date;
  /** Aborted (e.g. on Ctrl-C): no further key is generated and the apply rolls back. */
  signal?: AbortSignal;
}

export interface InitResult {
  name: string;
  location: string;
  roles: Record<TopLevelRole, { keyids: string[]; threshold: number; thresholdDefault?: 'majority' }>;
  /** Key ids generated in the key store. */
  generated: string[];
  inToto: boolean;
  repository: LocalRepository;
}

/** Undo what a failed apply created in `dir` (`existed`: whether the directory was there before). */
async function removeCreated(dir: string, existed: boolean | undefined, created: boolean): Promise<void> {
  if (existed === false && created) await rm(dir, { recursive: true, force: true });
  else if (existed === false) await rmdir(dir).catch(() => undefined);
  else if (existed === true && created) {
    for (const f of ['cnabsec.json', 'staged']) await rm(path.join(dir, f), { recursive: true, force: true });
  }
}

/** Generate keys, create the repository and provenance as `plan` says; roll back on failure. */
export async function applyInit(plan: InitPlan, options: ApplyInitOptions): Promise<InitResult> {
  const home = options.home ?? path.dirname(options.keyStore.dir);
  await knownRepositories(home); // a broken registry is refused before anything is generated
  const gen = new KeyGenerator(options.keyStore, options.passphrases, plan.keyType, options.signal);
  const fsStore = new FsMetadataStore(plan.dir);
  let existed: boolean | undefined;
  let created = false;
  try {
    const roles = {} as Record<TopLevelRole, RoleKeys>;
    for (const role of TOP_LEVEL_ROLES) {
      const p = plan.roles[role];
      roles[role] = { keys: await gen.keysFor(role, p.keys), threshold: p.threshold };
    }
    const releases =
      plan.inToto === undefined
        ? undefined
        : {
            keys: await gen.keysFor('targets/releases', plan.inToto.releases.keys),
            threshold: plan.inToto.releases.threshold,
          };
    existed = await pathExists(plan.dir);
    // Created under the writer lock: a concurrent init gets REPO_EXISTS (or REPOSITORY_LOCKED).
    const repo = await LocalRepository.locked(
      fsStore,
      async () => {
        const r = await LocalRepository.create(fsStore, {
          name: plan.name,
          roles,
          expiry: plan.expiry,
          serverManaged: plan.serverManaged,
          ...(plan.server === undefined ? {} : { server: plan.server }),
          ...(options.now === undefined ? {} : { now: options.now }),
        });
        created = true;
        if (plan.inToto !== undefined && releases !== undefined) {
          await setupProvenance(r, { ...plan.inToto.layout, releases });
          await r.saveStaged();
        }
        checkNotExpired(r, new Date(), new Set(r.staged.keys()));
        return r;
      },
      { waitMs: options.lockWaitMs ?? 10_000, create: true },
    );
    await rememberRepository(home, { name: plan.name, location: plan.dir });
    return summary(plan, repo, gen.generated);
  } catch (e) {
    await gen.rollback();
    await removeCreated(plan.dir, existed, created);
    throw e;
  }
}

function summary(plan: InitPlan, repo: LocalRepository, generated: string[]): InitResult {
  const roles = {} as InitResult['roles'];
  for (const role of TOP_LEVEL_ROLES) {
    const p = plan.roles[role];
    roles[role] = {
      keyids: repo.root.signed.roles[role]?.keyIDs ?? [],
      threshold: p.threshold,
      ...(p.thresholdDefault === undefined ? {} : { thresholdDefault: p.thresholdDefault }),
    };
  }
  return {
    name: plan.name,
    location: plan.dir,
    roles,
    generated: [...generated],
    inToto: plan.inToto !== undefined,
    repository: repo,
  };
}

/** The thresholds `planInit` chose (not given): one line each, e.g. for the CLI to say so. */
export function defaultedThresholds(plan: InitPlan): InitRolePlan[] {
  const all = [...Object.values(plan.roles), ...(plan.inToto === undefined ? [] : [plan.inToto.releases])];
  return all.filter((r) => r.thresholdDefault !== undefined);
}
