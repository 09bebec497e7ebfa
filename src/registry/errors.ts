/**
 * Errors of the registry layer: talking to an OCI distribution registry (docker-registry,
 * Docker Hub, GHCR, Harbor, ...). One line each, naming the registry, repository, reference or
 * digest concerned, with a hint; `details` carries the same values for `--json`.
 */
import { CnabsecError } from '../errors.js';

export type RegistryErrorCode =
  /** The registry cannot be reached: connection refused, host not found, timeout, TLS failure. */
  | 'REGISTRY_UNREACHABLE'
  /** The registry refused the credentials or the token (401, 403, a token service refusal). */
  | 'REGISTRY_AUTH_FAILED'
  /** The manifest, blob or repository does not exist (404, MANIFEST_UNKNOWN, BLOB_UNKNOWN). */
  | 'REGISTRY_NOT_FOUND'
  /** Bytes that do not hash to the digest asked for, or a Docker-Content-Digest that disagrees. */
  | 'REGISTRY_DIGEST_MISMATCH'
  /** A manifest, blob, token or error body larger than its limit. */
  | 'REGISTRY_TOO_LARGE'
  /** A manifest whose media type is not one that was asked for or that we know. */
  | 'REGISTRY_BAD_MEDIA_TYPE'
  /** A reference (`registry/repository:tag@digest`), repository name, tag or digest that is not valid. */
  | 'REGISTRY_BAD_REFERENCE'
  /** A docker config.json (or a registry credential setting) that cannot be read or decoded. */
  | 'REGISTRY_BAD_CONFIG'
  /** An answer the distribution API does not allow: an unexpected status, a missing header, bad JSON. */
  | 'REGISTRY_PROTOCOL'
  // the CNAB-in-OCI layout (cnab-oci*.ts, thin.ts; ADR 0028)
  /** An invocation or component image referenced by tag only (no digest): it could be replaced. */
  | 'REGISTRY_IMAGE_NOT_DIGESTED'
  /** An image the index cannot describe: no size, unknown media type, bad or foreign relocation, digest disagreement. */
  | 'REGISTRY_IMAGE_INVALID'
  /** An image the bundle index would reference is not in the target repository (relocate it first). */
  | 'REGISTRY_IMAGE_MISSING'
  /** A bundle index, config manifest or config blob whose layout differs from cnab-to-oci's. */
  | 'REGISTRY_LAYOUT_MISMATCH'
  /** A bundle push or pull target without tag and digest, or with a digest that is not the bundle's. */
  | 'REGISTRY_BAD_TARGET'
  /** A relocation map (CNAB doc 103) that is not an object of image reference strings, or too large. */
  | 'REGISTRY_BAD_RELOCATION';

/** Errors of the registry layer (src/registry). */
export class RegistryError extends CnabsecError<RegistryErrorCode> {}
