/**
 * The checks of the registry client (./client.ts) on names and answers: repository, tag and
 * digest syntax (./reference.ts), the media type of an answer, and digests of fetched bytes
 * against the one asked for and the `Docker-Content-Digest` header (distribution spec
 * §"Pulling manifests": a client SHOULD verify the returned manifest against the digest).
 */
import { quote } from '../util/json.js';
import { RegistryError } from './errors.js';
import type { HttpAnswer } from './http.js';
import { digestProblem, digestProblemText, isDigest, isRepository, isTag } from './reference.js';
import type { Session, Target } from './session.js';

export function badName(what: string, value: string, rule: string): RegistryError {
  return new RegistryError('REGISTRY_BAD_REFERENCE', `${quote(value, 200)} is not a valid ${what}: ${rule}`, {
    details: { [what]: value.slice(0, 1000) },
    hint: 'write [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. ghcr.io/org/bundle:1.0',
  });
}

export function checkRepository(repository: string): void {
  if (!isRepository(repository))
    throw badName('repository', repository, 'lowercase [a-z0-9] components separated by "/"');
}

export function checkDigest(digest: string): void {
  if (!isDigest(digest)) throw badDigest(digest);
}

/** REGISTRY_BAD_REFERENCE for a digest given to the client: "unsupported algorithm" or malformed. */
export function badDigest(digest: string): RegistryError {
  return new RegistryError('REGISTRY_BAD_REFERENCE', digestProblemText(digest), {
    details: { digest: digest.slice(0, 1000), problem: digestProblem(digest) ?? 'none' },
    hint:
      digestProblem(digest) === 'unsupported'
        ? 'cnabsec verifies content by sha256 only; name the content by its sha256 digest'
        : 'write the digest as sha256:<64 lowercase hex>',
  });
}

export function checkManifestRef(reference: string): void {
  if (isTag(reference) || isDigest(reference)) return;
  // a tag has no ":", so this was meant as a digest
  if (reference.includes(':')) throw badDigest(reference);
  throw badName('reference', reference, 'expected a tag or sha256:<64 hex>');
}

/** The media type of a Content-Type value, without parameters. */
export function mediaTypeOf(answer: HttpAnswer): string {
  const value = answer.response.headers.get('content-type') ?? '';
  return value.replace(/;.*$/s, '').trim().toLowerCase();
}

export function mismatch(
  session: Session,
  t: Target,
  expected: string,
  actual: string,
  source: string,
): RegistryError {
  return new RegistryError(
    'REGISTRY_DIGEST_MISMATCH',
    `${session.name(t)}: the ${t.kind} bytes hash to ${actual}, but ${source} is ${expected}`,
    {
      details: { registry: session.options.registry, repository: t.repository, expected, actual },
      hint: 'the registry (or something on the way) altered the content; do not use it',
    },
  );
}

/**
 * A Docker-Content-Digest header that names another sha256 than the bytes have. A header in
 * another algorithm (a registry whose canonical digests are sha512) cannot be compared and is
 * not needed: the bytes were hashed with sha256 here, and that digest is what is used.
 */
export function checkHeaderDigest(session: Session, t: Target, answer: HttpAnswer, actual: string): void {
  const header = answer.response.headers.get('docker-content-digest');
  if (header !== null && header.startsWith('sha256:') && header !== actual) {
    throw mismatch(session, t, header, actual, 'its Docker-Content-Digest');
  }
}

export function badHost(registry: string): never {
  throw new RegistryError('REGISTRY_BAD_REFERENCE', `${quote(registry, 200)} is not a registry host[:port]`, {
    details: { registry: registry.slice(0, 1000) },
    hint: 'give the registry as host or host:port, without a scheme (use insecure for plain HTTP)',
  });
}
