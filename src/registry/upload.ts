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
import { discard, type HttpAnswer } from './http.js';
import { pullScope, pushScope, type Session, type Target } from './session.js';

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
  const query =
    u.mountFrom === undefined
      ? ''
      : `?mount=${encodeURIComponent(u.digest)}&from=${encodeURIComponent(u.mountFrom)}`;
  const opened = await s.call(
    { method: 'POST', url: `/v2/${u.repository}/blobs/uploads/${query}`, scopes, target },
    [201, 202],
  );
  await discard(opened);
  if (opened.response.status === 201) return; // mounted
  let location = locationOf(s, target, opened);
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
