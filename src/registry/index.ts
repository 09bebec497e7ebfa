/** Registry layer: an OCI distribution client (references, auth, manifests, blobs, tags). */
export * from './errors.js';
