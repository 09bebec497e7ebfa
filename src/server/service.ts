/**
 * `TrustService`, the metadata repository behind the HTTP layer (issue 13 items 3–5; ADR
 * 0022): `publish` validates an upload (./validate.ts) and stores it with the snapshot and
 * timestamp the server signs (./service-publish.ts) in ONE store transaction; the key
 * endpoints hand out the server's online keys (./service-keys.ts); `refresh` re-signs them
 * before they expire (./service-refresh.ts, scheduled by ./refresh.ts).
 *
 * Reads go straight to the store: each is one indexed read of committed state, so there is no
 * cache here to invalidate across processes (ADR 0022).
 */
import { DEFAULT_EXPIRY } from '../tuf/policy.js';
import { ServerError, type UploadRefusal } from './errors.js';
import type { OnlineKeys } from './online-keys.js';
import { checkOnlineRole, keysDisabled, publicKeyFor, rootOf, rotateKeyFor } from './service-keys.js';
import { uploadIn, type OnlineExpiry, type UploadOutcome } from './service-publish.js';
import { refreshIn } from './service-refresh.js';
import type {
  MetadataService,
  OnlinePublicKey,
  OnlineRole,
  PublishResult,
  RefreshResult,
  ServiceEvents,
} from './service-types.js';
import type { StoredMeta, StoredTargetFile, TrustStore } from './store.js';
import { DEFAULT_UPLOAD_LIMITS, type UploadFile, type UploadLimits } from './upload-parse.js';

export interface TrustServiceOptions {
  store: TrustStore;
  /** The server's online keys; absent: developer-managed repositories only (no key endpoints). */
  keys?: OnlineKeys;
  now?: () => Date;
  limits?: Partial<UploadLimits>;
  /** Seconds a server-signed timestamp and snapshot stay valid (default: a local repository's, ../tuf/policy.ts). */
  expiry?: Partial<OnlineExpiry>;
  /** Re-sign when less than this fraction of a role's lifetime is left (default 0.5). */
  refreshFraction?: number;
  events?: ServiceEvents;
}

/** How many expiring rows `refreshDue` reads at most per call, whatever its limit. */
const MAX_SCAN = 10_000;

export class TrustService implements MetadataService {
  readonly limits: UploadLimits;
  private readonly store: TrustStore;
  private readonly keys: OnlineKeys | undefined;
  private readonly now: () => Date;
  private readonly expiry: OnlineExpiry;
  private readonly fraction: number;
  private readonly events: ServiceEvents;

  constructor(options: TrustServiceOptions) {
    this.store = options.store;
    this.keys = options.keys;
    this.now = options.now ?? (() => new Date());
    this.limits = { ...DEFAULT_UPLOAD_LIMITS, ...options.limits };
    this.expiry = {
      timestamp: options.expiry?.timestamp ?? DEFAULT_EXPIRY.timestamp,
      snapshot: options.expiry?.snapshot ?? DEFAULT_EXPIRY.snapshot,
    };
    for (const [role, s] of Object.entries(this.expiry))
      if (!Number.isSafeInteger(s) || s < 1)
        throw new RangeError(`TrustService: expiry.${role} must be a positive number of seconds, not ${s}`);
    this.fraction = options.refreshFraction ?? 0.5;
    if (!(this.fraction > 0 && this.fraction < 1))
      throw new RangeError(`TrustService: refreshFraction must be between 0 and 1, not ${this.fraction}`);
    this.events = options.events ?? {};
  }

  current(repo: string, role: string): Promise<StoredMeta | undefined> {
    return this.store.getCurrent(repo, role);
  }

  byVersion(repo: string, role: string, version: number): Promise<StoredMeta | undefined> {
    return this.store.getVersion(repo, role, version);
  }

  byChecksum(repo: string, role: string, sha256: string): Promise<StoredMeta | undefined> {
    return this.store.getChecksum(repo, role, sha256);
  }

  targetFile(repo: string, path: string, sha256?: string): Promise<StoredTargetFile | undefined> {
    return this.store.getTargetFile(repo, path, sha256);
  }

