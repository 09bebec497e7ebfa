/**
 * Reading a bundle back from its index (cnab-to-oci remotes/pull.go, with the checks pull.go
 * does not make): every fetched piece is checked against its descriptor's digest and size, the
 * config blob must be canonical bundle.json (doc 201), and the index and config manifest must
 * be byte for byte what `bundleToOci` writes for that bundle, so a hand-edited or foreign
 * layout (extra entries, changed annotations, other media types) is refused, naming the difference.
 */
import { isCnabsecError, messageOf } from '../errors.js';
import { checkThinBundle } from '../cnab/bundle.js';
import { bundleToOci, sha256Digest } from './cnab-oci.js';
import { checkBundleIndex, checkConfigManifest, layoutMismatch } from './cnab-oci-check.js';
import { familiarName } from './image-names.js';
import { RegistryError } from './errors.js';
import { MAX_BUNDLE_JSON_BYTES } from '../cnab/bundle.js';
import type { BundleChild, ConfigVariant, IndexVariant } from './cnab-oci-types.js';

export { checkBundleIndex, checkConfigManifest, MAX_LAYOUT_JSON_BYTES } from './cnab-oci-check.js';

/** What `ociToBundle` asks for: a manifest by digest, or the config blob by digest. */
export interface ChildRequest {
  kind: 'manifest' | 'blob';
  mediaType: string;
  digest: string;
  size: number;
}

export type FetchChild = (request: ChildRequest) => Promise<Uint8Array>;

export interface PulledBundle {
  /** The canonical bundle.json bytes (the config blob). */
  bundle: Uint8Array;
  /** `sha256:` of the bundle.json: the CNAB-Sec thin-bundle target hash. */
  bundleDigest: string;
  /** `sha256:` of the index: cnab-to-oci's "bundle digest". */
  digest: string;
  /** bundle.json image → `repo@digest` in the bundle repository (pull.go `GenerateRelocationMap`). */
  relocationMap: Record<string, string>;
  configVariant: ConfigVariant;
  indexVariant: IndexVariant;
  children: BundleChild[];
}

function checkFetched(bytes: Uint8Array, want: ChildRequest, what: string): void {
  const got = sha256Digest(bytes);
  if (got !== want.digest || bytes.length !== want.size) {
    throw new RegistryError(
      'REGISTRY_DIGEST_MISMATCH',
      `${what} ${want.digest}: got ${bytes.length} bytes hashing to ${got}, want ${want.size} bytes`,
      {
        hint: 'the registry served other bytes than the index references; do not use this bundle',
        details: { digest: want.digest, got, size: bytes.length },
      },
    );
  }
}

/** The relocation map the index implies (pull.go `GenerateRelocationMap`), keyed by bundle.json image. */
function relocationFor(
  bundle: Record<string, unknown>,
  children: readonly BundleChild[],
  repository: string,
): Record<string, string> {
  const map: Record<string, string> = {};
  const invocation = (bundle['invocationImages'] as Record<string, unknown>[] | undefined) ?? [];
  const images = (bundle['images'] as Record<string, Record<string, unknown>> | undefined) ?? {};
  const inIndex = new Set<string>();
  for (const c of children) {
    if (c.kind === 'config') continue;
    const entry = c.kind === 'invocation' ? invocation[0] : images[c.name ?? ''];
    if (entry === undefined) {
      throw layoutMismatch(
        'bundle index',
        c.kind === 'invocation'
          ? 'has an invocation image but bundle.json has none'
          : `component ${c.name} is not in bundle.json images`,
      );
    }
    if (c.name !== undefined) inIndex.add(c.name);
    map[String(entry['image'])] = `${repository}@${c.digest}`;
  }
  for (const name of Object.keys(images)) {
    if (!inIndex.has(name))
      throw layoutMismatch('bundle index', `bundle.json image ${name} has no component entry`);
  }
  return map;
}

/** The first differing byte of two encodings, with a little context, for the error message. */
function firstDifference(got: Uint8Array, want: Uint8Array): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const show = (b: Uint8Array): string =>
    JSON.stringify(Buffer.from(b.subarray(Math.max(0, i - 20), i + 40)).toString('utf8'));
  return `differs at byte ${i}: got …${show(got)}…, cnab-to-oci writes …${show(want)}…`;
}

