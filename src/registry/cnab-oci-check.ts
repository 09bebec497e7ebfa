/**
 * Structural checks of a fetched bundle index and config manifest against cnab-to-oci's
 * layout (CNAB doc 201 "Top-level representation"; cnab-to-oci converter/convert.go). Each
 * refusal names the field that differs; ociToBundle (cnab-oci-read.ts) then rebuilds the
 * index from the bundle and compares bytes, which catches whatever these checks let through.
 */
import { parseJsonBounded } from '../util/json.js';
import { messageOf } from '../errors.js';
import { digestWords, isDigest } from './image-names.js';
import { RegistryError } from './errors.js';
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
  type ConfigVariant,
  type IndexVariant,
} from './cnab-oci-types.js';

/** Largest index or config manifest parsed (an index of a bundle with many components stays far below). */
export const MAX_LAYOUT_JSON_BYTES = 4 * 1024 * 1024;

export interface CheckedIndex {
  variant: IndexVariant;
  children: BundleChild[];
  annotations: Record<string, string>;
}

export interface CheckedConfigManifest {
  variant: ConfigVariant;
  config: { mediaType: string; digest: string; size: number };
}

type Json = Record<string, unknown>;

const MAX_PROBLEM = 600;

export function layoutMismatch(
  what: string,
  problem: string,
  details: Record<string, unknown> = {},
): RegistryError {
  // the problem quotes registry-chosen strings (media types, annotation keys, names): bounded
  const shown = problem.length > MAX_PROBLEM ? `${problem.slice(0, MAX_PROBLEM)}…` : problem;
  return new RegistryError('REGISTRY_LAYOUT_MISMATCH', `${what}: ${shown}`, {
    hint: 'the bundle was not pushed in the cnab-to-oci layout (CNAB doc 201); push it again with cnabsec or cnab-to-oci',
    details: { what, ...details },
  });
}

