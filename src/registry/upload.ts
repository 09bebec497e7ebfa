/**
 * Blob upload (distribution spec §"Pushing blobs"): `POST /v2/<name>/blobs/uploads/` opens a
 * session whose `Location` (absolute or relative) takes either one `PUT ?digest=` with the
 * whole blob (monolithic, §"POST then PUT"), or `PATCH` chunks with an inclusive
 * `Content-Range: <start>-<end>` (§"Pushing a blob in chunks"; each answer's `Location` is
 * the URL of the next request) closed by a `PUT ?digest=` without a body. A cross-repository
 * mount (§"Mounting a blob from another repository", `?mount=<digest>&from=<repo>`) is 201
 * when the registry mounted it and otherwise 202 with a normal upload session, which is then
 * used. docker-registry ignores a body on the POST (facts §3), so we never send one there.
 */
import { RegistryError } from './errors.js';
import { discard, isLocalHostname, type HttpAnswer } from './http.js';
import { pullScope, pushScope, type Session, type Target } from './session.js';
import { rechunk } from './blob-stream.js';

export interface BlobUpload {
  repository: string;
  bytes: Uint8Array;
  digest: string;
  mountFrom?: string | undefined;
  chunkBytes: number;
}

const OCTETS = 'application/octet-stream';

function locationOf(s: Session, target: Target, answer: HttpAnswer): string {
  const location = answer.response.headers.get('location');
  if (location === null || location === '') {
    throw new RegistryError('REGISTRY_PROTOCOL', `${s.name(target)}: the upload answer has no Location`, {
      details: {
        registry: s.options.registry,
        repository: target.repository,
        status: answer.response.status,
      },
      hint: 'the registry does not follow the distribution spec for uploads',
    });
  }
  const url = new URL(location, answer.url);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && s.options.insecure)) {
    throw new RegistryError('REGISTRY_PROTOCOL', `${s.name(target)}: the upload Location is not https`, {
      details: {
        registry: s.options.registry,
        repository: target.repository,
        location: location.slice(0, 1000),
      },
      hint: 'plain HTTP only with insecure: the registry must not send the upload in clear',
    });
  }
  // as for redirects (http.ts send): a remote registry must not point the upload (our bytes,
  // PATCH/PUT) at services on the user's machine or the cloud metadata address (SSRF)
  const registryHost = new URL(s.options.base).hostname;
  if (isLocalHostname(url.hostname) && !isLocalHostname(registryHost)) {
    throw new RegistryError(
      'REGISTRY_PROTOCOL',
      `${s.name(target)}: the upload Location ${JSON.stringify(url.host.slice(0, 100))} is a loopback or link-local address, but the registry is not`,
      {
        details: {
          registry: s.options.registry,
          repository: target.repository,
          location: location.slice(0, 1000),
        },
        hint: 'a remote registry may not send uploads to this machine; check the registry URL',
      },
    );
  }
  return url.href;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

/** Upload `u.bytes` (mounting from `u.mountFrom` when the registry can). */
export async function pushBlobBytes(s: Session, u: BlobUpload): Promise<void> {
  const target = { repository: u.repository, reference: u.digest, kind: 'upload' };
  const scopes = [pushScope(u.repository), ...(u.mountFrom === undefined ? [] : [pullScope(u.mountFrom)])];
  const opened = await openUpload(s, u, scopes); // mount first
  if (opened === undefined) return;
  let location = opened;
  const size = u.bytes.byteLength;
  if (size > u.chunkBytes) {
    for (let start = 0; start < size; start += u.chunkBytes) {
      const chunk = u.bytes.subarray(start, Math.min(size, start + u.chunkBytes));
      const headers = { 'content-type': OCTETS, 'content-range': `${start}-${start + chunk.byteLength - 1}` };
      const answer = await s.call(
        {
          method: 'PATCH',
          url: location,
          scopes,
          target,
          headers,
          body: chunk,
          budgetBytes: chunk.byteLength,
        },
        [202],
      );
      await discard(answer);
      location = locationOf(s, target, answer);
    }
  }
  const last = size > u.chunkBytes ? new Uint8Array(0) : u.bytes;
  const headers = { 'content-type': OCTETS };
  const done = await s.call(
    {
      method: 'PUT',
      url: withDigest(location, u.digest),
      scopes,
      target,
      headers,
      body: last,
      budgetBytes: last.byteLength,
    },
    [201],
  );
  await discard(done);
  const said = done.response.headers.get('docker-content-digest');
  if (said !== null && said.startsWith('sha256:') && said !== u.digest) {
    throw new RegistryError(
      'REGISTRY_DIGEST_MISMATCH',
      `${s.name(target)}: the registry stored the blob as ${said}`,
      {
        details: { registry: s.options.registry, repository: u.repository, expected: u.digest, actual: said },
        hint: 'the upload was altered on the way; retry',
      },
    );
  }
}

