/**
 * cnab-to-oci's fixup before a push (remotes/fixup.go; facts §4 "Fixup"): every image a
 * bundle's index references must be in the bundle repository, so the invocation image and
 * each component image are copied there from where bundle.json (or the relocation map the
 * caller gives, CNAB doc 103) says they are, by digest (image-copy.ts). The result is the
 * relocation map `pushBundle` takes: bundle.json image → `<registry>/<bundle repo>@<digest>`.
 *
 * Images must be pinned by digest (`repo@sha256:…` or `contentDigest`): one referenced by tag
 * only is refused before any request (REGISTRY_IMAGE_NOT_DIGESTED, bundleToOci's check, as
 * Porter refuses them). Unlike cnab-to-oci's `--auto-update-bundle`, bundle.json is never
 * rewritten: its bytes are the signed TUF target.
 */
import { bundleToOci, type BundleChild } from './cnab-oci.js';
import type { RegistryOpener } from './opener.js';
import { parseReference, type Reference } from './reference.js';
import { familiarName, normalizedName, splitImageRef } from './image-names.js';
import { addCounts, copyImage, emptyCounts, type CopyCounts } from './image-copy.js';
import { pushBundle, type PushedBundle } from './thin.js';

export interface FixupOptions {
  /** Where images are now (doc 103: bundle.json image → `repo@digest`), instead of their bundle.json reference. */
  relocationMap?: Readonly<Record<string, string>>;
}

export interface FixedImage {
  /** The `image` of bundle.json. */
  image: string;
  /** `invocation`, or the component's images key. */
  name: string;
  /** Where it was copied from (`registry/repository`). */
  source: string;
  digest: string;
  /** Where the bundle index finds it. */
  relocated: string;
  counts: CopyCounts;
}

export interface FixupResult {
  relocationMap: Record<string, string>;
  images: FixedImage[];
  counts: CopyCounts;
}

/** The registry and repository an image reference (or relocated reference) names. */
function sourceOf(
  child: BundleChild,
  relocationMap: Readonly<Record<string, string>> | undefined,
): Reference {
  const image = child.image ?? '';
  const relocated =
    relocationMap !== undefined && Object.hasOwn(relocationMap, image) ? relocationMap[image] : undefined;
  const { name } = splitImageRef(relocated ?? image);
  const ref = parseReference(name);
  return { registry: ref.registry, repository: ref.repository };
}

/**
 * Copy every image of `bundle` into `target`'s repository (see the file comment). Images
 * already there are checked (HEAD) and not copied again.
 */
export async function fixupBundleImages(
  opener: RegistryOpener,
  target: Reference,
  bundle: Uint8Array | object,
  options: FixupOptions = {},
): Promise<FixupResult> {
  // refuses undigested images, bad digests and sizes before any request
  const layout = bundleToOci(
    bundle,
    options.relocationMap === undefined ? {} : { relocationMap: options.relocationMap },
  );
  const home = familiarName(`${target.registry}/${target.repository}`);
  const to = { client: opener(target.registry), repository: target.repository };
  const relocationMap: Record<string, string> = {};
  const images: FixedImage[] = [];
  const counts = emptyCounts();
  for (const child of layout.children) {
    if (child.kind === 'config') continue;
    const src = sourceOf(child, options.relocationMap);
    const from = { client: opener(src.registry), repository: src.repository };
    const inPlace = normalizedName(`${src.registry}/${src.repository}`) === normalizedName(home);
    const copied = inPlace
      ? emptyCounts()
      : await copyImage(from, to, child.digest, { mediaType: child.mediaType, size: child.size });
    addCounts(counts, copied);
    const relocated = `${home}@${child.digest}`;
    relocationMap[child.image ?? ''] = relocated;
    images.push({
      image: child.image ?? '',
      name: child.kind === 'invocation' ? 'invocation' : (child.name ?? ''),
      source: `${src.registry}/${src.repository}`,
      digest: child.digest,
      relocated,
      counts: copied,
    });
  }
  return { relocationMap, images, counts };
}

export interface PushWithImagesOptions {
  relocationMap?: Record<string, string>;
  allowFallbacks?: boolean;
}

/**
 * `fixupBundleImages` then `pushBundle` (thin.ts): the images copied into the bundle
 * repository, then the bundle pushed with the relocation map pointing at them, tag last.
 */
export async function pushBundleWithImages(
  opener: RegistryOpener,
  ref: Reference,
  bundle: Uint8Array | object,
  options: PushWithImagesOptions = {},
): Promise<PushedBundle & { relocationMap: Record<string, string> }> {
  // pushBundle refuses a target without tag or digest before any request: before copying images too
  if (ref.tag === undefined && ref.digest === undefined)
    return { ...(await pushBundle(opener(ref.registry), ref, bundle)), relocationMap: {} };
  const fixed = await fixupBundleImages(
    opener,
    ref,
    bundle,
    options.relocationMap === undefined ? {} : { relocationMap: options.relocationMap },
  );
  const pushed = await pushBundle(opener(ref.registry), ref, bundle, {
    relocationMap: fixed.relocationMap,
    ...(options.allowFallbacks === undefined ? {} : { allowFallbacks: options.allowFallbacks }),
  });
  return { ...pushed, relocationMap: fixed.relocationMap };
}
