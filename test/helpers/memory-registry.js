// A deliberately simple in-memory RegistryClient (src/registry/client.ts seam) for the
// bundle push/pull tests: digests are checked on every write and read, a manifest whose
// children are missing is refused as docker-registry 2.8 does (MANIFEST_BLOB_UNKNOWN), and
// every call is logged so tests can check the order of a push. `failOn(call)` returning an
// Error makes that call throw before it changes anything.
import { createHash } from 'node:crypto';

const digestOf = (bytes) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');
const isDigest = (ref) => /^sha256:[0-9a-f]{64}$/.test(ref);

export class MemoryRegistryError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class MemoryRegistry {
  constructor({ failOn } = {}) {
    this.repos = new Map();
    this.calls = [];
    this.failOn = failOn ?? (() => undefined);
    /** digest → bytes served instead of the stored ones (to test the puller's own checks). */
    this.tamper = new Map();
  }

  repo(name) {
    if (!this.repos.has(name))
      this.repos.set(name, { blobs: new Map(), manifests: new Map(), tags: new Map() });
    return this.repos.get(name);
  }

  record(call) {
    this.calls.push(call);
    const err = this.failOn(call);
    if (err) throw err;
  }

  resolve(repository, reference) {
    const r = this.repo(repository);
    const digest = isDigest(reference) ? reference : r.tags.get(reference);
    const m = digest === undefined ? undefined : r.manifests.get(digest);
    return m === undefined ? undefined : { digest, ...m };
  }

  async getManifest(repository, reference, accept) {
    this.record({ op: 'getManifest', repository, reference });
    const m = this.resolve(repository, reference);
    if (m === undefined)
      throw new MemoryRegistryError('REGISTRY_NOT_FOUND', `${repository}:${reference}: manifest unknown`);
    if (accept !== undefined && !accept.includes(m.mediaType))
      throw new MemoryRegistryError(
        'REGISTRY_BAD_MEDIA_TYPE',
        `${repository}:${reference}: ${m.mediaType} not accepted`,
      );
    const bytes = this.tamper.get(m.digest) ?? m.bytes;
    return { mediaType: m.mediaType, digest: m.digest, bytes: new Uint8Array(bytes) };
  }

  async headManifest(repository, reference) {
    this.record({ op: 'headManifest', repository, reference });
    const m = this.resolve(repository, reference);
    return m === undefined ? undefined : { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
  }

  /** Children a manifest references (index: manifests; image manifest: config and layers). */
  missingChildren(r, mediaType, bytes) {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (Array.isArray(doc.manifests))
      return doc.manifests.map((d) => d.digest).filter((d) => !r.manifests.has(d));
    const blobs = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter(Boolean);
    return blobs.filter((d) => !r.blobs.has(d));
  }

  async putManifest(repository, reference, mediaType, bytes) {
    this.record({ op: 'putManifest', repository, reference, mediaType, bytes });
    const r = this.repo(repository);
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest)
      throw new MemoryRegistryError(
        'REGISTRY_DIGEST_MISMATCH',
        `${repository}@${reference}: body hashes to ${digest}`,
      );
    const missing = this.missingChildren(r, mediaType, bytes);
    if (missing.length > 0)
      throw new MemoryRegistryError('REGISTRY_PROTOCOL', `MANIFEST_BLOB_UNKNOWN ${missing[0]}`);
    r.manifests.set(digest, { mediaType, bytes: Buffer.from(bytes) });
    if (!isDigest(reference)) r.tags.set(reference, digest);
    return digest;
  }

  async getBlob(repository, digest, maxBytes) {
    this.record({ op: 'getBlob', repository, reference: digest });
    const b = this.repo(repository).blobs.get(digest);
    if (b === undefined)
      throw new MemoryRegistryError('REGISTRY_NOT_FOUND', `${repository}@${digest}: blob unknown`);
    const bytes = this.tamper.get(digest) ?? b;
    if (bytes.length > maxBytes)
      throw new MemoryRegistryError('REGISTRY_TOO_LARGE', `${repository}@${digest}: over ${maxBytes} bytes`);
    return new Uint8Array(bytes);
  }

  async hasBlob(repository, digest) {
    this.record({ op: 'hasBlob', repository, reference: digest });
    return this.repo(repository).blobs.has(digest);
  }

  async pushBlob(repository, bytes) {
    const digest = digestOf(bytes);
    this.record({ op: 'pushBlob', repository, reference: digest });
    this.repo(repository).blobs.set(digest, Buffer.from(bytes));
    return digest;
  }

  async deleteManifest(repository, digest) {
    this.record({ op: 'deleteManifest', repository, reference: digest });
    const r = this.repo(repository);
    r.manifests.delete(digest);
    for (const [t, d] of r.tags) if (d === digest) r.tags.delete(t);
  }

  async listTags(repository) {
    this.record({ op: 'listTags', repository });
    return [...this.repo(repository).tags.keys()].sort();
  }

  /** Store an image manifest (and a config blob for it) as a relocated image would be; returns its descriptor. */
  seedImage(repository, mediaType, label) {
    const r = this.repo(repository);
    const config = Buffer.from(JSON.stringify({ label }));
    r.blobs.set(digestOf(config), config);
    const configType = mediaType.includes('docker')
      ? 'application/vnd.docker.container.image.v1+json'
      : 'application/vnd.oci.image.config.v1+json';
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: configType, digest: digestOf(config), size: config.length },
        layers: [],
      }),
    );
    r.manifests.set(digestOf(bytes), { mediaType, bytes });
    return { mediaType, digest: digestOf(bytes), size: bytes.length };
  }
}
