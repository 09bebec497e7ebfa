/**
 * Copying one image's manifest tree by digest between repositories (of one registry or two),
 * as cnab-to-oci's fixup (remotes/fixup.go) and `crane copy` do: an image manifest (OCI or
 * Docker schema2) brings its config and layer blobs; an index (OCI index, Docker manifest
 * list) brings each child manifest, recursively. Blobs go first, then manifests children
 * before parents, each PUT by its digest (a registry refuses a manifest whose blobs or
 * children are missing: facts §3 MANIFEST_BLOB_UNKNOWN), so a copy failing half-way leaves
 * no manifest pointing at something absent and never touches a tag.
 *
 * - What the destination already has (a HEAD by digest) is skipped, with its subtree: a
 *   registry only stores a manifest whose references it holds. A second copy sends nothing.
 * - Within one registry host, blobs are mounted (`?mount=&from=`), falling back to an upload.
 * - Across registries, blobs are streamed (blob-stream.ts): never held whole, checked against
 *   their descriptor's sha256 and size while passing, and committed only once checked.
 * - Bounds: at most `maxManifests` manifests and `maxBlobs` blobs per tree, `maxDepth`
 *   levels (an index of indexes of images is 3), each manifest within the client's
 *   maxManifestBytes and of the size its descriptor gives; every digest must be sha256.
 * - Non-distributable ("foreign") layers, which a registry need not hold, are skipped when
 *   they name `urls` to fetch them from, as docker and crane do; one without `urls` is
 *   refused (nobody could fetch it).
 */
import { parseJsonBounded } from '../util/json.js';
import { MEDIA_TYPES, type RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { isDigest } from './reference.js';

export interface ImageEndpoint {
  client: RegistryClient;
  repository: string;
}

export interface CopyImageOptions {
  /** The media type and size of the root manifest, when a descriptor gives them (checked). */
  mediaType?: string;
  size?: number;
  /** Default 1,000. */
  maxManifests?: number;
  /** Default 10,000. */
  maxBlobs?: number;
  /** Levels of manifests, the root being 1; default 4. */
  maxDepth?: number;
}

/** What a copy did; counts add up over several copies (`addCounts`). */
export interface CopyCounts {
  /** Manifests PUT to the destination. */
  manifests: number;
  /** Manifests the destination had already (their subtrees are not walked). */
  manifestsPresent: number;
  /** Blobs uploaded (streamed) to the destination. */
  blobs: number;
  /** Blobs mounted from the source repository (same registry). */
  mounted: number;
  /** Blobs the destination had already. */
  blobsPresent: number;
  /** Foreign layers left out (fetched from their `urls`). */
  foreign: number;
  /** Bytes of the uploaded blobs. */
  bytes: number;
}

export function emptyCounts(): CopyCounts {
  return { manifests: 0, manifestsPresent: 0, blobs: 0, mounted: 0, blobsPresent: 0, foreign: 0, bytes: 0 };
}

export function addCounts(into: CopyCounts, more: CopyCounts): CopyCounts {
  for (const k of Object.keys(into) as (keyof CopyCounts)[]) into[k] += more[k];
  return into;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  foreign: boolean;
}

const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const FOREIGN =
  /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff\.tar\.gzip|oci\.image\.layer\.nondistributable\.)/;

function invalid(where: string, problem: string, details: Record<string, unknown> = {}): RegistryError {
  return new RegistryError('REGISTRY_IMAGE_INVALID', `${where}: ${problem}`, {
    hint: 'the image cannot be copied as it is; check it with the registry it came from',
    details: { where, ...details },
  });
}

