/**
 * A local TUF repository for one CNAB bundle repository (CNAB-Sec doc 301 MVP), modelled on
 * python-tuf's `Repository`: published metadata (consistent snapshots) plus staged, not yet
 * published, edits. Every edit bumps a role's version once per publish cycle, sets its expiry
 * from the policy and clears its signatures; `publish` (./publish.ts) signs, snapshots,
 * timestamps and writes atomically.
 *
 * Store layout: `cnabsec.json` (configuration), `metadata/` (published, served to clients),
 * `staged/<role>.json` (edits waiting for signatures or publication).
 */
import './models-patch.js'; // linear targets (de)serialization, ADR 0005
import { Metadata, MetadataKind, type Root, type Targets } from '@tufjs/models';
import type { JSONObject } from '@tufjs/models/dist/utils/types.js';
import { toKey, type AnyMetadata, type Authority } from './authority.js';
import { RepositoryError, TufError } from './errors.js';
import {
  DEFAULT_EXPIRY,
  expiresAfter,
  expiryPeriod,
  isTopLevel,
  kindOf,
  metadataFileName,
} from './policy.js';
import type { MetadataStore } from './store.js';
import type { LockOptions } from './lock.js';
import {
  CONFIG_FILE,
  METADATA_DIR,
  STAGED_DIR,
  checkThreshold,
  parseConfig,
  parseMetadata,
  serialize,
  stagedPath,
  type CreateOptions,
  type RepositoryConfig,
} from './repository-io.js';

export { CONFIG_FILE, METADATA_DIR, STAGED_DIR, parseMetadata, serialize, stagedPath };
export type {
  CreateOptions,
  RepositoryConfig,
  RepositoryServer,
  RoleKeys,
  ServerRole,
} from './repository-io.js';
import { checkPublishedFiles, incomplete, versionsOnDisk } from './completeness.js';
import { checkRepositoryName, isRoleName } from './names.js';
import { assertSignable } from './signable.js';
import { quote } from '../util/json.js';
import { messageOf } from '../errors.js';

export const SPEC_VERSION = '1.0.31';

type SignedJson = Record<string, unknown> & { version: number; expires: string };

const encoder = new TextEncoder();

export class LocalRepository {
  readonly published = new Map<string, AnyMetadata>();
  readonly staged = new Map<string, AnyMetadata>();
  /** Highest version of each role among the published files (./completeness.ts). */
  private onDisk = new Map<string, number>();

  private constructor(
    readonly store: MetadataStore,
    readonly config: RepositoryConfig,
  ) {}

  // ---- opening and creating --------------------------------------------------------------

  /** Create a new repository: stage root and targets v1 (snapshot and timestamp come at publish). */
  static async create(store: MetadataStore, options: CreateOptions): Promise<LocalRepository> {
    if ((await store.read(CONFIG_FILE)) !== undefined) {
      throw new TufError('REPO_EXISTS', `a repository already exists at ${store.location}`, {
        hint: 'choose another directory, or use the existing repository',
      });
    }
    checkRepositoryName(options.name);
    for (const [role, spec] of Object.entries(options.roles)) checkThreshold(role, spec);
    const config: RepositoryConfig = {
      _type: 'cnabsec-repository',
      version: 1,
      name: options.name,
      expiry: { ...DEFAULT_EXPIRY, ...options.expiry },
      serverManaged: options.serverManaged ?? false,
      ...(options.server === undefined ? {} : { server: options.server }),
    };
    const repo = new LocalRepository(store, config);
    const now = options.now ?? new Date();
    const keys: Record<string, unknown> = {};
    const roles: Record<string, unknown> = {};
    for (const [role, spec] of Object.entries(options.roles)) {
      const ids: string[] = [];
      for (const pub of spec.keys) {
        const key = toKey(pub);
        keys[key.keyID] = key.toJSON();
        ids.push(key.keyID);
      }
      roles[role] = { keyids: [...new Set(ids)], threshold: spec.threshold };
    }
    repo.stage('root', repo.newMetadata('root', now, { keys, roles, consistent_snapshot: true }));
    repo.stage('targets', repo.newMetadata('targets', now, { targets: {} }));
    await store.write(CONFIG_FILE, encoder.encode(JSON.stringify(config, null, 2) + '\n'));
    await repo.saveStaged();
    return repo;
  }

  /**
   * Run `fn` holding the store's exclusive writer lock (./lock.ts; REPOSITORY_LOCKED when
   * another process holds it). Every command that stages or publishes runs in one of these.
   */
  static async locked<T>(store: MetadataStore, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
    const release = await store.lock?.(options);
    try {
      return await fn();
    } finally {
      await release?.();
    }
  }

