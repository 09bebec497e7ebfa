/**
 * A CNAB bundle as an OCI index, byte for byte as cnab-to-oci pushes it (CNAB docs 200/201;
 * cnabio/cnab-to-oci converter/convert.go and types.go at 93e927e, image-spec v1.1.1 structs,
 * Go `encoding/json`). Pure: no network. Push order and tagging are in thin.ts.
 *
 * - config blob: the canonical bundle.json (doc 201 "MUST be serialized as canonical JSON");
 * - config manifest: `{"schemaVersion":2,"config":{mediaType,digest,size},"layers":null}`;
 * - index: `{"schemaVersion":2,"manifests":[config, invocation, components by name],"annotations":{…}}`.
 */
import { createHash } from 'node:crypto';
import { canonicalBundleBytes, checkThinBundle } from '../cnab/bundle.js';
import { goJson, goMap, type GoObject, type GoValue } from './go-json.js';
import { digestWords, isDigest, normalizedName, splitImageRef } from './image-names.js';
import { RegistryError } from './errors.js';
import { checkRelocationMap } from './relocation.js';
import {
  ANN_ARTIFACT_TYPE,
  ANN_AUTHORS,
  ANN_COMPONENT,
  ANN_DESCRIPTION,
  ANN_KEYWORDS,
  ANN_RUNTIME_VERSION,
  ANN_TITLE,
  ANN_TYPE,
  ANN_VERSION,
  ARTIFACT_TYPE,
  IMAGE_MEDIA_TYPES,
  MEDIA_CNAB_CONFIG,
  MEDIA_CNAB_SPEC_CONFIG,
  MEDIA_DOCKER_CONFIG,
  MEDIA_DOCKER_LIST,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_CONFIG,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  type BundleChild,
  type BundleLayout,
  type ConfigVariant,
  type IndexVariant,
  type LayoutTarget,
} from './cnab-oci-types.js';

export * from './cnab-oci-types.js';

export interface BundleToOciOptions {
  /** Original image reference → relocated `repo@digest` (CNAB doc 103; cnab-to-oci relocation/types.go). */
  relocationMap?: Readonly<Record<string, string>>;
  /** The bundle repository: a relocated image must be in it (convert.go `makeDescriptor`). */
  target?: LayoutTarget;
  /** Default `cnab`, cnab-to-oci's first choice. */
  configVariant?: ConfigVariant;
  /** Default `oci`; `docker` is the manifest-list fallback (push.go `pushDockerManifestList`). */
  indexVariant?: IndexVariant;
}

