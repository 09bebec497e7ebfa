/** cnabsec/tuf: local TUF repositories (doc 302 signing workflows) and the TUF client. */
export * from './errors.js';
export * from './policy.js';
export * from './store.js';
export * from './authority.js';
export * from './repository.js';
export * from './targets.js';
export * from './files.js';
export * from './signing.js';
export * from './publish.js';
export * from './status.js';
export * from './client/index.js';
export * from './keyset.js';
export * from './rotation.js';
export * from './consistency.js';
export * from './delegation.js';
export * from './recovery.js';
export * from './advisory.js';
export { modelsPatched, modelsPatchStatus, PATCHED_MODELS_VERSION } from './models-patch.js';
