/**
 * The registry client: the OCI distribution spec v1.1 API ("distribution-spec/spec.md") for
 * manifests, blobs, uploads, mounts and tags, on one registry. Every manifest and blob read is
 * size-bounded and checked against its sha256 digest before it is returned (image-spec
 * "descriptor.md" §Digests: a consumer MUST verify content against the digest); a
 * `Docker-Content-Digest` that disagrees with the bytes is REGISTRY_DIGEST_MISMATCH.
 */
import { createHash } from 'node:crypto';
import { httpTimeoutMs } from '../tuf/client/network.js';
import { parseJsonBounded, quote } from '../util/json.js';
import { defaultCredentials, type Credentials, type CredentialSource } from './docker-config.js';
import { RegistryError } from './errors.js';
import { discard, readBounded, sha256Digest } from './http.js';
import {
  DOCKER_HUB,
  digestProblem,
  digestProblemText,
  isDigest,
  isRegistryHost,
  normalizeHost,
} from './reference.js';
import { deleteScope, pullScope, pushScope, Session, type Target } from './session.js';
import {
  badHost,
  checkDigest,
  checkHeaderDigest,
  checkManifestRef,
  checkRepository,
  mediaTypeOf,
  mismatch,
} from './checks.js';
import { pushBlobBytes, pushBlobChunks, type BlobPushed } from './upload.js';
import { openBlobStream, type BlobDescriptor } from './blob-stream.js';
import { listTagPages } from './tags.js';

export interface Fetched {
  mediaType: string;
  digest: string;
  bytes: Uint8Array;
}

export interface RegistryClient {
  /** The registry host (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /**
   * A manifest by tag or digest. `Accept` is `accept` plus MANIFEST_ACCEPT; the answer's media
   * type must be one of them (the caller checks it is the one it wants). Size-bounded by
   * `maxManifestBytes`; the digest is of the bytes and checked against a digest reference.
   */
  getManifest(repository: string, reference: string, accept?: readonly string[]): Promise<Fetched>;
  /** Digest, media type and size from a HEAD; undefined when the registry has no such manifest. */
  headManifest(
    repository: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; size: number } | undefined>;
  /** PUT the bytes as `mediaType` under a tag or their digest; returns their digest. */
  putManifest(repository: string, reference: string, mediaType: string, bytes: Uint8Array): Promise<string>;
  /** A blob, streamed up to `maxBytes` and checked against `digest`. */
  getBlob(repository: string, digest: string, maxBytes: number): Promise<Uint8Array>;
  hasBlob(repository: string, digest: string): Promise<boolean>;
  /** Upload unless the repository has it (mounted from `mountFrom` when the registry can); its digest. */
  pushBlob(repository: string, bytes: Uint8Array, options?: { mountFrom?: string }): Promise<string>;
  /** Delete by digest (registries refuse deletes by tag); the tags on it go too. */
  deleteManifest(repository: string, digest: string): Promise<void>;
  /** Every tag, following Link pages (bounded). */
  listTags(repository: string): Promise<string[]>;
  /**
   * A blob as a stream of chunks, never held whole (blob-stream.ts): more than `blob.size`
   * bytes stop it, and its last read throws unless it had exactly `blob.size` bytes hashing to `blob.digest`.
   */
  getBlobStream(repository: string, blob: BlobDescriptor): Promise<AsyncIterable<Uint8Array>>;
  /**
   * Upload a blob from a stream unless the repository has it (HEAD), mounting from
   * `mountFrom` when the registry can; `open` is called only when bytes must be sent.
   * Chunks of `chunkBytes` are PATCHed as they come; the committing PUT only follows the
   * stream's end (upload.ts `pushBlobChunks`).
   */
  pushBlobStream(
    repository: string,
    blob: BlobDescriptor,
    open: () => Promise<AsyncIterable<Uint8Array>>,
    options?: { mountFrom?: string },
  ): Promise<BlobPushed>;
}

export interface RegistryOptions {
  /** `host[:port]`; `docker.io` is Docker Hub. */
  registry: string;
  /** Plain HTTP (and an http token realm). Only when asked. */
  insecure?: boolean;
  /** Default: CNABSEC_REGISTRY_USER/PASSWORD, else the docker config.json entry for the host. */
  credentials?: CredentialSource;
  /** A docker config.json to read credentials from (instead of ~/.docker/config.json). */
  registryConfig?: string;
  /** Per request; default CNABSEC_HTTP_TIMEOUT (30 s). */
  timeoutMs?: number;
  /** Largest manifest read or written; default 4 MiB (distribution spec §"Pushing Manifests"). */
  maxManifestBytes?: number;
  headers?: Record<string, string>;
  /** Blobs larger than this are uploaded in PATCH chunks of this size; default 16 MiB. */
  chunkBytes?: number;
  env?: NodeJS.ProcessEnv;
}

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Always in `Accept`: docker-registry answers 404 to a GET of an OCI manifest without them (facts §3). */
export const MANIFEST_ACCEPT: readonly string[] = Object.values(MEDIA_TYPES);
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