  /** Lock, then open (the state is read under the lock), then `fn`: a read-modify-write. */
  static transaction<T>(
    store: MetadataStore,
    fn: (repo: LocalRepository) => Promise<T>,
    options?: LockOptions,
  ): Promise<T> {
    return LocalRepository.locked(store, async () => fn(await LocalRepository.open(store)), options);
  }

  static async open(store: MetadataStore): Promise<LocalRepository> {
    const raw = await store.read(CONFIG_FILE);
    if (raw === undefined) {
      throw new TufError('REPO_NOT_FOUND', `no cnabsec repository at ${store.location}`, {
        details: { path: store.location },
        hint: 'create one with `cnabsec init <dir> --name <bundle repository>`',
      });
    }
    const config = parseConfig(raw, store.location);
    const repo = new LocalRepository(store, config);
    await repo.loadPublished();
    await repo.loadStaged();
    return repo;
  }

  private async readMetadata(role: string, file: string): Promise<AnyMetadata> {
    const bytes = await this.store.read(file);
    if (bytes === undefined) throw incomplete(this.store.location, file, `the published chain lists ${role}`);
    return parseMetadata(role, bytes, `${this.store.location}/${file}`);
  }

  /** Load the published state the way a client sees it: newest root, then timestamp → snapshot → targets. */
  private async loadPublished(): Promise<void> {
    const files = await this.store.list(METADATA_DIR);
    checkPublishedFiles(this.store.location, files);
    this.onDisk = versionsOnDisk(files);
    const latest = this.onDisk.get('root');
    if (latest !== undefined) {
      this.published.set(
        'root',
        await this.readMetadata('root', `${METADATA_DIR}/${metadataFileName('root', latest)}`),
      );
    }
    // A timestamp without a root: a first publish interrupted before its root was written.
    if (!files.includes('timestamp.json')) return;
    const timestamp = await this.readMetadata('timestamp', `${METADATA_DIR}/timestamp.json`);
    this.published.set('timestamp', timestamp);
    const snapVersion = (timestamp.signed as { snapshotMeta: { version: number } }).snapshotMeta.version;
    const snapshot = await this.readMetadata(
      'snapshot',
      `${METADATA_DIR}/${metadataFileName('snapshot', snapVersion)}`,
    );
    this.published.set('snapshot', snapshot);
    const meta = (snapshot.signed as { meta: Record<string, { version: number }> }).meta;
    for (const [file, info] of Object.entries(meta)) {
      const role = file.replace(/\.json$/, '');
      this.published.set(
        role,
        await this.readMetadata(role, `${METADATA_DIR}/${metadataFileName(role, info.version)}`),
      );
    }
  }

  private async loadStaged(): Promise<void> {
    for (const file of await this.store.list(STAGED_DIR)) {
      if (!file.endsWith('.json')) continue;
      let role: string;
      try {
        role = decodeURIComponent(file.slice(0, -5));
        if (!isRoleName(role)) throw new Error('not a role name (ADR 0012)');
      } catch (e) {
        throw new RepositoryError(
          'REPO_CORRUPT',
          `${this.store.location}/${STAGED_DIR}/${file} is not a staged role file`,
          {
            cause: e,
            details: { path: `${STAGED_DIR}/${file}` },
            hint: `staged files are named <url-encoded role>.json; remove or rename ${file}`,
          },
        );
      }
      const bytes = await this.store.read(`${STAGED_DIR}/${file}`);
      if (bytes === undefined) continue;
      const md = parseMetadata(role, bytes, `${this.store.location}/${STAGED_DIR}/${file}`, { staged: true });
      const pub = this.published.get(role);
      // A staged version not above the published one was already published (crash after
      // publish, before clean-up): drop it.
      if (pub !== undefined && md.signed.version <= pub.signed.version) {
        await this.store.remove(`${STAGED_DIR}/${file}`);
        continue;
      }
      this.staged.set(role, md);
    }
  }

  // ---- state -----------------------------------------------------------------------------

  /**
   * The version a new `role` metadata gets: above the published one and above any
   * `<version>.<role>.json` on disk (left by an interrupted publish): a version number once
   * written is never reused. Root versions are consecutive (its newest file is the published one).
   */
  nextVersion(role: string): number {
    return Math.max(this.published.get(role)?.signed.version ?? 0, this.onDisk.get(role) ?? 0) + 1;
  }

  /** The role's metadata as the next publish would have it: staged, else published. */
  current(role: string): AnyMetadata | undefined {
    return this.staged.get(role) ?? this.published.get(role);
  }

  get root(): Metadata<Root> {
    const md = this.current('root');
    if (md === undefined)
      throw new TufError('REPO_CORRUPT', `repository ${this.store.location} has no root metadata`);
    return md as Metadata<Root>;
  }

  targetsOf(role: string): Metadata<Targets> {
    const md = this.current(role);
    if (md === undefined || kindOf(role) !== MetadataKind.Targets) {
      throw this.unknownRole(role);
    }
    return md as Metadata<Targets>;
  }

