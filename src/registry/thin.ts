/**
 * Thin bundles in an OCI registry (CNAB docs 200/201): push in cnab-to-oci's order (the config
 * blob, the config manifest by digest, then the index; remotes/push.go `Push`) and pull with
 * every piece checked (cnab-oci-read.ts). Written against the RegistryClient seam (client.ts);
 * only six of its methods are used (`BundleRegistry`), so a small test double fits.
 *
 * Two things differ from cnab-to-oci, both on the safe side:
 * - the index is first PUT by digest, and only once the registry holds it is it PUT to the
 *   tag: a push failing half-way (or falling back to the Docker manifest list) never moves
 *   the tag;
 * - before the index, every image it references must already be in the repository (a HEAD by
 *   digest, with the size and media type the index gives), since a registry refuses an index
 *   whose children are missing (MANIFEST_BLOB_UNKNOWN) or, worse, a lax one stores it dangling.
 */
import {
  bundleToOci,
  CONFIG_FALLBACKS,
  MEDIA_DOCKER_LIST,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  type BundleLayout,
  type BundleToOciOptions,
  type ConfigVariant,
  type IndexVariant,
} from './cnab-oci.js';
import { ociToBundle, type ChildRequest, type PulledBundle } from './cnab-oci-read.js';
import { MAX_BUNDLE_JSON_BYTES } from '../cnab/bundle.js';
import { RegistryError } from './errors.js';
import type { RegistryClient } from './client.js';
import type { Reference } from './reference.js';

/** The part of RegistryClient (client.ts) that pushing and pulling bundles use (a test double needs no more). */
export type BundleRegistry = Pick<
  RegistryClient,
  'getManifest' | 'headManifest' | 'putManifest' | 'getBlob' | 'hasBlob' | 'pushBlob'
>;

/** A bundle's place: `registry/repository:tag` or `@digest` (reference.ts). */
export type BundleReference = Reference;

export interface PushBundleOptions {
  relocationMap?: Readonly<Record<string, string>>;
  /** Retry a refused config manifest with cnab-to-oci's fallbacks, and a refused index as a Docker manifest list (its `--allow-fallbacks`). Default false. */
  allowFallbacks?: boolean;
}

export interface PushedBundle {
  /** The index digest (cnab-to-oci's bundle digest). */
  digest: string;
  mediaType: string;
  size: number;
  /** `sha256:` of the canonical bundle.json (the config blob). */
  configDigest: string;
  configManifestDigest: string;
  /** The tag moved to `digest`, if the reference had one. */
  tag: string | undefined;
  layout: BundleLayout;
}

/** An error a fallback may cure: the registry refused the content, not the connection or the credentials. */
function isContentRefusal(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code !== 'REGISTRY_UNREACHABLE' && code !== 'REGISTRY_AUTH_FAILED';
}

function checkReturnedDigest(got: string, want: string, what: string, ref: BundleReference): void {
  if (got !== want) {
    throw new RegistryError(
      'REGISTRY_DIGEST_MISMATCH',
      `${ref.registry}/${ref.repository}: ${what} stored as ${got}, expected ${want}`,
      {
        hint: 'the registry rewrote the content; it cannot hold a cnab-to-oci bundle byte for byte',
        details: { registry: ref.registry, repository: ref.repository, digest: want, got },
      },
    );
  }
}

/** Every image child must already be in the repository, as the index describes it. */
async function checkImagesPresent(
  client: BundleRegistry,
  ref: BundleReference,
  layout: BundleLayout,
): Promise<void> {
  for (const c of layout.children) {
    if (c.kind === 'config') continue;
    const head = await client.headManifest(ref.repository, c.digest);
    const what =
      c.kind === 'invocation' ? `invocation image ${c.image}` : `component image ${c.name} (${c.image})`;
    if (head === undefined || head.size !== c.size || head.mediaType !== c.mediaType) {
      const found =
        head === undefined
          ? 'not there'
          : `${head.mediaType} of ${head.size} bytes, the bundle says ${c.mediaType} of ${c.size}`;
      throw new RegistryError(
        'REGISTRY_IMAGE_MISSING',
        `${ref.registry}/${ref.repository}@${c.digest}: ${what}: ${found}`,
        {
          hint: 'copy the image into the bundle repository first (relocation, CNAB doc 103), and give the relocation map',
          details: { registry: ref.registry, repository: ref.repository, digest: c.digest, image: c.image },
        },
      );
    }
  }
}

async function pushConfig(client: BundleRegistry, ref: BundleReference, layout: BundleLayout): Promise<void> {
  if (!(await client.hasBlob(ref.repository, layout.configDigest))) {
    checkReturnedDigest(
      await client.pushBlob(ref.repository, layout.configBlob),
      layout.configDigest,
      'config blob',
      ref,
    );
  }
  const got = await client.putManifest(
    ref.repository,
    layout.configManifestDigest,
    layout.configManifestMediaType,
    layout.configManifest,
  );
  checkReturnedDigest(got, layout.configManifestDigest, 'config manifest', ref);
}

async function tryVariants<T>(
  variants: readonly T[],
  attempt: (v: T) => Promise<BundleLayout>,
): Promise<BundleLayout> {
  let last: unknown;
  for (const v of variants) {
    try {
      return await attempt(v);
    } catch (e) {
      if (!isContentRefusal(e)) throw e;
      last = e;
    }
  }
  throw last;
}

