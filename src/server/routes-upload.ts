/**
 * The upload (`POST /v2/<repo>/_trust/tuf/`, notary's `atomicUpdateHandler`) and the repository
 * delete (`DELETE …/_trust/tuf/`). The upload is multipart/form-data as Notary sends it: field
 * `files`, one part per role, the file name the role (`root`, `targets/releases`; a trailing
 * `.json` tolerated); in-toto target files (doc 303) as field `target`, the file name the target
 * path. The handler only maps parts to UploadFile, bounded in size and count (architecture
 * anchors §6 rule 5); the service validates (ADR 0019), stores and signs, atomically.
 *
 * busboy keeps only a file name's basename unless `preservePath` is set, which would turn
 * `targets/releases` into `releases`: it is set.
 */
import type { Readable } from 'node:stream';
import type { FastifyMultipartBaseOptions, Multipart } from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isCnabsecError, messageOf } from '../errors.js';
import { quote } from '../util/json.js';
import { ServerError } from './errors.js';
import { NO_STORE, type RouteContext } from './http-context.js';
import { oneLine } from './http-errors.js';
import { MultipartFraming, boundaryOf } from './http-multipart.js';
import { badRequest, notFound } from './http-paths.js';
import type { UploadFile, UploadLimits } from './upload-parse.js';

/** The most files (parts) one upload may hold. */
export const MAX_UPLOAD_FILES = 10_000;
export const DEFAULT_BODY_LIMIT = 128 << 20;

/** @fastify/multipart (busboy) options: file size the largest limit, no fields, parts bounded. */
export function multipartOptions(limits: UploadLimits): FastifyMultipartBaseOptions {
  return {
    preservePath: true,
    throwFileSizeLimit: true,
    limits: {
      fileSize: Math.max(limits.role, limits.targets, limits.targetFile),
      files: MAX_UPLOAD_FILES,
      fields: 0,
      parts: MAX_UPLOAD_FILES,
      fieldNameSize: 100,
      headerPairs: 100,
    },
  };
}

export function defaultBodyLimit(limits: UploadLimits): number {
  return Math.max(DEFAULT_BODY_LIMIT, limits.role, limits.targets, limits.targetFile);
}

function tooLarge(message: string, details: Record<string, unknown>): ServerError {
  return new ServerError('TOO_LARGE', message, {
    details,
    hint: 'upload fewer or smaller files; the server limits are in its configuration (limits)',
  });
}

/** The parts of one role or target file, read into one Buffer, never more than `limit` bytes. */
async function readBounded(file: Readable, limit: number, name: string, budget: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > budget)
      throw tooLarge(`the upload is above the body limit while reading ${quote(name)}`, { part: name });
    if (size > limit)
      throw tooLarge(`upload part ${quote(name)} is above its limit of ${limit} bytes`, {
        part: name,
        limit,
      });
    chunks.push(chunk);
  }
  if ((file as Readable & { truncated?: boolean }).truncated === true)
    throw tooLarge(`upload part ${quote(name)} is above the file size limit`, { part: name, limit });
  return Buffer.concat(chunks, size);
}

/** One part → UploadFile and its size limit; BAD_REQUEST for anything but `files` and `target` files. */
interface PartPlan {
  name: string;
  limit: number;
  make(bytes: Buffer): UploadFile;
}

function describePart(part: Multipart, limits: UploadLimits): PartPlan {
  if (part.type !== 'file' || (part.fieldname !== 'files' && part.fieldname !== 'target'))
    throw badRequest(
      'field',
      `upload field ${quote(part.fieldname, 100)} is not taken: send metadata as files parts and target files as target parts`,
      { field: part.fieldname.slice(0, 100) },
    );
  // busboy makes a part a file by its Content-Type too: without a filename parameter it is undefined
  const filename = part.filename as string | undefined;
  if (filename === undefined || filename === '')
    throw badRequest(
      'filename',
      `an upload ${part.fieldname} part has no file name (the role or target path)`,
    );
  if (part.fieldname === 'target')
    return { name: filename, limit: limits.targetFile, make: (bytes) => ({ path: filename, bytes }) };
  const role = filename.endsWith('.json') ? filename.slice(0, -'.json'.length) : filename;
  const limit = role === 'targets' ? limits.targets : limits.role;
  return { name: role, limit, make: (bytes) => ({ role, bytes }) };
}