function parseObject(bytes: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = parseJsonBounded(bytes, { source: what, maxBytes: MAX_LAYOUT_JSON_BYTES, integersOnly: true });
  } catch (e) {
    throw layoutMismatch(what, `not JSON (${messageOf(e)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw layoutMismatch(what, 'not a JSON object');
  return value as Json;
}

function onlyKeys(obj: Json, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw layoutMismatch(
        what,
        `unexpected field ${JSON.stringify(k)} (cnab-to-oci writes ${allowed.join(', ')})`,
      );
  }
}

/** A descriptor `{mediaType, digest, size[, annotations]}` (image-spec descriptor.md). */
function checkDescriptor(
  d: unknown,
  what: string,
  annotated: boolean,
): { mediaType: string; digest: string; size: number; annotations: Record<string, string> } {
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    throw layoutMismatch(what, 'not a descriptor object');
  const o = d as Json;
  onlyKeys(
    o,
    annotated ? ['mediaType', 'digest', 'size', 'annotations'] : ['mediaType', 'digest', 'size'],
    what,
  );
  if (typeof o['mediaType'] !== 'string') throw layoutMismatch(what, 'mediaType missing');
  if (typeof o['digest'] !== 'string' || !isDigest(o['digest']))
    throw layoutMismatch(
      what,
      typeof o['digest'] === 'string' ? digestWords(o['digest']) : 'the digest is not a string',
    );
  const size = o['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
    throw layoutMismatch(what, 'size missing or not a positive integer');
  const annotations: Record<string, string> = {};
  if (annotated) {
    const a = o['annotations'];
    if (typeof a !== 'object' || a === null || Array.isArray(a))
      throw layoutMismatch(what, `annotation ${ANN_TYPE} missing`);
    for (const [k, v] of Object.entries(a as Json)) {
      if (typeof v !== 'string') throw layoutMismatch(what, `annotation ${k} is not a string`);
      annotations[k] = v;
    }
  }
  return { mediaType: o['mediaType'], digest: o['digest'], size, annotations };
}

/** One `manifests` entry: config first, one invocation image, then components by name (doc 201 order). */
function checkChild(d: unknown, i: number): BundleChild {
  const what = `bundle index manifests[${i}]`;
  const c = checkDescriptor(d, what, true);
  const kind = c.annotations[ANN_TYPE];
  const want = i === 0 ? 'config' : i === 1 ? 'invocation' : 'component';
  if (kind === undefined) throw layoutMismatch(what, `annotation ${ANN_TYPE} missing`);
  if (kind !== want)
    throw layoutMismatch(
      what,
      `is a ${JSON.stringify(kind)} entry where cnab-to-oci puts the ${want} entry`,
      { index: i },
    );
  const allowedAnn = kind === 'component' ? [ANN_TYPE, ANN_COMPONENT] : [ANN_TYPE];
  for (const k of Object.keys(c.annotations)) {
    if (!allowedAnn.includes(k)) throw layoutMismatch(what, `unexpected annotation ${k}`);
  }
  const media = kind === 'config' ? [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST] : IMAGE_MEDIA_TYPES;
  if (!media.includes(c.mediaType))
    throw layoutMismatch(what, `unknown media type ${c.mediaType} for a ${kind} entry`);
  const child: BundleChild = { mediaType: c.mediaType, digest: c.digest, size: c.size, kind };
  if (kind === 'component') {
    const name = c.annotations[ANN_COMPONENT];
    if (name === undefined) throw layoutMismatch(what, `annotation ${ANN_COMPONENT} missing`);
    child.name = name;
  }
  return child;
}

const REQUIRED_ANNOTATIONS = [
  ANN_RUNTIME_VERSION,
  ANN_TITLE,
  ANN_VERSION,
  ANN_DESCRIPTION,
  ANN_ARTIFACT_TYPE,
];
const OPTIONAL_ANNOTATIONS = [ANN_AUTHORS, ANN_KEYWORDS];

function checkIndexAnnotations(a: unknown): Record<string, string> {
  const what = 'bundle index annotations';
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw layoutMismatch(what, 'missing');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a as Json)) {
    if (!REQUIRED_ANNOTATIONS.includes(k) && !OPTIONAL_ANNOTATIONS.includes(k))
      throw layoutMismatch(what, `unexpected annotation ${k}`);
    if (typeof v !== 'string') throw layoutMismatch(what, `annotation ${k} is not a string`);
    out[k] = v;
  }
  for (const k of REQUIRED_ANNOTATIONS) {
    if (out[k] === undefined) throw layoutMismatch(what, `annotation ${k} missing`, { annotation: k });
  }
  if (out[ANN_ARTIFACT_TYPE] !== ARTIFACT_TYPE)
    throw layoutMismatch(
      what,
      `${ANN_ARTIFACT_TYPE} is ${JSON.stringify(out[ANN_ARTIFACT_TYPE])}, not ${ARTIFACT_TYPE}`,
    );
  return out;
}

/**
 * Check that `bytes` (served as `mediaType`) is a bundle index in cnab-to-oci's layout: an OCI
 * index without a mediaType field, or the Docker manifest-list fallback with one; `manifests`
 * = config, exactly one invocation image, components sorted by name; the `io.cnab.*` and
 * `org.opencontainers.*` annotations. Refusal: RegistryError REGISTRY_LAYOUT_MISMATCH.
 */
export function checkBundleIndex(bytes: Uint8Array, mediaType: string): CheckedIndex {
  const what = 'bundle index';
  if (mediaType !== MEDIA_OCI_INDEX && mediaType !== MEDIA_DOCKER_LIST) {
    throw layoutMismatch(what, `media type ${mediaType} is not an OCI index or a Docker manifest list`, {
      mediaType,
    });
  }
  const variant: IndexVariant = mediaType === MEDIA_OCI_INDEX ? 'oci' : 'docker';
  const o = parseObject(bytes, what);
  onlyKeys(
    o,
    variant === 'oci'
      ? ['schemaVersion', 'manifests', 'annotations']
      : ['schemaVersion', 'manifests', 'annotations', 'mediaType'],
    what,
  );
  if (o['schemaVersion'] !== 2)
    throw layoutMismatch(what, `schemaVersion is ${JSON.stringify(o['schemaVersion'])}, not 2`);
  if (variant === 'docker' && o['mediaType'] !== MEDIA_DOCKER_LIST)
    throw layoutMismatch(
      what,
      `mediaType field is ${JSON.stringify(o['mediaType'])}, not ${MEDIA_DOCKER_LIST}`,
    );
  const manifests = o['manifests'];
  if (!Array.isArray(manifests)) throw layoutMismatch(what, 'manifests is not a list');
  if (manifests.length < 2)
    throw layoutMismatch(
      what,
      `manifests has ${manifests.length} entries; cnab-to-oci writes the config and the invocation image at least`,
    );
  const children = manifests.map((d, i) => checkChild(d, i));
  for (let i = 3; i < children.length; i++) {
    const a = Buffer.from(children[i - 1]?.name ?? '');
    const b = Buffer.from(children[i]?.name ?? '');
    if (Buffer.compare(a, b) >= 0)
      throw layoutMismatch(
        `${what} manifests[${i}]`,
        `component ${children[i]?.name} is out of order or repeated (cnab-to-oci sorts components by name)`,
      );
  }
  return { variant, children, annotations: checkIndexAnnotations(o['annotations']) };
}

const CONFIG_VARIANTS: Record<string, ConfigVariant> = {
  [MEDIA_CNAB_CONFIG]: 'cnab',
  [MEDIA_OCI_CONFIG]: 'oci',
  [MEDIA_CNAB_SPEC_CONFIG]: 'cnab-spec',
};

/** The config manifest: OCI (`layers` null) or the Docker schema2 fallback (the blob as its only layer). */
export function checkConfigManifest(bytes: Uint8Array, mediaType: string): CheckedConfigManifest {
  const what = 'bundle config manifest';
  const o = parseObject(bytes, what);
  if (o['schemaVersion'] !== 2)
    throw layoutMismatch(what, `schemaVersion is ${JSON.stringify(o['schemaVersion'])}, not 2`);
  if (mediaType === MEDIA_OCI_MANIFEST) {
    onlyKeys(o, ['schemaVersion', 'config', 'layers'], what);
    const config = checkDescriptor(o['config'], `${what} config`, false);
    const variant = CONFIG_VARIANTS[config.mediaType];
    if (variant === undefined) throw layoutMismatch(what, `unknown config media type ${config.mediaType}`);
    if (o['layers'] !== null)
      throw layoutMismatch(what, `layers is ${JSON.stringify(o['layers'])}; cnab-to-oci writes null`);
    return { variant, config };
  }
  if (mediaType !== MEDIA_DOCKER_MANIFEST) throw layoutMismatch(what, `unknown media type ${mediaType}`);
  onlyKeys(o, ['schemaVersion', 'mediaType', 'config', 'layers'], what);
  if (o['mediaType'] !== MEDIA_DOCKER_MANIFEST)
    throw layoutMismatch(
      what,
      `mediaType field is ${JSON.stringify(o['mediaType'])}, not ${MEDIA_DOCKER_MANIFEST}`,
    );
  const config = checkDescriptor(o['config'], `${what} config`, false);
  if (config.mediaType !== MEDIA_DOCKER_CONFIG)
    throw layoutMismatch(what, `unknown config media type ${config.mediaType}`);
  const layers = o['layers'];
  if (!Array.isArray(layers) || layers.length !== 1)
    throw layoutMismatch(what, 'layers is not the config blob alone');
  const layer = checkDescriptor(layers[0], `${what} layers[0]`, false);
  if (layer.digest !== config.digest || layer.size !== config.size || layer.mediaType !== config.mediaType) {
    throw layoutMismatch(what, 'layers[0] is not the config blob');
  }
  return { variant: 'docker', config };
}
