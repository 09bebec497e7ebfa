export * from './fetcher.js';
export * from './errors.js';
export * from './trust.js';
export * from './map.js';
export * from './fastforward.js';
export * from './reset.js';
export * from './guard.js';
export { hookUpdater, tufjsHooksApplicable, installedTufjsVersion, HOOKED_TUFJS_VERSION } from './hooks.js';
