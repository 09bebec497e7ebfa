/** CNAB layer: bundle digests, target names, the verification workflow (doc 303). */
export * from './errors.js';
export * from './bundle.js';
export * from './verify.js';
export * from './archive.js';
export * from './schema.js';
export * from './provenance.js';
export * from './provenance-verify.js';
export * from './provenance-links.js';
export * from './trust-archive.js';
export * from './trust-archive-read.js';
export * from './trust-archive-import.js';
export * from './tar-write.js';