function resolveCredentials(o: RegistryOptions): Credentials | undefined {
  const source = o.credentials ?? defaultCredentials({ registryConfig: o.registryConfig, env: o.env });
  return typeof source === 'function' ? source(o.registry) : source;
}

/** A client for one registry. Docker Hub (`docker.io`) is served by registry-1.docker.io. */
export function openRegistry(given: RegistryOptions): RegistryClient {
  if (!isRegistryHost(given.registry)) badHost(given.registry);
  // one spelling per host: messages, credentials lookup and the token cache all see it lowercased
  const options = { ...given, registry: normalizeHost(given.registry) };
  const host = options.registry === DOCKER_HUB ? 'registry-1.docker.io' : options.registry;
  const insecure = options.insecure === true;
  const session = new Session({
    registry: options.registry,
    base: `${insecure ? 'http' : 'https'}://${host}`,
    credentials: resolveCredentials(options),
    timeoutMs: options.timeoutMs ?? httpTimeoutMs(options.env),
    insecure,
    headers: { 'user-agent': 'cnabsec', ...options.headers },
  });
  return new Client(
    session,
    options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
    options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
  );
}

class Client implements RegistryClient {
  constructor(
    private readonly s: Session,
    private readonly maxManifestBytes: number,
    private readonly chunkBytes: number,
  ) {}

  get registry(): string {
    return this.s.options.registry;
  }