function badTarget(
  ref: BundleReference,
  problem: string,
  hint: string,
  details: Record<string, unknown>,
): RegistryError {
  return new RegistryError('REGISTRY_BAD_TARGET', `${ref.registry}/${ref.repository}${problem}`, {
    hint,
    details: { registry: ref.registry, repository: ref.repository, ...details },
  });
}

/** The config blob and manifest, then the index by digest, each variant in fallback order. */
async function pushChildren(
  client: BundleRegistry,
  ref: BundleReference,
  first: BundleLayout,
  base: BundleToOciOptions,
  allowFallbacks: boolean,
): Promise<BundleLayout> {
  const configVariants: readonly ConfigVariant[] = allowFallbacks ? CONFIG_FALLBACKS : ['cnab'];
  const indexVariants: readonly IndexVariant[] = allowFallbacks ? ['oci', 'docker'] : ['oci'];
  const withConfig = await tryVariants(configVariants, async (configVariant) => {
    const layout = bundleToOci(first.configBlob, { ...base, configVariant });
    await pushConfig(client, ref, layout);
    return layout;
  });
  return tryVariants(indexVariants, async (indexVariant) => {
    const l = bundleToOci(first.configBlob, {
      ...base,
      configVariant: withConfig.configVariant,
      indexVariant,
    });
    const got = await client.putManifest(ref.repository, l.indexDigest, l.indexMediaType, l.index);
    checkReturnedDigest(got, l.indexDigest, 'bundle index', ref);
    return l;
  });
}

/**
 * Push `bundleJson` to `ref` (a tag, or a digest that must equal the index digest). All checks
 * of `bundleToOci` run before the first request. Order: images present?, config blob, config
 * manifest, index by digest, then the tag (so a failure anywhere leaves the tag as it was).
 */
export async function pushBundle(
  client: BundleRegistry,
  ref: BundleReference,
  bundleJson: Uint8Array | object,
  options: PushBundleOptions = {},
): Promise<PushedBundle> {
  if (ref.tag === undefined && ref.digest === undefined) {
    throw badTarget(
      ref,
      ': a bundle push needs a tag (or a digest)',
      'name the target as registry/repository:tag',
      {},
    );
  }
  const base: BundleToOciOptions = {
    ...(options.relocationMap === undefined ? {} : { relocationMap: options.relocationMap }),
    target: { registry: ref.registry, repository: ref.repository },
  };
  const first = bundleToOci(bundleJson, base); // refuses bad bundles before any request
  const allowFallbacks = options.allowFallbacks === true;
  if (ref.digest !== undefined && ref.digest !== first.indexDigest && !allowFallbacks) {
    throw badTarget(
      ref,
      `@${ref.digest}: the bundle index is ${first.indexDigest}`,
      'push to a tag, or give the digest of this bundle index',
      { digest: ref.digest, indexDigest: first.indexDigest },
    );
  }
  await checkImagesPresent(client, ref, first);
  const layout = await pushChildren(client, ref, first, base, allowFallbacks);
  if (ref.digest !== undefined) checkReturnedDigest(layout.indexDigest, ref.digest, 'bundle index', ref);
  if (ref.tag !== undefined) {
    const got = await client.putManifest(ref.repository, ref.tag, layout.indexMediaType, layout.index);
    checkReturnedDigest(got, layout.indexDigest, `tag ${ref.tag}`, ref);
  }
  return {
    digest: layout.indexDigest,
    mediaType: layout.indexMediaType,
    size: layout.index.length,
    configDigest: layout.configDigest,
    configManifestDigest: layout.configManifestDigest,
    tag: ref.tag,
    layout,
  };
}

const INDEX_ACCEPT = [MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST];
const MANIFEST_ACCEPT = [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST];

/**
 * Pull the bundle at `ref` (tag or digest): the index, its config manifest, the config blob,
 * each checked against the digest that names it; the layout must be cnab-to-oci's.
 */
export async function pullBundle(client: BundleRegistry, ref: BundleReference): Promise<PulledBundle> {
  const reference = ref.digest ?? ref.tag;
  if (reference === undefined) {
    throw badTarget(
      ref,
      ': a bundle pull needs a tag or a digest',
      'name the bundle as registry/repository:tag or @sha256:…',
      {},
    );
  }
  const index = await client.getManifest(ref.repository, reference, INDEX_ACCEPT);
  if (ref.digest !== undefined) checkReturnedDigest(index.digest, ref.digest, 'bundle index', ref);
  const fetchChild = async (req: ChildRequest): Promise<Uint8Array> => {
    if (req.kind === 'blob')
      return client.getBlob(ref.repository, req.digest, Math.min(req.size, MAX_BUNDLE_JSON_BYTES));
    const m = await client.getManifest(ref.repository, req.digest, MANIFEST_ACCEPT);
    if (m.mediaType !== req.mediaType) {
      throw new RegistryError(
        'REGISTRY_LAYOUT_MISMATCH',
        `${ref.registry}/${ref.repository}@${req.digest}: config manifest served as ${m.mediaType}, the index says ${req.mediaType}`,
        {
          hint: 'the registry or the index is inconsistent; push the bundle again',
          details: { digest: req.digest },
        },
      );
    }
    return m.bytes;
  };
  return ociToBundle(index.bytes, index.mediaType, fetchChild, {
    repository: `${ref.registry}/${ref.repository}`,
  });
}
