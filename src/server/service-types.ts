/**
 * The seam between the metadata repository's HTTP layer (app.ts, routes) and what it does
 * (service.ts): the HTTP layer parses, bounds and maps errors; the service validates,
 * signs and stores. Both sides program against these types only, so the PostgreSQL store
 * and the token scheme of the next issue plug in without touching either (issue 13).
 */
import type { PublicKeyJson } from '../crypto/index.js';
import type { StoredMeta, StoredTargetFile } from './store.js';
import type { UploadFile, UploadLimits } from './upload-parse.js';
import type { UploadRefusalCode } from './errors.js';

/** The roles whose keys the server may hold (doc 302: "as is the default on Docker Content Trust"). */
export type OnlineRole = 'timestamp' | 'snapshot';

/** What an accepted upload stored (roles the developer sent and roles the server signed). */
export interface PublishResult {
  repo: string;
  /** Every metadata file stored, in commit order. */
  stored: { role: string; version: number; sha256: string; length: number; signedByServer: boolean }[];
  /** Target files stored (in-toto layouts, links, public keys). */
  targetFiles: { path: string; sha256: string; length: number }[];
}

/** A server-held public key as `GET …/<role>.key` returns it. */
export interface OnlinePublicKey {
  keyid: string;
  /** The TUF key object (`keytype`, `scheme`, `keyval.public`). */
  public: PublicKeyJson;
  /** pending: created, not yet in an accepted root; active: signs. */
  state: 'pending' | 'active';
}

/** What a refresh did for one repository. */
export interface RefreshResult {
  repo: string;
  /** Roles re-signed, e.g. ['snapshot', 'timestamp'] or ['timestamp']; [] when nothing was due. */
  signed: { role: OnlineRole; version: number; expires: string }[];
}

/** Observers the HTTP layer plugs metrics into; every callback is optional and must not throw. */
export interface ServiceEvents {
  uploadAccepted?(repo: string): void;
  uploadRefused?(repo: string, reason: UploadRefusalCode | 'VERSION_CONFLICT'): void;
  refreshed?(repo: string, role: OnlineRole): void;
  signed?(repo: string, role: OnlineRole): void;
  /** `refreshDue` could not refresh `repo` (it goes on with the others); `error` is a ServerError or a bug. */
  refreshFailed?(repo: string, error: unknown): void;
}

/** The metadata repository, as the HTTP layer sees it. Errors are ServerError (errors.ts). */
export interface MetadataService {
  /** Current metadata of `role` (`root`, `targets`, `targets/releases`, …), or undefined. */
  current(repo: string, role: string): Promise<StoredMeta | undefined>;
  byVersion(repo: string, role: string, version: number): Promise<StoredMeta | undefined>;
  byChecksum(repo: string, role: string, sha256: string): Promise<StoredMeta | undefined>;
  /** A target file by path, or by path and sha256 (consistent-snapshot name `<sha256>.<base>`). */
  targetFile(repo: string, path: string, sha256?: string): Promise<StoredTargetFile | undefined>;
  /**
   * Validate and store one upload atomically (issue 13 item 3), then sign snapshot/timestamp
   * with the keys the server holds (item 4). Refusals: UPLOAD_REFUSED (details: the refusal),
   * VERSION_CONFLICT when another upload won the race.
   */
  publish(repo: string, files: readonly UploadFile[]): Promise<PublishResult>;
  /** The role's server key, created on first call (GET …/<role>.key). */
  publicKey(repo: string, role: OnlineRole): Promise<OnlinePublicKey>;
  /** A new pending key for `role`, used once a root listing it is accepted (POST …/<role>.key). */
  rotateKey(repo: string, role: OnlineRole): Promise<OnlinePublicKey>;
  /** Delete every file and key of `repo`; false when it had none. */
  deleteRepo(repo: string): Promise<boolean>;
  /** Re-sign what the server holds for `repo` when due (or always with force). */
  refresh(repo: string, options?: { force?: boolean }): Promise<RefreshResult>;
  /** Refresh every repository that is due now (the scheduler's tick); at most `limit`. */
  refreshDue(limit?: number): Promise<RefreshResult[]>;
  /** The upload limits in force (the HTTP layer bounds bodies with them). */
  readonly limits: UploadLimits;
  /** Throws STORE_IO when the store does not answer (/healthz). */
  ping(): Promise<void>;
}