  async getManifest(repository: string, reference: string, accept: readonly string[] = []): Promise<Fetched> {
    checkRepository(repository);
    checkManifestRef(reference);
    const types = [...new Set([...accept, ...MANIFEST_ACCEPT])];
    const target = { repository, reference, kind: 'manifest' };
    const answer = await this.s.call(
      {
        method: 'GET',
        url: `/v2/${repository}/manifests/${reference}`,
        scopes: [pullScope(repository)],
        target,
        headers: { accept: types.join(', ') },
      },
      [200],
    );
    const mediaType = mediaTypeOf(answer);
    if (!types.includes(mediaType)) {
      await discard(answer);
      throw this.badMediaType(target, mediaType, types);
    }
    const what = `manifest ${this.s.name(target)}`;
    const bytes = await readBounded(answer, { maxBytes: this.maxManifestBytes, what }, this.s.timeoutMs);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest)
      throw mismatch(this.s, target, reference, digest, 'the digest asked for');
    checkHeaderDigest(this.s, target, answer, digest);
    this.checkBodyMediaType(target, bytes, mediaType);
    return { mediaType, digest, bytes };
  }

  private badMediaType(t: Target, got: string, types: readonly string[]): RegistryError {
    return new RegistryError(
      'REGISTRY_BAD_MEDIA_TYPE',
      `${this.s.name(t)}: the manifest is ${quote(got || '(no Content-Type)', 100)}, not one of ${types.join(', ')}`,
      {
        details: {
          registry: this.registry,
          repository: t.repository,
          reference: t.reference,
          mediaType: got,
          accepted: types,
        },
        hint: 'the reference may name an image or artifact of another kind',
      },
    );
  }

  /** image-spec manifest.md/image-index.md: a `mediaType` field, when present, is the Content-Type. */
  private checkBodyMediaType(t: Target, bytes: Uint8Array, mediaType: string): void {
    let doc: unknown;
    try {
      doc = parseJsonBounded(bytes, {
        source: `manifest ${this.s.name(t)}`,
        maxBytes: this.maxManifestBytes,
      });
    } catch (e) {
      throw new RegistryError('REGISTRY_PROTOCOL', `${this.s.name(t)}: the manifest is not JSON`, {
        cause: e,
        details: { registry: this.registry, repository: t.repository, reference: t.reference },
        hint: 'the registry served something that is not a manifest',
      });
    }
    const field = (doc as { mediaType?: unknown } | null)?.mediaType;
    if (field !== undefined && field !== mediaType) {
      const shown = typeof field === 'string' ? field.slice(0, 100) : `a ${typeof field}`;
      throw this.badMediaType(t, `${shown} (Content-Type ${mediaType})`, [mediaType]);
    }
  }

  async headManifest(
    repository: string,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    checkRepository(repository);
    checkManifestRef(reference);
    const target = { repository, reference, kind: 'manifest' };
    const call = {
      method: 'HEAD',
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: [pullScope(repository)],
      target,
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
    };
    const answer = await this.s.request(call);
    await discard(answer);
    if (answer.response.status === 404) return undefined;
    if (answer.response.status !== 200) throw await this.s.failure(call, answer);
    const header =
      answer.response.headers.get('docker-content-digest') ?? (isDigest(reference) ? reference : null);
    const length = answer.response.headers.get('content-length');
    if (header !== null && digestProblem(header) === 'unsupported') {
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `${this.s.name(target)}: HEAD: ${digestProblemText(header)}`,
        {
          details: { registry: this.registry, repository, reference, digest: header.slice(0, 200) },
          hint: 'cnabsec checks content by sha256 only; ask the registry for sha256 digests',
        },
      );
    }
    if (header === null || !isDigest(header) || length === null || !/^[0-9]{1,15}$/.test(length)) {
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `${this.s.name(target)}: HEAD gave no sha256 Docker-Content-Digest or Content-Length`,
        {
          details: { registry: this.registry, repository, reference },
          hint: 'use getManifest, which hashes the bytes itself',
        },
      );
    }
    if (isDigest(reference) && header !== reference)
      throw mismatch(this.s, target, reference, header, 'the digest asked for');
    return { digest: header, mediaType: mediaTypeOf(answer), size: Number(length) };
  }

  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Uint8Array,
  ): Promise<string> {
    checkRepository(repository);
    checkManifestRef(reference);
    const target = { repository, reference, kind: 'manifest' };
    if (bytes.byteLength > this.maxManifestBytes) {
      throw new RegistryError(
        'REGISTRY_TOO_LARGE',
        `${this.s.name(target)}: the manifest is ${bytes.byteLength} bytes, more than the limit of ${this.maxManifestBytes}`,
        {
          details: {
            registry: this.registry,
            repository,
            reference,
            size: bytes.byteLength,
            maxBytes: this.maxManifestBytes,
          },
          hint: 'registries need not accept manifests over 4 MiB (distribution spec)',
        },
      );
    }
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest)
      throw mismatch(this.s, target, reference, digest, 'the digest to push it as');
    const answer = await this.s.call(
      {
        method: 'PUT',
        url: `/v2/${repository}/manifests/${reference}`,
        scopes: [pushScope(repository)],
        target,
        headers: { 'content-type': mediaType },
        body: bytes,
      },
      [200, 201],
    );
    await discard(answer);
    checkHeaderDigest(this.s, target, answer, digest);
    return digest;
  }

  async getBlob(repository: string, digest: string, maxBytes: number): Promise<Uint8Array> {
    checkRepository(repository);
    checkDigest(digest);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
      throw new RangeError(`maxBytes must be a byte count, not ${maxBytes}`);
    const target = { repository, reference: digest, kind: 'blob' };
    const answer = await this.s.call(
      {
        method: 'GET',
        url: `/v2/${repository}/blobs/${digest}`,
        scopes: [pullScope(repository)],
        target,
        budgetBytes: maxBytes,
      },
      [200],
    );
    const hash = createHash('sha256');
    const bytes = await readBounded(
      answer,
      { maxBytes, what: `blob ${this.s.name(target)}`, hash },
      this.s.timeoutMs,
    );
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw mismatch(this.s, target, digest, actual, 'the digest asked for');
    checkHeaderDigest(this.s, target, answer, actual);
    return bytes;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    checkDigest(digest);
    const target = { repository, reference: digest, kind: 'blob' };
    const call = {
      method: 'HEAD',
      url: `/v2/${repository}/blobs/${digest}`,
      scopes: [pullScope(repository)],
      target,
    };
    const answer = await this.s.request(call);
    await discard(answer);
    if (answer.response.status === 200) return true;
    if (answer.response.status === 404) return false;
    throw await this.s.failure(call, answer);
  }

  async pushBlob(
    repository: string,
    bytes: Uint8Array,
    options: { mountFrom?: string } = {},
  ): Promise<string> {
    checkRepository(repository);
    if (options.mountFrom !== undefined) checkRepository(options.mountFrom);
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(repository, digest)) return digest;
    await pushBlobBytes(this.s, {
      repository,
      bytes,
      digest,
      mountFrom: options.mountFrom,
      chunkBytes: this.chunkBytes,
    });
    return digest;
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    checkRepository(repository);
    checkDigest(digest);
    const target = { repository, reference: digest, kind: 'manifest' };
    const answer = await this.s.call(
      {
        method: 'DELETE',
        url: `/v2/${repository}/manifests/${digest}`,
        scopes: [deleteScope(repository)],
        target,
      },
      [200, 202],
    );
    await discard(answer);
  }

  async listTags(repository: string): Promise<string[]> {
    checkRepository(repository);
    return listTagPages(this.s, repository);
  }

  async getBlobStream(repository: string, blob: BlobDescriptor): Promise<AsyncIterable<Uint8Array>> {
    checkRepository(repository);
    return openBlobStream(this.s, repository, blob);
  }

  async pushBlobStream(
    repository: string,
    blob: BlobDescriptor,
    open: () => Promise<AsyncIterable<Uint8Array>>,
    options: { mountFrom?: string } = {},
  ): Promise<BlobPushed> {
    checkRepository(repository);
    checkDigest(blob.digest);
    if (options.mountFrom !== undefined) checkRepository(options.mountFrom);
    if (await this.hasBlob(repository, blob.digest)) return 'present';
    return pushBlobChunks(this.s, {
      repository,
      digest: blob.digest,
      size: blob.size,
      open,
      mountFrom: options.mountFrom,
      chunkBytes: this.chunkBytes,
    });
  }
}