/** A descriptor of a manifest (`what` names it for messages), checked. */
function descriptorOf(value: unknown, what: string, blob: boolean): Descriptor {
  const d = (value ?? {}) as Record<string, unknown>;
  const { mediaType, digest, size } = d;
  if (typeof digest !== 'string' || !isDigest(digest)) {
    const shown = typeof digest === 'string' ? digest.slice(0, 80) : typeof digest;
    throw invalid(what, `digest ${JSON.stringify(shown)} is not sha256:<64 hex> (only sha256 is supported)`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw invalid(what, `${digest} has no valid size`, { digest });
  if (typeof mediaType !== 'string' || mediaType === '')
    throw invalid(what, `${digest} has no media type`, { digest });
  const foreign = blob && FOREIGN.test(mediaType);
  if (foreign) {
    const urls = d['urls'];
    if (!Array.isArray(urls) || urls.length === 0)
      throw invalid(what, `non-distributable layer ${digest} has no urls to fetch it from`, { digest });
  }
  return { mediaType, digest, size, foreign };
}

/** The blobs (config, layers) of an image manifest, or the child manifests of an index. */
function referencesOf(doc: Record<string, unknown>, mediaType: string, where: string) {
  if (IMAGE_TYPES.has(mediaType)) {
    const layers = doc['layers'];
    if (layers !== undefined && layers !== null && !Array.isArray(layers))
      throw invalid(where, 'layers is not a list');
    const blobs = [
      descriptorOf(doc['config'], `${where} config`, true),
      ...((layers ?? []) as unknown[]).map((l, i) => descriptorOf(l, `${where} layers[${i}]`, true)),
    ];
    return { blobs, children: [] as Descriptor[] };
  }
  const manifests = doc['manifests'];
  if (!Array.isArray(manifests)) throw invalid(where, 'the index has no manifests list');
  const children = manifests.map((m, i) => descriptorOf(m, `${where} manifests[${i}]`, false));
  for (const c of children) {
    if (!IMAGE_TYPES.has(c.mediaType) && !INDEX_TYPES.has(c.mediaType))
      throw invalid(where, `child ${c.digest} has media type ${c.mediaType.slice(0, 100)}, not a manifest`);
  }
  return { blobs: [] as Descriptor[], children };
}

class TreeCopy {
  readonly counts = emptyCounts();
  private manifestsSeen = 0;
  private readonly blobsDone = new Set<string>();
  private readonly manifestsDone = new Set<string>();
  private readonly sameHost: boolean;

  constructor(
    private readonly from: ImageEndpoint,
    private readonly to: ImageEndpoint,
    private readonly limits: Required<Pick<CopyImageOptions, 'maxManifests' | 'maxBlobs' | 'maxDepth'>>,
  ) {
    this.sameHost = from.client.registry === to.client.registry;
  }

  private where(digest: string): string {
    return `${this.from.client.registry}/${this.from.repository}@${digest}`;
  }

  private countManifest(digest: string): void {
    if (++this.manifestsSeen > this.limits.maxManifests)
      throw invalid(this.where(digest), `the image tree has more than ${this.limits.maxManifests} manifests`);
  }

  async manifest(d: { digest: string; mediaType?: string; size?: number }, depth: number): Promise<void> {
    if (this.manifestsDone.has(d.digest)) return;
    const where = this.where(d.digest);
    if (depth > this.limits.maxDepth)
      throw invalid(where, `manifests nest deeper than ${this.limits.maxDepth} levels`);
    this.countManifest(d.digest);
    const there = await this.to.client.headManifest(this.to.repository, d.digest);
    if (there !== undefined) {
      this.counts.manifestsPresent++;
      this.manifestsDone.add(d.digest);
      return;
    }
    const m = await this.from.client.getManifest(
      this.from.repository,
      d.digest,
      d.mediaType === undefined ? [] : [d.mediaType],
    );
    if (d.mediaType !== undefined && m.mediaType !== d.mediaType)
      throw invalid(where, `served as ${m.mediaType}, its descriptor says ${d.mediaType}`);
    if (d.size !== undefined && m.bytes.byteLength !== d.size)
      throw invalid(where, `${m.bytes.byteLength} bytes, its descriptor says ${d.size}`);
    if (!IMAGE_TYPES.has(m.mediaType) && !INDEX_TYPES.has(m.mediaType))
      throw invalid(where, `media type ${m.mediaType} is not an image manifest or index`);
    const doc = parseJsonBounded(m.bytes, { source: `manifest ${where}`, maxBytes: m.bytes.byteLength });
    const refs = referencesOf((doc ?? {}) as Record<string, unknown>, m.mediaType, where);
    for (const b of refs.blobs) await this.blob(b);
    for (const c of refs.children) await this.manifest(c, depth + 1);
    await this.to.client.putManifest(this.to.repository, d.digest, m.mediaType, m.bytes);
    this.counts.manifests++;
    this.manifestsDone.add(d.digest);
  }

  private async blob(b: Descriptor): Promise<void> {
    if (this.blobsDone.has(b.digest)) return;
    if (this.blobsDone.size >= this.limits.maxBlobs)
      throw invalid(this.where(b.digest), `the image tree has more than ${this.limits.maxBlobs} blobs`);
    this.blobsDone.add(b.digest);
    if (b.foreign) {
      this.counts.foreign++;
      return;
    }
    const { client, repository } = this.from;
    const how = await this.to.client.pushBlobStream(
      this.to.repository,
      b,
      () => client.getBlobStream(repository, b),
      this.sameHost ? { mountFrom: repository } : {},
    );
    if (how === 'present') this.counts.blobsPresent++;
    else if (how === 'mounted') this.counts.mounted++;
    else {
      this.counts.blobs++;
      this.counts.bytes += b.size;
    }
  }
}

/**
 * Copy the manifest tree of `digest` from `from` to `to` (see the file comment). Nothing is
 * tagged. Refuses (REGISTRY_IMAGE_INVALID) a tree over its bounds, a descriptor that is not
 * sha256 or disagrees with what is served; REGISTRY_DIGEST_MISMATCH for altered bytes.
 */
export async function copyImage(
  from: ImageEndpoint,
  to: ImageEndpoint,
  digest: string,
  options: CopyImageOptions = {},
): Promise<CopyCounts> {
  if (!isDigest(digest))
    throw invalid(`${from.client.registry}/${from.repository}`, `${digest} is not sha256`);
  const copy = new TreeCopy(from, to, {
    maxManifests: options.maxManifests ?? 1000,
    maxBlobs: options.maxBlobs ?? 10_000,
    maxDepth: options.maxDepth ?? 4,
  });
  // within one repository every HEAD finds the manifest: nothing is sent
  await copy.manifest({ digest, ...pick(options) }, 1);
  return copy.counts;
}

function pick(o: CopyImageOptions): { mediaType?: string; size?: number } {
  return {
    ...(o.mediaType === undefined ? {} : { mediaType: o.mediaType }),
    ...(o.size === undefined ? {} : { size: o.size }),
  };
}
