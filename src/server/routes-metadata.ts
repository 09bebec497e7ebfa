/**
 * GET (and fastify's HEAD) of metadata and target files (design.md §5): exactly the stored
 * bytes, one service read per request and no JSON parsing; `ETag: "<sha256>"` of those bytes
 * and `If-None-Match` → 304 (RFC 9110 §13.1.2); current metadata cached briefly, versioned,
 * by-checksum and by-hash files immutable (TUF spec §5.5 consistent snapshots: those names
 * never change meaning).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { quote } from '../util/json.js';
import { notFound, type MetaName, type TrustPath } from './http-paths.js';
import { IMMUTABLE, type RouteContext } from './http-context.js';
import type { StoredMeta } from './store.js';

/** Does `If-None-Match` name this entity tag (`*`, the strong or the weak form, RFC 9110 §13.1.2)? */
export function noneMatch(header: string | undefined, sha256: string): boolean {
  if (header === undefined) return false;
  const tag = `"${sha256}"`;
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === tag || v === `W/${tag}`;
  });
}

/** Send stored bytes with their ETag, or 304 when the client has them. */
export function sendStored(
  request: FastifyRequest,
  reply: FastifyReply,
  stored: { bytes: Uint8Array; sha256: string },
  cacheControl: string,
  contentType: string,
): FastifyReply {
  const cache = request.privateAnswer ? cacheControl.replace(/^public\b/, 'private') : cacheControl;
  reply.headers({ etag: `"${stored.sha256}"`, 'cache-control': cache });
  if (noneMatch(request.headers['if-none-match'], stored.sha256)) return reply.code(304).send();
  const body = Buffer.from(stored.bytes.buffer, stored.bytes.byteOffset, stored.bytes.byteLength);
  return reply.code(200).type(contentType).send(body);
}

function describe(name: MetaName): string {
  if (name.kind === 'version') return `${quote(name.role)} version ${name.version}`;
  if (name.kind === 'checksum') return `${quote(name.role)} with sha256 ${name.sha256}`;
  return `current ${quote(name.role)}`;
}

function readMeta(ctx: RouteContext, repo: string, name: MetaName): Promise<StoredMeta | undefined> {
  if (name.kind === 'version') return ctx.service.byVersion(repo, name.role, name.version);
  if (name.kind === 'checksum') return ctx.service.byChecksum(repo, name.role, name.sha256);
  return ctx.service.current(repo, name.role);
}

function cacheOf(ctx: RouteContext, name: MetaName): string {
  return name.kind === 'current' ? `public, max-age=${ctx.currentMaxAgeSeconds}` : IMMUTABLE;
}

async function serveMeta(
  ctx: RouteContext,
  repo: string,
  name: MetaName,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const stored = await readMeta(ctx, repo, name);
  if (stored === undefined) return false;
  sendStored(request, reply, stored, cacheOf(ctx, name), 'application/json');
  return true;
}

/** `<role>.json`, `<N>.<role>.json`, `<role>.<sha256>.json`. */
export async function getMetadata(
  ctx: RouteContext,
  path: TrustPath & MetaName,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await ctx.authenticate(request, path.repo, 'read');
  if (await serveMeta(ctx, path.repo, path, request, reply)) return reply;
  throw notFound(`repository ${quote(path.repo)} has no ${describe(path)} metadata`, {
    repo: path.repo,
    role: path.role,
    ...(path.kind === 'version' ? { version: path.version } : {}),
    ...(path.kind === 'checksum' ? { sha256: path.sha256 } : {}),
  });
}

/**
 * `targets/<path>` (latest stored, cached like current metadata) or `targets/<dir>/<sha256>.<base>`
 * (immutable). A miss on a name that is also a decoded delegated role's file
 * (`targets/releases.json`, as hosts that decode `%2F` ask for it, ADR 0012) serves that role.
 */
export async function getTarget(
  ctx: RouteContext,
  path: TrustPath & { kind: 'target' },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await ctx.authenticate(request, path.repo, 'read');
  const file = await ctx.service.targetFile(path.repo, path.path, path.sha256);
  if (file !== undefined) {
    const cache = path.sha256 === undefined ? `public, max-age=${ctx.currentMaxAgeSeconds}` : IMMUTABLE;
    return sendStored(request, reply, file, cache, 'application/octet-stream');
  }
  if (path.fallback !== undefined) {
    if (await serveMeta(ctx, path.repo, path.fallback, request, reply)) return reply;
  }
  const what =
    path.sha256 === undefined ? quote(path.path) : `${quote(path.path)} with sha256 ${path.sha256}`;
  throw notFound(`repository ${quote(path.repo)} has no target file ${what}`, {
    repo: path.repo,
    path: path.path,
    ...(path.sha256 === undefined ? {} : { sha256: path.sha256 }),
  });
}
