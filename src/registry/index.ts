/** Registry layer: an OCI distribution client (references, auth, manifests, blobs, tags) and thin bundles in it (CNAB doc 201). */
export * from './errors.js';
export * from './reference.js';
export * from './client.js';
export { defaultCredentials, dockerConfigCredentials, dockerConfigPath } from './docker-config.js';
export type { Credentials, CredentialSource } from './docker-config.js';
export * from './cnab-oci.js';
export * from './cnab-oci-read.js';
export * from './thin.js';
export { goJson, goMap, goString } from './go-json.js';
export type { GoObject, GoValue } from './go-json.js';
export * from './opener.js';
export { checkRelocationMap, readRelocationMap } from './relocation.js';
export type { RelocationMap } from './relocation.js';
export * from './image-copy.js';
export * from './fixup.js';
export * from './copy.js';
export type { BlobDescriptor } from './blob-stream.js';
export type { BlobPushed } from './upload.js';
