/**
 * Errors of the CNAB-in-OCI layout (cnab-oci.ts, thin.ts). Kept apart from `RegistryError`
 * (errors.ts) until both branches meet; the codes already carry the `REGISTRY_` prefix so
 * that folding them into `RegistryErrorCode` changes no code a user or script sees.
 */
import { CnabsecError } from '../errors.js';

export type LayoutErrorCode =
  /** An invocation or component image referenced by tag only (no digest): it could be replaced. */
  | 'REGISTRY_IMAGE_NOT_DIGESTED'
  /** An image the index cannot describe: no size, unknown media type, bad or foreign relocation, digest disagreement. */
  | 'REGISTRY_IMAGE_INVALID'
  /** An image the index would reference is not in the target repository (relocate it first). */
  | 'REGISTRY_IMAGE_MISSING'
  /** A bundle index, config manifest or config blob whose layout differs from cnab-to-oci's. */
  | 'REGISTRY_LAYOUT_MISMATCH'
  /** A fetched index child whose bytes do not hash to (or are not the size of) its descriptor (same code as RegistryError's). */
  | 'REGISTRY_DIGEST_MISMATCH'
  /** A reference that cannot name a bundle push target (no tag and no digest, or a digest that differs). */
  | 'REGISTRY_BAD_TARGET';

/** Errors of the CNAB-in-OCI layout (src/registry/cnab-oci*.ts, thin.ts). */
export class LayoutError extends CnabsecError<LayoutErrorCode> {}