  unknownRole(role: string): TufError {
    return new TufError('ROLE_UNKNOWN', `role ${quote(role)} does not exist in ${quote(this.config.name)}`, {
      details: { role },
      hint: `roles: ${this.roleNames().join(', ')}`,
    });
  }

  /** Delegating role of each delegated targets role, in preorder (TUF §5.6.7). */
  delegationParents(): Map<string, string> {
    const parents = new Map<string, string>();
    const visit = (role: string): void => {
      const md = this.current(role) as Metadata<Targets> | undefined;
      for (const child of Object.keys(md?.signed.delegations?.roles ?? {})) {
        if (parents.has(child) || child === 'targets') continue;
        parents.set(child, role);
        visit(child);
      }
    };
    visit('targets');
    return parents;
  }

  roleNames(): string[] {
    return ['root', 'targets', 'snapshot', 'timestamp', ...this.delegationParents().keys()];
  }

  /** The authorities whose thresholds `role`'s next version must meet. */
  authoritiesFor(role: string): Authority[] {
    if (isTopLevel(role)) {
      const out: Authority[] = [];
      const roots: [Metadata<Root>, string][] = [[this.root, 'new']];
      const trusted = this.published.get('root') as Metadata<Root> | undefined;
      const recovering = this.config.recovery?.rootVersion === this.staged.get('root')?.signed.version;
      if (role === 'root' && trusted !== undefined && this.staged.has('root') && !recovering)
        roots.push([trusted, 'trusted']);
      for (const [root, tag] of roots) {
        const r = root.signed.roles[role];
        if (r === undefined) throw this.unknownRole(role);
        const label = role === 'root' && roots.length > 1 ? ` (${tag})` : '';
        out.push({
          source: `root v${root.signed.version}${label}`,
          keys: root.signed.keys,
          keyIDs: r.keyIDs,
          threshold: r.threshold,
        });
      }
      return out;
    }
    const parent = this.delegationParents().get(role);
    if (parent === undefined) throw this.unknownRole(role);
    const pmd = this.targetsOf(parent);
    const d = pmd.signed.delegations;
    const r = d?.roles?.[role];
    if (d === undefined || r === undefined) throw this.unknownRole(role);
    return [
      {
        source: `${parent} v${pmd.signed.version} (delegation)`,
        keys: d.keys,
        keyIDs: r.keyIDs,
        threshold: r.threshold,
      },
    ];
  }

  // ---- editing ---------------------------------------------------------------------------

  newMetadata(role: string, now: Date, body: Record<string, unknown>, version = 1): AnyMetadata {
    const signed = {
      _type: kindOf(role),
      spec_version: SPEC_VERSION,
      version,
      expires: expiresAfter(now, expiryPeriod(this.config.expiry, role)),
      ...body,
    };
    return Metadata.fromJSON(kindOf(role) as never, { signed, signatures: [] });
  }

  stage(role: string, md: AnyMetadata): void {
    assertSignable(role, md.signed.toJSON());
    this.staged.set(role, md);
  }

  /**
   * Edit a role (python-tuf `Repository.edit`): the first edit after a publish bumps the
   * version; every edit renews the expiry from the policy and clears the signatures, since
   * they no longer cover the content. The edited JSON is re-validated by @tufjs/models.
   */
  edit(
    role: string,
    mutate: (signed: SignedJson) => void,
    options: { now?: Date; expiresIn?: number } = {},
  ): AnyMetadata {
    const base = this.current(role);
    if (base === undefined) throw this.unknownRole(role);
    const json = base.toJSON() as { signed: SignedJson; signatures: unknown[] };
    json.signed.version = this.staged.has(role) ? base.signed.version : this.nextVersion(role);
    json.signed.expires = expiresAfter(
      options.now ?? new Date(),
      options.expiresIn ?? expiryPeriod(this.config.expiry, role),
    );
    json.signatures = [];
    mutate(json.signed);
    assertSignable(role, json.signed);
    let md: AnyMetadata;
    try {
      md = Metadata.fromJSON(kindOf(role) as never, json as unknown as JSONObject);
    } catch (e) {
      throw new TufError(
        'INVALID_ARGUMENT',
        `the change would make invalid ${role} metadata: ${messageOf(e)}`,
        {
          cause: e,
        },
      );
    }
    this.staged.set(role, md);
    return md;
  }

  /** Persist staged metadata (with whatever signatures it has). */
  async saveStaged(): Promise<void> {
    for (const [role, md] of this.staged) await this.store.write(stagedPath(role), serialize(md));
  }

  async discardStaged(role?: string): Promise<void> {
    const roles = role === undefined ? [...this.staged.keys()] : [role];
    for (const r of roles) {
      this.staged.delete(r);
      await this.store.remove(stagedPath(r));
    }
  }
}