  async publish(repo: string, files: readonly UploadFile[]): Promise<PublishResult> {
    const ctx = { keys: this.keys, repo, now: this.now(), expiry: this.expiry, limits: this.limits };
    let result: { value: UploadOutcome; stored: StoredMeta[] };
    try {
      result = await this.store.transact(repo, (tx) => uploadIn(tx, files, ctx));
    } catch (e) {
      if (e instanceof ServerError && e.code === 'UPLOAD_REFUSED')
        this.emit('uploadRefused', repo, (e.details as unknown as UploadRefusal).code);
      else if (e instanceof ServerError && e.code === 'VERSION_CONFLICT')
        this.emit('uploadRefused', repo, 'VERSION_CONFLICT');
      throw e;
    }
    const { value, stored } = result;
    // after the commit: the accepted root's keys sign from now on, the ones it dropped are
    // retired (a failure here leaves them pending; ./service-keys.ts `synced` repairs it)
    if (value.rootKeyids !== undefined && this.keys !== undefined)
      for (const [role, ids] of Object.entries(value.rootKeyids)) await this.keys.activate(repo, role, ids);
    this.emit('uploadAccepted', repo);
    for (const role of value.serverRoles) this.emit('signed', repo, role as OnlineRole);
    return {
      repo,
      stored: stored.map((m) => ({
        role: m.role,
        version: m.version,
        sha256: m.sha256,
        length: m.bytes.byteLength,
        signedByServer: value.serverRoles.has(m.role),
      })),
      targetFiles: value.targetFiles.map((f) => ({ path: f.path, sha256: f.sha256, length: f.length })),
    };
  }

  async publicKey(repo: string, role: OnlineRole): Promise<OnlinePublicKey> {
    const keys = this.requireKeys(repo, role);
    return publicKeyFor(keys, repo, role, rootOf(await this.rootState(repo)));
  }

  async rotateKey(repo: string, role: OnlineRole): Promise<OnlinePublicKey> {
    const keys = this.requireKeys(repo, role);
    return rotateKeyFor(keys, repo, role, rootOf(await this.rootState(repo)));
  }

  async deleteRepo(repo: string): Promise<boolean> {
    const files = await this.store.deleteRepo(repo);
    const keys = this.keys === undefined ? 0 : await this.keys.deleteRepo(repo);
    return files || keys > 0;
  }

  async refresh(repo: string, options: { force?: boolean } = {}): Promise<RefreshResult> {
    if (this.keys === undefined) return { repo, signed: [] };
    const now = this.now();
    const ctx = { keys: this.keys, repo, now, expiry: this.expiry };
    const due = { now, fraction: this.fraction, force: options.force === true };
    const { value } = await this.store.transact(repo, (tx) => refreshIn(tx, ctx, due));
    for (const s of value.signed) {
      this.emit('signed', repo, s.role);
      this.emit('refreshed', repo, s.role);
    }
    return value;
  }

  /**
   * Refresh up to `limit` repositories that are due. Candidates are the current timestamp and
   * snapshot rows expiring before now + fraction × the longest server lifetime (anything
   * signed by the server and due expires before then); each is re-checked inside its own
   * transaction. Rows of developer-managed repositories are skipped, reading further (up to
   * MAX_SCAN rows) so that they cannot starve the server-managed ones.
   */
  async refreshDue(limit = 100): Promise<RefreshResult[]> {
    if (this.keys === undefined || limit < 1) return [];
    const lifetime = Math.max(this.expiry.timestamp, this.expiry.snapshot) * 1000;
    const horizon = new Date(this.now().getTime() + this.fraction * lifetime);
    const seen = new Set<string>();
    const out: RefreshResult[] = [];
    for (let n = Math.min(MAX_SCAN, limit * 4); ; n = Math.min(MAX_SCAN, n * 4)) {
      const rows = await this.store.listExpiring(horizon, n);
      for (const row of rows) {
        if (out.length >= limit) return out;
        if ((row.role !== 'timestamp' && row.role !== 'snapshot') || seen.has(row.repo)) continue;
        seen.add(row.repo);
        const r = await this.refreshOnce(row.repo);
        if (r !== undefined && r.signed.length > 0) out.push(r);
      }
      if (out.length >= limit || rows.length < n || n >= MAX_SCAN) return out;
    }
  }

  /** `refresh`, retried once after VERSION_CONFLICT (another process refreshed it first); errors reported, not thrown. */
  private async refreshOnce(repo: string): Promise<RefreshResult | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.refresh(repo);
      } catch (e) {
        if (attempt === 0 && e instanceof ServerError && e.code === 'VERSION_CONFLICT') continue;
        this.emit('refreshFailed', repo, e);
        return undefined;
      }
    }
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  private requireKeys(repo: string, role: string): OnlineKeys {
    if (this.keys === undefined) throw keysDisabled(repo);
    checkOnlineRole(repo, role);
    return this.keys;
  }

  private async rootState(repo: string): Promise<{ root?: Uint8Array }> {
    const root = await this.store.getCurrent(repo, 'root');
    return root === undefined ? {} : { root: root.bytes };
  }

  /** Call an observer; an observer that throws is a bug of its own and must not fail the request. */
  private emit<K extends keyof ServiceEvents>(
    name: K,
    ...args: Parameters<NonNullable<ServiceEvents[K]>>
  ): void {
    try {
      const fn = this.events[name] as ((...a: unknown[]) => void) | undefined;
      fn?.apply(this.events, args);
    } catch {
      /* observers must not throw (ServiceEvents); ignore rather than fail a committed publish */
    }
  }
}
