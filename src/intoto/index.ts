/**
 * cnabsec/intoto: an in-toto (spec 0.9) implementation interoperable with python in-toto
 * 1.3.1: models, canonical JSON, artifact rules, recording (run / record start|stop),
 * signing, layout templates and lint, and the verification pipeline.
 */
export * from './errors.js';
export * from './canonical.js';
export * from './fnmatch.js';
export * from './gitwildmatch.js';
export * from './rules.js';
export * from './models.js';
export * from './signing.js';
export * from './artifacts.js';
export * from './exec.js';
export * from './substitute.js';
export * from './verify-rules.js';
export * from './inspect.js';
export * from './verify.js';
export * from './signable-text.js';
export * from './keys.js';
export * from './runlib.js';
export * from './templates.js';
export * from './lint.js';
export * from './files.js';
