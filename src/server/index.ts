/**
 * Server layer: the CNAB-Sec metadata repository server (issue 13) as a library, so that
 * everything `cnabsec server` does can be done from code: start it (`startServer` with a
 * `loadServerConfig` result), or assemble it (a TrustStore, OnlineKeys under a master key,
 * `TrustService`, `buildApp`), validate uploads (`validateUpload`), back it up
 * (`backupDatabase`). Also the read-only development server of `cnabsec serve`.
 */
export * from './errors.js';
export type * from './app-types.js';
export type * from './service-types.js';
export * from './store.js';
export { openSqliteStore, SqliteTrustStore, type SqliteStoreOptions } from './sqlite-store.js';
export { MemoryTrustStore, openMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export * from './master-key.js';
export * from './online-keys.js';
export { SqliteOnlineKeys, type SqliteOnlineKeysOptions } from './sqlite-online-keys.js';
export { openPgStore, PgTrustStore, redactUrl, type PgStoreOptions } from './pg-store.js';
export { openPgOnlineKeys, PgOnlineKeys, type PgOnlineKeysOptions } from './pg-online-keys.js';
export { PG_SCHEMA_VERSION } from './pg-schema.js';
export {
  describeDb,
  isPostgresUrl,
  migrateStore,
  openOnlineKeys,
  openStore,
  type OpenStoreOptions,
} from './open-store.js';
export {
  validateUpload,
  type ValidateOptions,
  type ValidationResult,
  type AcceptedRole,
} from './validate.js';
export {
  DEFAULT_UPLOAD_LIMITS,
  type UploadFile,
  type UploadLimits,
  type RepositoryState,
} from './upload-parse.js';
export { buildSnapshot, buildTimestamp, stateAfter } from './build.js';
export { TrustService, type TrustServiceOptions } from './service.js';
export { RefreshScheduler, type RefreshSchedulerOptions } from './refresh.js';
export { buildApp } from './app.js';
export { createMetrics } from './metrics.js';
export { acceptAllAuthenticator } from './auth.js';
export { loadServerConfig, SERVER_DEFAULTS, type LoadServerConfigInput, type ServerFlags } from './config.js';
export { startServer, type RunningServer, type StartServerOptions } from './run.js';
export { backupDatabase, type BackupResult } from './backup.js';
export { serveDirectory, type StaticServer, type StaticServerOptions } from './static.js';
export { tokenAuthenticator, type TokenAuthenticatorOptions } from './auth.js';
export * from './tokens.js';
export { MemoryTokenStore, type TokenStore } from './token-store.js';
export { SqliteTokenStore, type SqliteTokenStoreOptions } from './sqlite-token-store.js';
export * from './tokens-admin.js';
