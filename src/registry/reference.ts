/**
 * Image references in the docker grammar (distribution/reference, `reference.go`, which the OCI
 * distribution spec §2 "Pulling manifests" restricts the same way for `<name>` and `<reference>`):
 *
 *     reference := name [ ":" tag ] [ "@" digest ]
 *     name      := [ domain "/" ] path-component { "/" path-component }
 *     domain    := host [ ":" port ]     (first component with a "." or ":", or "localhost")
 *     host      := DNS labels | IPv4 | "[" IPv6 "]"     (lowercased: hosts are case-insensitive)
 *     path-component := [a-z0-9]+ { ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ }
 *     tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *     digest    := "sha256:" 64 lowercase hex      (the only algorithm we accept; another
 *                  algorithm the OCI grammar allows, like sha512, is "unsupported", not "malformed")
 *
 * Like docker, a name without a domain is on `docker.io`, and a one-component name there is
 * under `library/` (`alpine` is `docker.io/library/alpine`). `index.docker.io` is `docker.io`.
 */
import { isIPv6 } from 'node:net';
import { quote } from '../util/json.js';
import { RegistryError } from './errors.js';

export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const MAX_NAME = 255;
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** image-spec descriptor.md: `algorithm ":" encoded`, algorithm `[a-z0-9]+([+._-][a-z0-9]+)*`. */
const ANY_DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const HOST_LABEL = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
const PORT = /^[0-9]{1,5}$/;

function bad(text: string, why: string): RegistryError {
  return new RegistryError('REGISTRY_BAD_REFERENCE', `${quote(text, 300)} is not a valid reference: ${why}`, {
    details: { reference: text.slice(0, 1000), problem: why },
    hint: 'write [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. ghcr.io/org/bundle:1.0',
  });
}

/**
 * True when `host` is a registry host: DNS labels or an IPv4 address, or an IPv6 address in
 * brackets (`[::1]`, as docker's reference grammar has it), and an optional port.
 */
export function isRegistryHost(host: string): boolean {
  if (host.length > 255) return false;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::([^:]+))?$/.exec(host);
  if (m === null) return false;
  const port = m[3];
  if (port !== undefined && (!PORT.test(port) || Number(port) < 1 || Number(port) > 65535)) return false;
  if (m[1] !== undefined) return isIPv6(m[1]);
  return (m[2] as string).split('.').every((l) => HOST_LABEL.test(l));
}

/** The one spelling of a registry host: lowercased (DNS and IPv6 hex are case-insensitive). */
export function normalizeHost(host: string): string {
  return host.toLowerCase();
}

/**
 * Why `digest` is not a digest we use: undefined for sha256:<64 lowercase hex>; "unsupported"
 * for another algorithm in the OCI grammar (sha512: allowed by OCI, not by cnabsec); else
 * "malformed". `digestProblemText` gives the words for messages.
 */
export function digestProblem(digest: string): 'unsupported' | 'malformed' | undefined {
  if (DIGEST.test(digest)) return undefined;
  const m = ANY_DIGEST.exec(digest);
  return m !== null && m[1] !== 'sha256' ? 'unsupported' : 'malformed';
}

export function digestProblemText(digest: string): string {
  const shown = quote(digest, 80);
  return digestProblem(digest) === 'unsupported'
    ? `the digest ${shown} uses an unsupported digest algorithm ${quote(digest.split(':')[0] as string, 20)}: only sha256 is supported`
    : `the digest ${shown} is not sha256:<64 lowercase hex>`;
}

/** True when `name` is a repository path (`org/bundle`), without a registry. */
export function isRepository(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME && name.split('/').every((c) => COMPONENT.test(c));
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isDigest(digest: string): boolean {
  return DIGEST.test(digest);
}

/** Whether the first component of a name is a registry host (docker's `splitDockerDomain`). */
function isDomainPart(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost' || part !== part.toLowerCase();
}

/** Split `name[:tag][@digest]` into its three texts; `name` still holds the domain. */
function splitSuffixes(text: string): { name: string; tag?: string; digest?: string } {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw bad(text, digestProblemText(digest));
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) throw bad(text, `the tag ${quote(tag, 80)} is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  return { name: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Parse a reference; REGISTRY_BAD_REFERENCE naming the text when it is not one. */
export function parseReference(text: string): Reference {
  if (text.length === 0) throw bad(text, 'it is empty');
  // name, ":" and a 128-character tag, "@" and a 71-character digest
  if (text.length > MAX_NAME + 1 + 128 + 1 + 71) throw bad(text, 'it is too long');
  const { name, tag, digest } = splitSuffixes(text);
  const slash = name.indexOf('/');
  let registry = DOCKER_HUB;
  let repository = name;
  if (slash >= 0 && isDomainPart(name.slice(0, slash))) {
    registry = normalizeHost(name.slice(0, slash));
    repository = name.slice(slash + 1);
    if (!isRegistryHost(registry)) throw bad(text, `${quote(registry, 80)} is not a registry host[:port]`);
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  // docker's NameTotalLengthMax is on the whole normalized name, registry included
  if (registry.length + 1 + repository.length > MAX_NAME)
    throw bad(text, `the name ${registry}/… is longer than ${MAX_NAME} characters`);
  if (!isRepository(repository)) {
    throw bad(
      text,
      'a repository is lowercase components [a-z0-9] joined by ".", "_", "__" or "-", separated by "/"',
    );
  }
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** `registry/repository[:tag][@digest]`, which parseReference reads back to the same value. */
export function formatReference(r: Reference): string {
  return `${normalizeHost(r.registry)}/${r.repository}${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@${r.digest}`}`;
}

/** The tag or digest a request names: the digest when both are given, else the tag, else `latest`. */
export function referenceTarget(r: Reference): string {
  return r.digest ?? r.tag ?? 'latest';
}