export function sha256Digest(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** An image-spec Descriptor (`mediaType, digest, size, …, annotations`, in the Go field order). */
function descriptor(mediaType: string, digest: string, size: number, annotations?: GoObject): GoObject {
  const fields: [string, GoValue][] = [
    ['mediaType', mediaType],
    ['digest', digest],
    ['size', size],
  ];
  if (annotations !== undefined && annotations.size > 0) fields.push(['annotations', annotations]);
  return new Map(fields);
}

const CONFIG_MEDIA: Record<ConfigVariant, string> = {
  cnab: MEDIA_CNAB_CONFIG,
  oci: MEDIA_OCI_CONFIG,
  docker: MEDIA_DOCKER_CONFIG,
  'cnab-spec': MEDIA_CNAB_SPEC_CONFIG,
};

/** The config manifest wrapping the blob (types.go `prepareOCIBundleConfig` / `prepareNonOCIBundleConfig`). */
export function configManifestFor(
  blob: Uint8Array,
  variant: ConfigVariant,
): { bytes: Uint8Array; mediaType: string } {
  const digest = sha256Digest(blob);
  if (variant !== 'docker') {
    const manifest = new Map<string, GoValue>([
      ['schemaVersion', 2],
      ['config', descriptor(CONFIG_MEDIA[variant], digest, blob.length)],
      ['layers', null], // Go: a nil slice without omitempty
    ]);
    return { bytes: utf8(goJson(manifest)), mediaType: MEDIA_OCI_MANIFEST };
  }
  // docker/distribution Descriptor order is mediaType, size, digest; schema2 marshals indented by 3 spaces
  const desc = new Map<string, GoValue>([
    ['mediaType', MEDIA_DOCKER_CONFIG],
    ['size', blob.length],
    ['digest', digest],
  ]);
  const manifest = new Map<string, GoValue>([
    ['schemaVersion', 2],
    ['mediaType', MEDIA_DOCKER_MANIFEST],
    ['config', desc],
    ['layers', [desc]],
  ]);
  return { bytes: utf8(goJson(manifest, '   ')), mediaType: MEDIA_DOCKER_MANIFEST };
}

type Json = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function imageError(
  code: 'REGISTRY_IMAGE_NOT_DIGESTED' | 'REGISTRY_IMAGE_INVALID',
  what: string,
  image: string,
  problem: string,
  hint: string,
): RegistryError {
  return new RegistryError(code, `${what} ${image}: ${problem}`, { hint, details: { image, what } });
}

/** The digest an image entry of the index gets: from the relocation map, else from bundle.json. */
function imageDigest(what: string, img: Json, options: BundleToOciOptions): string {
  const image = str(img['image']);
  const own = typeof img['contentDigest'] === 'string' ? img['contentDigest'] : undefined;
  const map = options.relocationMap;
  const relocated = map !== undefined && Object.hasOwn(map, image) ? map[image] : undefined;
  const source = relocated ?? image;
  const ref = splitImageRef(source);
  const digest = relocated !== undefined ? ref.digest : (own ?? ref.digest);
  if (digest === undefined) {
    // Porter PullBundle: an image without a digest "could allow for the bundle image to be replaced or tampered with"
    const via = relocated !== undefined ? ` (relocated to ${relocated})` : '';
    throw imageError(
      'REGISTRY_IMAGE_NOT_DIGESTED',
      what,
      image,
      `referenced by tag, not by digest${via}; a tag can be moved to another image`,
      'set contentDigest in bundle.json (or relocate to repo@sha256:…) so the bundle pins the image',
    );
  }
  if (!isDigest(digest)) {
    throw imageError(
      'REGISTRY_IMAGE_INVALID',
      what,
      image,
      digestWords(digest),
      'pin the image by its sha256 digest (cnabsec checks content by sha256 only)',
    );
  }
  if (own !== undefined && own !== digest) {
    throw imageError(
      'REGISTRY_IMAGE_INVALID',
      what,
      image,
      `contentDigest ${own} differs from ${source === image ? 'the digest in its reference' : `relocated ${source}`}`,
      'the bundle pins contentDigest: update bundle.json or the relocation map so they agree',
    );
  }
  // doc 103: a relocated image is a copy, by digest. Without this, an index (unsigned) could
  // point a signed bundle.json's `image@sha256:A` at any image B of its repository.
  const pinned = splitImageRef(image).digest;
  if (relocated !== undefined && own === undefined && pinned !== undefined && pinned !== digest) {
    throw imageError(
      'REGISTRY_IMAGE_INVALID',
      what,
      image,
      `relocated ${relocated} is ${digest}, but bundle.json pins ${pinned}`,
      'a relocated image is a copy by digest (CNAB doc 103): map it to a copy with the same digest',
    );
  }
  if (relocated !== undefined && options.target !== undefined) {
    const want = normalizedName(`${options.target.registry}/${options.target.repository}`);
    if (normalizedName(ref.name) !== want) {
      throw imageError(
        'REGISTRY_IMAGE_INVALID',
        what,
        image,
        `relocated ${relocated} is not in the same repository as ${want}`,
        'relocate every image into the bundle repository (cnab-to-oci fixup) before pushing the bundle',
      );
    }
  }
  return digest;
}

/** An index entry for an image (convert.go `makeDescriptor`, `getMediaType`). */
function imageChild(
  kind: 'invocation' | 'component',
  name: string | undefined,
  img: Json,
  o: BundleToOciOptions,
): BundleChild {
  const image = str(img['image']);
  const what = kind === 'invocation' ? 'invocation image' : `component image ${name}`;
  const digest = imageDigest(what, img, o);
  const imageType = str(img['imageType']);
  const mediaType =
    typeof img['mediaType'] === 'string'
      ? img['mediaType']
      : imageType === 'docker'
        ? MEDIA_DOCKER_MANIFEST
        : imageType === 'oci'
          ? MEDIA_OCI_MANIFEST
          : '';
  if (!IMAGE_MEDIA_TYPES.includes(mediaType)) {
    const problem =
      mediaType === ''
        ? `unsupported image type ${JSON.stringify(imageType)}`
        : `unsupported media type ${mediaType}`;
    throw imageError(
      'REGISTRY_IMAGE_INVALID',
      what,
      image,
      problem,
      `give mediaType: one of ${IMAGE_MEDIA_TYPES.join(', ')}`,
    );
  }
  const size = img['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    throw imageError(
      'REGISTRY_IMAGE_INVALID',
      what,
      image,
      'size is not set',
      'set size (bytes of the image manifest) in bundle.json',
    );
  }
  return { mediaType, digest, size, kind, ...(name === undefined ? {} : { name }), image };
}

