/** Repository workflows (doc 302) as plan/apply library calls; see README.md. */
export * from './errors.js';
export * from './known-repos.js';
export * from './key-refs.js';
export * from './init.js';
export * from './rotation.js';
export * from './rotation-server.js';
export * from './recover.js';
export * from './resign.js';
export * from './keys.js';
export * from './remote.js';
export * from './remote-access.js';
export * from './remote-sync.js';
export * from './remote-publish.js';
export * from './remote-clone.js';
export * from './stage-bundle.js';
