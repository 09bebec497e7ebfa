/**
 * cnabsec: CNAB Security (TUF + in-toto) for Cloud Native Application Bundles.
 * Subpath exports keep layers usable on their own: `cnabsec/crypto`, `cnabsec/tuf`.
 */
export * from './errors.js';
export * as crypto from './crypto/index.js';
export * as tuf from './tuf/index.js';
export * from './cnab/index.js';