function childrenOf(bundle: Json, configChild: BundleChild, o: BundleToOciOptions): BundleChild[] {
  const invocation = Array.isArray(bundle['invocationImages']) ? (bundle['invocationImages'] as Json[]) : [];
  if (invocation.length !== 1) {
    throw new RegistryError(
      'REGISTRY_IMAGE_INVALID',
      `bundle has ${invocation.length} invocation images; only one is supported`,
      {
        hint: 'cnab-to-oci represents exactly one invocation image (convert.go "only one invocation image supported")',
        details: { invocationImages: invocation.length },
      },
    );
  }
  const images = (bundle['images'] ?? {}) as Record<string, Json>;
  const names = Object.keys(images).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return [
    configChild,
    imageChild('invocation', undefined, invocation[0] as Json, o),
    ...names.map((n) => imageChild('component', n, images[n] as Json, o)),
  ];
}

/** The index annotations (convert.go `makeAnnotations`); maintainers and keywords as Go JSON. */
function indexAnnotations(bundle: Json): GoObject {
  const a: Record<string, GoValue> = {
    [ANN_RUNTIME_VERSION]: str(bundle['schemaVersion']),
    [ANN_TITLE]: str(bundle['name']),
    [ANN_VERSION]: str(bundle['version']),
    [ANN_DESCRIPTION]: str(bundle['description']),
    [ANN_ARTIFACT_TYPE]: ARTIFACT_TYPE,
  };
  const maintainers = bundle['maintainers'];
  if (Array.isArray(maintainers)) {
    // cnab-go Maintainer: name, then email and url with omitempty
    const list = (maintainers as Json[]).map((m) => {
      const fields: [string, GoValue][] = [['name', str(m['name'])]];
      if (str(m['email']) !== '') fields.push(['email', str(m['email'])]);
      if (str(m['url']) !== '') fields.push(['url', str(m['url'])]);
      return new Map(fields);
    });
    a[ANN_AUTHORS] = goJson(list);
  }
  const keywords = bundle['keywords'];
  if (Array.isArray(keywords)) a[ANN_KEYWORDS] = goJson((keywords as unknown[]).map(str));
  return goMap(a);
}

/** The index bytes for `children` (convert.go `ConvertBundleToOCIIndex`, push.go `prepareIndex[NonOCI]`). */
export function indexFor(bundle: Json, children: readonly BundleChild[], variant: IndexVariant): Uint8Array {
  const manifests = children.map((c) => {
    const ann: Record<string, GoValue> = { [ANN_TYPE]: c.kind };
    if (c.name !== undefined) ann[ANN_COMPONENT] = c.name;
    return descriptor(c.mediaType, c.digest, c.size, goMap(ann));
  });
  const fields: [string, GoValue][] = [
    ['schemaVersion', 2],
    ['manifests', manifests],
    ['annotations', indexAnnotations(bundle)],
  ];
  // ociIndexWrapper: the outer mediaType field is encoded after the embedded Index's fields
  if (variant === 'docker') fields.push(['mediaType', MEDIA_DOCKER_LIST]);
  return utf8(goJson(new Map(fields)));
}

/**
 * Everything cnab-to-oci pushes for `bundleJson`. Refuses (RegistryError) an image referenced by
 * tag only, more than one invocation image, an image without size or with an unknown media
 * type, a relocation outside the target repository; a bundle.json that is not valid (CnabError).
 */
export function bundleToOci(bundleJson: Uint8Array | object, given: BundleToOciOptions = {}): BundleLayout {
  const options: BundleToOciOptions =
    given.relocationMap === undefined
      ? given
      : { ...given, relocationMap: checkRelocationMap(given.relocationMap, 'the relocation map') };
  const configBlob = new Uint8Array(canonicalBundleBytes(bundleJson, 'bundle.json'));
  const { bundle } = checkThinBundle(configBlob, 'bundle.json');
  const configVariant = options.configVariant ?? 'cnab';
  const indexVariant = options.indexVariant ?? 'oci';
  const manifest = configManifestFor(configBlob, configVariant);
  const configChild: BundleChild = {
    mediaType: manifest.mediaType,
    digest: sha256Digest(manifest.bytes),
    size: manifest.bytes.length,
    kind: 'config',
  };
  const children = childrenOf(bundle, configChild, options);
  const index = indexFor(bundle, children, indexVariant);
  return {
    configBlob,
    configDigest: sha256Digest(configBlob),
    configVariant,
    configManifest: manifest.bytes,
    configManifestMediaType: manifest.mediaType,
    configManifestDigest: configChild.digest,
    index,
    indexVariant,
    indexMediaType: indexVariant === 'oci' ? MEDIA_OCI_INDEX : MEDIA_DOCKER_LIST,
    indexDigest: sha256Digest(index),
    children,
  };
}