/** Every part of the request, bounded; malformed multipart is BAD_REQUEST. */
async function readParts(request: FastifyRequest, ctx: RouteContext): Promise<UploadFile[]> {
  const limits = ctx.service.limits;
  const files: UploadFile[] = [];
  let total = 0;
  const framing = watchFraming(request);
  try {
    for await (const part of request.parts()) {
      const plan = describePart(part, limits);
      const bytes = await readBounded(
        (part as { file: Readable }).file,
        plan.limit,
        plan.name,
        ctx.bodyLimit - total,
      );
      total += bytes.length;
      files.push(plan.make(bytes));
    }
  } catch (e) {
    if (
      isCnabsecError(e) ||
      (typeof (e as { code?: unknown }).code === 'string' && 'statusCode' in (e as object))
    )
      throw e;
    throw badRequest('body', `malformed multipart upload: ${oneLine(messageOf(e), 160)}`);
  }
  await ended(request);
  if (framing?.problem !== undefined)
    throw badRequest('body', `malformed multipart upload: ${framing.problem}`);
  return files;
}

/** Watch the body's framing beside busboy (./http-multipart.ts). */
function watchFraming(request: FastifyRequest): MultipartFraming | undefined {
  const boundary = boundaryOf(request.headers['content-type']);
  if (boundary === undefined) return undefined;
  const framing = new MultipartFraming(boundary);
  request.raw.on('data', (chunk: Buffer) => {
    framing.feed(chunk);
  });
  return framing;
}

/** Once the whole body has arrived (busboy may finish at the close delimiter, before the epilogue). */
async function ended(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return;
  await new Promise<void>((resolve) => {
    raw.once('end', resolve);
    raw.once('close', resolve);
  });
}

/** Multipart, and not announced above the body limit. */
function checkBody(ctx: RouteContext, repo: string, request: FastifyRequest): void {
  const type = request.headers['content-type'];
  if (!request.isMultipart())
    throw new ServerError(
      'UNSUPPORTED_MEDIA_TYPE',
      `an upload to ${quote(repo)} is multipart/form-data (files parts), not ${quote(type ?? 'no content type', 60)}`,
      { details: { contentType: (type ?? '').slice(0, 100) } },
    );
  const length = Number(request.headers['content-length']);
  if (Number.isFinite(length) && length > ctx.bodyLimit)
    throw tooLarge(`the upload of ${length} bytes is above the body limit of ${ctx.bodyLimit}`, {
      limit: ctx.bodyLimit,
    });
}

/** POST /v2/<repo>/_trust/tuf/: validate, store and sign one upload (200 PublishResult). */
export async function upload(
  ctx: RouteContext,
  repo: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  let files: UploadFile[];
  try {
    await ctx.authenticate(request, repo, 'write');
    checkBody(ctx, repo, request);
    files = await readParts(request, ctx);
  } catch (e) {
    // the rest of a refused body is not read: close the connection rather than drain it
    reply.header('connection', 'close');
    throw e;
  }
  const result = await ctx.service.publish(repo, files);
  return reply.code(200).header('cache-control', NO_STORE).send(result);
}

/** DELETE /v2/<repo>/_trust/tuf/: every file and key of the repository (404 when it had none). */
export async function deleteRepo(
  ctx: RouteContext,
  repo: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await ctx.authenticate(request, repo, 'delete');
  if (!(await ctx.service.deleteRepo(repo)))
    throw notFound(`repository ${quote(repo)} has no metadata to delete`, { repo });
  return reply.code(200).header('cache-control', NO_STORE).send({ deleted: true });
}