/** Rebuild the layout from the bundle and compare, naming the first annotation or entry that differs. */
function compareWithRebuilt(
  bundleBytes: Uint8Array,
  index: Uint8Array,
  configManifest: Uint8Array,
  checked: ReturnType<typeof checkBundleIndex>,
  configVariant: ConfigVariant,
  relocationMap: Record<string, string>,
): void {
  let rebuilt;
  try {
    rebuilt = bundleToOci(bundleBytes, { relocationMap, configVariant, indexVariant: checked.variant });
  } catch (e) {
    if (!isCnabsecError(e)) throw e;
    throw layoutMismatch('bundle index', `does not describe its bundle.json: ${e.message}`, {
      cause: e.code,
    });
  }
  const want = checkBundleIndex(rebuilt.index, rebuilt.indexMediaType);
  for (const [k, v] of Object.entries(want.annotations)) {
    if (checked.annotations[k] !== v) {
      throw layoutMismatch(
        'bundle index annotations',
        `${k} is ${JSON.stringify(checked.annotations[k] ?? null)}, bundle.json gives ${JSON.stringify(v)}`,
        { annotation: k },
      );
    }
  }
  for (const k of Object.keys(checked.annotations)) {
    if (want.annotations[k] === undefined)
      throw layoutMismatch('bundle index annotations', `${k} is set but bundle.json has no value for it`);
  }
  want.children.forEach((w, i) => {
    const g = checked.children[i];
    if (g !== undefined && (g.mediaType !== w.mediaType || g.size !== w.size)) {
      throw layoutMismatch(
        `bundle index manifests[${i}]`,
        `${g.mediaType} of ${g.size} bytes, bundle.json gives ${w.mediaType} of ${w.size} bytes`,
      );
    }
  });
  if (!Buffer.from(configManifest).equals(Buffer.from(rebuilt.configManifest))) {
    throw layoutMismatch('bundle config manifest', firstDifference(configManifest, rebuilt.configManifest));
  }
  if (!Buffer.from(index).equals(Buffer.from(rebuilt.index))) {
    throw layoutMismatch('bundle index', firstDifference(index, rebuilt.index));
  }
}

/**
 * The bundle of a fetched index (served as `mediaType`). `fetchChild` fetches the config
 * manifest then the config blob; each is checked here against its descriptor. `repository`
 * is the bundle repository's name (e.g. `127.0.0.1:5000/org/bundle`), used for the relocation map.
 */
export async function ociToBundle(
  index: Uint8Array,
  mediaType: string,
  fetchChild: FetchChild,
  options: { repository: string },
): Promise<PulledBundle> {
  const checked = checkBundleIndex(index, mediaType);
  const configChild = checked.children[0] as BundleChild;
  const manifestReq: ChildRequest = {
    kind: 'manifest',
    mediaType: configChild.mediaType,
    digest: configChild.digest,
    size: configChild.size,
  };
  const configManifest = await fetchChild(manifestReq);
  checkFetched(configManifest, manifestReq, 'bundle config manifest');
  const { variant, config } = checkConfigManifest(configManifest, configChild.mediaType);
  if (config.size > MAX_BUNDLE_JSON_BYTES)
    throw layoutMismatch(
      'bundle config manifest',
      `config blob of ${config.size} bytes is over the bundle.json limit of 16 MiB`,
    );
  const blobReq: ChildRequest = { kind: 'blob', ...config };
  const blob = await fetchChild(blobReq);
  checkFetched(blob, blobReq, 'bundle config blob');
  let bundle: Record<string, unknown>;
  try {
    bundle = checkThinBundle(blob, `config blob ${config.digest}`).bundle;
  } catch (e) {
    throw layoutMismatch('bundle config blob', `is not a canonical bundle.json: ${messageOf(e)}`, {
      digest: config.digest,
    });
  }
  const relocationMap = relocationFor(bundle, checked.children, familiarName(options.repository));
  compareWithRebuilt(blob, index, configManifest, checked, variant, relocationMap);
  return {
    bundle: blob,
    bundleDigest: config.digest,
    digest: sha256Digest(index),
    relocationMap,
    configVariant: variant,
    indexVariant: checked.variant,
    children: checked.children,
  };
}