/** How a streamed blob reached the repository. */
export type BlobPushed = 'present' | 'mounted' | 'uploaded';

export interface StreamUpload {
  repository: string;
  digest: string;
  size: number;
  /** Opened only when the blob must be uploaded (not when mounted): the checked source chunks. */
  open: () => Promise<AsyncIterable<Uint8Array>>;
  mountFrom?: string | undefined;
  chunkBytes: number;
}

/** Open an upload session (trying the mount first); undefined when the registry mounted the blob. */
async function openUpload(
  s: Session,
  u: Pick<StreamUpload, 'repository' | 'digest' | 'mountFrom'>,
  scopes: string[],
): Promise<string | undefined> {
  const target = { repository: u.repository, reference: u.digest, kind: 'upload' };
  const query =
    u.mountFrom === undefined
      ? ''
      : `?mount=${encodeURIComponent(u.digest)}&from=${encodeURIComponent(u.mountFrom)}`;
  const opened = await s.call(
    { method: 'POST', url: `/v2/${u.repository}/blobs/uploads/${query}`, scopes, target },
    [201, 202],
  );
  await discard(opened);
  if (opened.response.status !== 201) return locationOf(s, target, opened);
  checkStoredDigest(s, target, opened, u.digest); // "mounted" another blob: refused
  return undefined;
}

/** Best effort: cancel an upload session (distribution spec §"Canceling an upload"). */
async function cancelUpload(s: Session, location: string, scopes: string[], target: Target): Promise<void> {
  try {
    await discard(await s.request({ method: 'DELETE', url: location, scopes, target }));
  } catch {
    // the registry expires abandoned sessions itself
  }
}

/**
 * Upload a blob from a stream (mounting from `u.mountFrom` when the registry can): PATCH
 * chunks of `u.chunkBytes` with `Content-Range` as the source yields them (at most two chunks
 * held), then the `PUT ?digest=` that commits it, sent only once the source has ended, that
 * is once it has checked the size and digest (blob-stream.ts). A blob of at most one chunk is
 * sent in that PUT. On any failure the upload session is cancelled and nothing is committed.
 */
export async function pushBlobChunks(s: Session, u: StreamUpload): Promise<BlobPushed> {
  const target = { repository: u.repository, reference: u.digest, kind: 'upload' };
  const scopes = [pushScope(u.repository), ...(u.mountFrom === undefined ? [] : [pullScope(u.mountFrom)])];
  const opened = await openUpload(s, u, scopes);
  if (opened === undefined) return 'mounted';
  let location = opened;
  try {
    let start = 0;
    let pending: Uint8Array | undefined;
    for await (const chunk of rechunk(await u.open(), u.chunkBytes)) {
      if (pending !== undefined) {
        location = await patchChunk(s, { location, scopes, target, start, chunk: pending });
        start += pending.byteLength;
      }
      pending = chunk;
    }
    // the source has ended: its size and digest are checked
    let last = pending ?? new Uint8Array(0);
    if (start > 0 && last.byteLength > 0) {
      location = await patchChunk(s, { location, scopes, target, start, chunk: last });
      last = new Uint8Array(0);
    }
    const done = await s.call(
      {
        method: 'PUT',
        url: withDigest(location, u.digest),
        scopes,
        target,
        headers: { 'content-type': OCTETS },
        body: last,
        budgetBytes: last.byteLength,
      },
      [201],
    );
    await discard(done);
    checkStoredDigest(s, target, done, u.digest);
    return 'uploaded';
  } catch (e) {
    await cancelUpload(s, location, scopes, target);
    throw e;
  }
}

interface Patch {
  location: string;
  scopes: string[];
  target: Target;
  start: number;
  chunk: Uint8Array;
}

/** One PATCH with an inclusive Content-Range; the next request's URL. */
async function patchChunk(s: Session, p: Patch): Promise<string> {
  const headers = {
    'content-type': OCTETS,
    'content-range': `${p.start}-${p.start + p.chunk.byteLength - 1}`,
  };
  const answer = await s.call(
    {
      method: 'PATCH',
      url: p.location,
      scopes: p.scopes,
      target: p.target,
      headers,
      body: p.chunk,
      budgetBytes: p.chunk.byteLength,
    },
    [202],
  );
  await discard(answer);
  return locationOf(s, p.target, answer);
}

function checkStoredDigest(s: Session, target: Target, done: HttpAnswer, digest: string): void {
  const said = done.response.headers.get('docker-content-digest');
  if (said !== null && said.startsWith('sha256:') && said !== digest) {
    throw new RegistryError(
      'REGISTRY_DIGEST_MISMATCH',
      `${s.name(target)}: the registry stored the blob as ${said}`,
      {
        details: {
          registry: s.options.registry,
          repository: target.repository,
          expected: digest,
          actual: said,
        },
        hint: 'the upload was altered on the way; retry',
      },
    );
  }
}
