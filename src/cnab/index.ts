/** CNAB layer: bundle digests and target names. */
export * from './errors.js';
export * from './bundle.js';
