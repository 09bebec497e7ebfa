/**
 * Doc 303 for a thin bundle in an OCI registry: step 1 (TUF update and target lookup) first,
 * then step 2, the pull (index → config manifest → config blob, each checked against the
 * digest that names it and the cnab-to-oci layout, thin.ts `pullBundle`), reading at most the
 * signed length of the config blob; then step 3 (length and sha256 of the canonical
 * bundle.json against the signed target) and steps 4-5 (in-toto) in src/cnab/verify.ts.
 *
 * The TUF target keeps the bundle's own name (`example.com/org/bundle:v1`) wherever the bytes
 * are pulled from (a mirror, a relocated copy): the registry is only where the bytes come from,
 * the trust is the target's. A registry that serves inconsistent content (a digest that does
 * not match, another layout) is refused with its REGISTRY_* code; well-formed content that is
 * not the signed bundle is BUNDLE_HASH_MISMATCH.
 */
import { CnabError } from '../cnab/errors.js';
import { verifyBundle, type ObtainThin, type VerifiedBundle, type VerifyOptions } from '../cnab/verify.js';
import type { RegistryOpener } from './opener.js';
import { formatReference, type Reference } from './reference.js';
import { pullBundle, type BundleRegistry } from './thin.js';
import type { PulledBundle } from './cnab-oci-read.js';

export interface RegistryVerifyOptions extends Omit<VerifyOptions, 'thin' | 'thick' | 'obtainThin'> {
  /** Where the bundle is pulled from (tag or digest). */
  ref: Reference;
  opener: RegistryOpener;
}

export interface RegistryVerified extends VerifiedBundle {
  /** The verified canonical bundle.json (the config blob). */
  bytes: Uint8Array;
  /** The bundle index digest (cnab-to-oci's bundle digest) it was pulled through. */
  digest: string;
  /** `registry/repository[:tag][@digest]` pulled from. */
  reference: string;
  pulled: PulledBundle;
}

/**
 * The client with its blob reads bounded by the signed length: a config manifest announcing a
 * larger config blob is another bundle (BUNDLE_HASH_MISMATCH), refused before any download.
 */
function boundedBlobs(
  client: BundleRegistry,
  target: string,
  trusted: number,
  where: string,
): BundleRegistry {
  return {
    getManifest: client.getManifest.bind(client),
    headManifest: client.headManifest.bind(client),
    putManifest: client.putManifest.bind(client),
    hasBlob: client.hasBlob.bind(client),
    pushBlob: client.pushBlob.bind(client),
    getBlob: async (repository, digest, maxBytes) => {
      if (maxBytes > trusted) {
        throw new CnabError(
          'BUNDLE_HASH_MISMATCH',
          `${target}: the bundle at ${where} does not match its signed metadata (its bundle.json is ${maxBytes} bytes, the signed one ${trusted})`,
          {
            details: {
              target,
              step: 3,
              trusted: { length: trusted },
              observed: { length: maxBytes, digest },
            },
            hint: 'the registry holds another version of the bundle under this reference: pull the signed one (another tag or digest), or push it again',
          },
        );
      }
      return client.getBlob(repository, digest, maxBytes);
    },
  };
}

/**
 * Step 2 from a registry, for verifyBundle's `obtainThin` (also `trust export --registry`):
 * the pull at `ref`, its config blob read up to the signed length it is called with, and the
 * pulled bundle kept for the caller (`pulled()`, once fetched).
 */
export function registryThinSource(
  opener: RegistryOpener,
  ref: Reference,
  target: string,
): { obtain: ObtainThin; pulled: () => PulledBundle | undefined } {
  const reference = formatReference(ref);
  let pulled: PulledBundle | undefined;
  return {
    obtain: {
      source: reference,
      fetch: async (maxBytes) => {
        const client = boundedBlobs(opener(ref.registry), target, maxBytes, reference);
        pulled = await pullBundle(client, ref);
        return pulled.bundle;
      },
    },
    pulled: () => pulled,
  };
}

/** Doc 303 for the thin bundle at `ref`, trusted as `target` (`<repository>:<tag>`). */
export async function verifyFromRegistry(options: RegistryVerifyOptions): Promise<RegistryVerified> {
  const { ref, opener, ...rest } = options;
  const source = registryThinSource(opener, ref, rest.target);
  const verified = await verifyBundle({
    ...rest,
    bundleFileName: rest.bundleFileName ?? 'bundle.json',
    obtainThin: source.obtain,
  });
  const pulled = source.pulled();
  if (pulled === undefined) throw new Error('verifyFromRegistry: the bundle was not pulled'); // unreachable
  return {
    ...verified,
    bytes: pulled.bundle,
    digest: pulled.digest,
    reference: source.obtain.source,
    pulled,
  };
}
