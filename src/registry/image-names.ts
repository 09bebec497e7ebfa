/**
 * The little of the docker reference grammar the bundle layout needs: split a digest off an
 * image reference, and compare repository names the way `reference.ParseNormalizedNamed`
 * does (`docker.io` and `library/` implied), to check that relocated images live in the
 * bundle's repository (cnab-to-oci convert.go `makeDescriptor`).
 */

import { quote } from '../util/json.js';
import { digestProblem, digestProblemText, isDigest as isSha256Digest } from './reference.js';

/**
 * Only sha256: the client fetches and checks content by sha256 (ADR 0027), so an image pinned
 * by sha512 could be neither copied nor checked; it is refused as "unsupported", by name.
 */
export function isDigest(text: string): boolean {
  return isSha256Digest(text);
}

/** Why a digest is refused, for messages ("unsupported digest algorithm sha512…"). */
export function digestWords(text: string): string {
  return digestProblem(text) === 'unsupported'
    ? digestProblemText(text)
    : `digest ${quote(text, 100).slice(1, -1)} is not sha256:<64 hex>`;
}

/** `name[:tag]@digest` → name (tag dropped) and digest; a malformed digest is returned as is for the caller to refuse. */
export function splitImageRef(ref: string): { name: string; digest: string | undefined } {
  const at = ref.indexOf('@');
  const nameTag = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  const slash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  return { name: colon > slash ? nameTag.slice(0, colon) : nameTag, digest };
}

/** The fully qualified repository name: `docker.io/library/x` for `x`, registry hosts kept. */
export function normalizedName(name: string): string {
  const first = name.split('/')[0] ?? '';
  const hasDomain =
    name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let domain = hasDomain ? first : 'docker.io';
  let path = hasDomain ? name.slice(first.length + 1) : name;
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return `${domain}/${path}`;
}

/** The familiar form (`reference.FamiliarString`): `docker.io/` and `library/` dropped. */
export function familiarName(name: string): string {
  const full = normalizedName(name);
  if (!full.startsWith('docker.io/')) return full;
  const path = full.slice('docker.io/'.length);
  return path.startsWith('library/') && path.split('/').length === 2 ? path.slice('library/'.length) : path;
}
