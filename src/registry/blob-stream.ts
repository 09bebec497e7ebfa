/**
 * Blobs as streams, for copying image layers (which may be gigabytes) without holding one in
 * memory. A downloaded blob is checked as its bytes pass: more bytes than its descriptor's
 * size stop the download at once, and the last read (the one that would end the stream)
 * throws instead of ending when the total size or the sha256 differ from the descriptor
 * (image-spec "descriptor.md" §Digests: a consumer MUST verify content against the digest).
 * An upload reading such a stream therefore never reaches its final `PUT ?digest=`, the
 * request that commits the blob (upload.ts `pushBlobChunks`).
 */
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';
import { networkError, type HttpAnswer } from './http.js';
import { checkDigest } from './checks.js';
import { pullScope, type Session, type Target } from './session.js';

/** What a blob must be: its descriptor's digest and size. */
export interface BlobDescriptor {
  digest: string;
  size: number;
}

function sizeError(s: Session, t: Target, want: number, got: string): RegistryError {
  return new RegistryError(
    'REGISTRY_DIGEST_MISMATCH',
    `${s.name(t)}: the blob is ${got} bytes, its descriptor says ${want}`,
    {
      details: { registry: s.options.registry, repository: t.repository, digest: t.reference, size: want },
      hint: 'the registry (or something on the way) altered the content; do not use it',
    },
  );
}

function digestError(s: Session, t: Target, want: string, got: string): RegistryError {
  return new RegistryError(
    'REGISTRY_DIGEST_MISMATCH',
    `${s.name(t)}: the blob bytes hash to ${got}, but its digest is ${want}`,
    {
      details: { registry: s.options.registry, repository: t.repository, expected: want, actual: got },
      hint: 'the registry (or something on the way) altered the content; do not use it',
    },
  );
}

/**
 * The body of a blob GET as chunks, checked against `want` as they pass (see the file
 * comment). A Content-Length other than `want.size` is refused before reading.
 */
export async function* checkedBlobChunks(
  s: Session,
  t: Target,
  answer: HttpAnswer,
  want: BlobDescriptor,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { response, url } = answer;
  const declared = response.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) !== want.size) {
    await response.body?.cancel().catch(() => undefined);
    throw sizeError(s, t, want.size, declared);
  }
  const hash = createHash('sha256');
  let size = 0;
  if (response.body !== null) {
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    try {
      for (;;) {
        let part: Awaited<ReturnType<typeof reader.read>>;
        try {
          part = await reader.read();
        } catch (e) {
          throw networkError(url, e, answer.signal, s.timeoutMs);
        }
        if (part.done) break;
        size += part.value.byteLength;
        if (size > want.size) throw sizeError(s, t, want.size, `more than ${want.size}`);
        hash.update(part.value);
        yield part.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  if (size !== want.size) throw sizeError(s, t, want.size, String(size));
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== want.digest) throw digestError(s, t, want.digest, actual);
  const header = response.headers.get('docker-content-digest');
  if (header !== null && header.startsWith('sha256:') && header !== actual)
    throw digestError(s, t, header, actual);
}

/**
 * Regroup `source` into chunks of exactly `chunkBytes` (the last one shorter), holding at
 * most one chunk: the upload PATCHes each as it fills.
 */
export async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  chunkBytes: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  let buffer = new Uint8Array(chunkBytes);
  let filled = 0;
  for await (const piece of source) {
    let at = 0;
    while (at < piece.byteLength) {
      const n = Math.min(chunkBytes - filled, piece.byteLength - at);
      buffer.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === chunkBytes) {
        yield buffer;
        buffer = new Uint8Array(chunkBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** GET a blob; its body as checked chunks (`checkedBlobChunks`). */
export async function openBlobStream(
  s: Session,
  repository: string,
  blob: BlobDescriptor,
): Promise<AsyncIterable<Uint8Array>> {
  checkDigest(blob.digest);
  if (!Number.isSafeInteger(blob.size) || blob.size < 0)
    throw new RangeError(`size must be a byte count, not ${blob.size}`);
  const target = { repository, reference: blob.digest, kind: 'blob' };
  const answer = await s.call(
    {
      method: 'GET',
      url: `/v2/${repository}/blobs/${blob.digest}`,
      scopes: [pullScope(repository)],
      target,
      budgetBytes: blob.size,
    },
    [200],
  );
  return checkedBlobChunks(s, target, answer, blob);
}
