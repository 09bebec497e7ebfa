/**
 * Media types, annotations and shapes of a CNAB bundle in an OCI registry, as cnab-to-oci
 * (cnabio/cnab-to-oci, converter/convert.go and types.go) writes them; CNAB docs 200/201.
 */

export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** cnab-to-oci's config media type (converter/types.go `CNABConfigMediaType`). */
export const MEDIA_CNAB_CONFIG = 'application/vnd.cnab.config.v1+json';
/** The config media type named by CNAB doc 201 (cnab-to-oci never writes it; read only). */
export const MEDIA_CNAB_SPEC_CONFIG = 'application/vnd.cnab.bundle.config.v1+json';
export const MEDIA_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

/** The media types an image descriptor of the index may have (convert.go `getMediaType`). */
export const IMAGE_MEDIA_TYPES: readonly string[] = [
  MEDIA_OCI_MANIFEST,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_INDEX,
  MEDIA_DOCKER_LIST,
];

export const ANN_TYPE = 'io.cnab.manifest.type';
export const ANN_COMPONENT = 'io.cnab.component.name';
export const ANN_RUNTIME_VERSION = 'io.cnab.runtime_version';
export const ANN_KEYWORDS = 'io.cnab.keywords';
export const ANN_ARTIFACT_TYPE = 'org.opencontainers.artifactType';
export const ARTIFACT_TYPE = 'application/vnd.cnab.manifest.v1';
export const ANN_TITLE = 'org.opencontainers.image.title';
export const ANN_VERSION = 'org.opencontainers.image.version';
export const ANN_DESCRIPTION = 'org.opencontainers.image.description';
export const ANN_AUTHORS = 'org.opencontainers.image.authors';

/**
 * How the bundle.json is wrapped (types.go `PrepareForPush`, in fallback order):
 * - `cnab`: OCI manifest, config `application/vnd.cnab.config.v1+json` (what cnab-to-oci pushes first);
 * - `oci`: OCI manifest, config `application/vnd.oci.image.config.v1+json` (first fallback);
 * - `docker`: Docker schema2 manifest, config `…container.image.v1+json`, the blob repeated as
 *   its only layer, indented by three spaces (`schema2.FromStruct`; second fallback);
 * - `cnab-spec`: OCI manifest, config `application/vnd.cnab.bundle.config.v1+json` (doc 201's example; read only).
 */
export type ConfigVariant = 'cnab' | 'oci' | 'docker' | 'cnab-spec';
export const CONFIG_FALLBACKS: readonly ConfigVariant[] = ['cnab', 'oci', 'docker'];

/** The top-level object: an OCI index (no mediaType field) or, as fallback, a Docker manifest list. */
export type IndexVariant = 'oci' | 'docker';

export type ChildKind = 'config' | 'invocation' | 'component';

/** One entry of the index's `manifests`, in index order. */
export interface BundleChild {
  mediaType: string;
  digest: string;
  size: number;
  kind: ChildKind;
  /** The `images` key of a component (`io.cnab.component.name`). */
  name?: string;
  /** For an image: its `image` field in bundle.json (the relocation map key). */
  image?: string;
}

/** Everything pushed for a bundle, children first: config blob, config manifest, then the index. */
export interface BundleLayout {
  /** The canonical bundle.json: the config blob (doc 201). */
  configBlob: Uint8Array;
  configDigest: string;
  configVariant: ConfigVariant;
  configManifest: Uint8Array;
  configManifestMediaType: string;
  configManifestDigest: string;
  index: Uint8Array;
  indexVariant: IndexVariant;
  indexMediaType: string;
  /** The bundle digest of cnab-to-oci: the digest of the index. */
  indexDigest: string;
  children: BundleChild[];
}

/** Where the bundle is pushed: images relocated into it must be in this repository. */
export interface LayoutTarget {
  /** Registry host[:port], e.g. `127.0.0.1:5000` or `docker.io`. */
  registry: string;
  /** Repository path, e.g. `org/bundle`. */
  repository: string;
}
