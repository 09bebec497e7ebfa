/** Repository workflows (doc 302) as plan/apply library calls; see README.md. */
export * from './errors.js';
export * from './known-repos.js';
export * from './keys.js';
