/**
 * Copying a thin bundle between registries or repositories without losing trust (issue 14
 * item 4; CNAB doc 103 relocation). The source bundle is pulled with every check of
 * `pullBundle` (cnab-to-oci's layout, each piece against its digest); each image tree its
 * index references is copied into the destination repository (image-copy.ts: mounted within
 * one registry, streamed and checked across two); then the SAME canonical bundle.json is
 * pushed there with a relocation map pointing at the copies (`pushBundle`: index by digest,
 * tag last, so a copy failing half-way never moves the destination tag).
 *
 * The config blob is byte for byte the source's, so the TUF thin-bundle target (doc 301:
 * length and sha256 of the canonical bundle.json, named by the bundle's own repository)
 * still verifies against the copy, wherever it is pulled from. The destination index digest
 * equals the source's only when the relocation leaves the image digests as they were (it
 * does: images are copied by digest) and the source used cnab-to-oci's first config variant.
 */
import type { PulledBundle } from './cnab-oci-read.js';
import { RegistryError } from './errors.js';
import { familiarName } from './image-names.js';
import { addCounts, copyImage, emptyCounts, type CopyCounts } from './image-copy.js';
import type { RegistryOpener } from './opener.js';
import { formatReference, type Reference } from './reference.js';
import { pullBundle, pushBundle } from './thin.js';

export interface CopyBundleOptions {
  /** Retry refused pushes with cnab-to-oci's fallbacks (pushBundle). */
  allowFallbacks?: boolean;
  /** Per image tree; default 1,000 (image-copy.ts). */
  maxManifests?: number;
}

export interface CopiedImage {
  /** The `image` of bundle.json. */
  image: string;
  /** `invocation`, or the component's images key. */
  name: string;
  digest: string;
  /** `<dst registry>/<dst repository>@<digest>`. */
  relocated: string;
  counts: CopyCounts;
}

export interface CopiedBundle {
  /** `registry/repository[:tag][@digest]` as pulled and pushed. */
  source: string;
  destination: string;
  /** The destination index digest (cnab-to-oci's bundle digest there). */
  digest: string;
  /** The source index digest. */
  sourceDigest: string;
  /** `sha256:` of the canonical bundle.json, the same at both ends (the TUF target hash). */
  bundleDigest: string;
  bundleSize: number;
  /** The tag moved at the destination. */
  tag: string | undefined;
  /** Doc 103: each bundle.json image reference → where the destination holds it. */
  relocationMapping: Record<string, string>;
  images: CopiedImage[];
  counts: CopyCounts;
}

function destinationOf(src: Reference, dst: Reference): Reference {
  if (dst.tag !== undefined || dst.digest !== undefined) return dst;
  if (src.tag === undefined) {
    throw new RegistryError(
      'REGISTRY_BAD_TARGET',
      `${formatReference(dst)}: a copy destination needs a tag when the source (${formatReference(src)}) has none`,
      {
        hint: 'name the destination as registry/repository:tag',
        details: { registry: dst.registry, repository: dst.repository },
      },
    );
  }
  return { ...dst, tag: src.tag };
}

function nameOf(pulled: PulledBundle, digest: string): string {
  const child = pulled.children.find((c) => c.digest === digest && c.kind !== 'config');
  return child?.kind === 'invocation' ? 'invocation' : (child?.name ?? '');
}

/**
 * Copy the bundle at `src` (tag or digest) to `dst` (a tag; without one, the source's tag).
 * See the file comment. The result names what was copied, mounted and already there.
 */
export async function copyBundle(
  opener: RegistryOpener,
  src: Reference,
  dst: Reference,
  options: CopyBundleOptions = {},
): Promise<CopiedBundle> {
  const target = destinationOf(src, dst);
  const from = { client: opener(src.registry), repository: src.repository };
  const to = { client: opener(target.registry), repository: target.repository };
  const pulled = await pullBundle(from.client, src);
  const home = familiarName(`${target.registry}/${target.repository}`);
  const counts = emptyCounts();
  const images: CopiedImage[] = [];
  const relocationMapping: Record<string, string> = {};
  for (const [image, at] of Object.entries(pulled.relocationMap)) {
    const digest = at.slice(at.lastIndexOf('@') + 1);
    const child = pulled.children.find((c) => c.digest === digest && c.kind !== 'config');
    const copied = await copyImage(from, to, digest, {
      ...(child === undefined ? {} : { mediaType: child.mediaType, size: child.size }),
      ...(options.maxManifests === undefined ? {} : { maxManifests: options.maxManifests }),
    });
    addCounts(counts, copied);
    relocationMapping[image] = `${home}@${digest}`;
    images.push({
      image,
      name: nameOf(pulled, digest),
      digest,
      relocated: relocationMapping[image],
      counts: copied,
    });
  }
  const pushed = await pushBundle(to.client, target, pulled.bundle, {
    relocationMap: relocationMapping,
    ...(options.allowFallbacks === undefined ? {} : { allowFallbacks: options.allowFallbacks }),
  });
  return {
    source: formatReference(src),
    destination: formatReference(target),
    digest: pushed.digest,
    sourceDigest: pulled.digest,
    bundleDigest: pulled.bundleDigest,
    bundleSize: pulled.bundle.byteLength,
    tag: pushed.tag,
    relocationMapping,
    images,
    counts,
  };
}
