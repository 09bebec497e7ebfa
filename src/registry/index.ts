/** Registry layer: an OCI distribution client (references, auth, manifests, blobs, tags). */
export * from './errors.js';
export * from './reference.js';
export * from './client.js';
export { defaultCredentials, dockerConfigCredentials, dockerConfigPath } from './docker-config.js';
export type { Credentials, CredentialSource } from './docker-config.js';
