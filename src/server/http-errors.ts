/**
 * One error → HTTP table for the metadata repository (design.md §5, architecture anchors §6
 * rule 10): every error, ours (ServerError codes) and fastify's own (FST_* codes: no route,
 * bad content type, body too large, malformed multipart, bad JSON, bad URL), leaves as
 * `{"errors":[{"code","message","detail"}]}` with `Cache-Control: no-store`. The message is one
 * line; a stack trace never leaves the process. Unknown errors are 500 INTERNAL with a fixed
 * message and are logged with their cause.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isCnabsecError } from '../errors.js';

export interface ErrorBody {
  errors: { code: string; message: string; detail: Record<string, unknown> }[];
}

/** What one error becomes: status, envelope code, message, detail, extra headers. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  detail: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Log it at error level with its cause (5xx we did not expect). */
  log?: boolean;
}

/** Seconds a client should wait before retrying a busy store (503). */
export const RETRY_AFTER_SECONDS = 1;

/** ServerError codes (errors.ts) → status; codes not here are 500 INTERNAL. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  UPLOAD_REFUSED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  // the server was started without online keys: the key routes do not exist there
  ONLINE_KEYS_DISABLED: 404,
  VERSION_CONFLICT: 409,
  TOO_LARGE: 413,
  STORE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STORE_BUSY: 503,
  STORE_IO: 503,
};

/** fastify's and @fastify/multipart's own error codes → status and our code. */
const FASTIFY_CODES: Readonly<Record<string, [number, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'TOO_LARGE'],
  FST_REQ_FILE_TOO_LARGE: [413, 'TOO_LARGE'],
  FST_PARTS_LIMIT: [413, 'TOO_LARGE'],
  FST_FILES_LIMIT: [413, 'TOO_LARGE'],
  // fields are limited to 0: a non-file part is a wrong part, not a large one
  FST_FIELDS_LIMIT: [400, 'BAD_REQUEST'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_NOT_FOUND: [404, 'NOT_FOUND'],
};

/** One line, bounded: no newline of a foreign message reaches the client. */
export function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

const INTERNAL: HttpError = {
  status: 500,
  code: 'INTERNAL',
  message: 'internal server error; the request id names it in the server log',
  detail: {},
  log: true,
};

function fromCnabsec(code: string, message: string, details: Record<string, unknown>): HttpError {
  const status = STATUS_OF_CODE[code];
  if (status === undefined) return INTERNAL;
  const e: HttpError = { status, code, message: oneLine(message), detail: details };
  // a refusal for size is "too large" as much as "refused" (detail still the refusal)
  if (code === 'UPLOAD_REFUSED' && details.code === 'TOO_LARGE') e.status = 413;
  if (code === 'UNAUTHORIZED') e.headers = { 'www-authenticate': 'Bearer realm="cnabsec"' };
  if (code === 'STORE_BUSY') e.headers = { 'retry-after': String(RETRY_AFTER_SECONDS) };
  if (code === 'STORE_IO') {
    // the cause may name files of the host: logged, not sent
    e.message = 'the metadata store does not answer; try again later';
    e.detail = {};
    e.log = true;
  }
  return e;
}

/** The HTTP form of any thrown value. */
export function toHttpError(err: unknown): HttpError {
  if (isCnabsecError(err)) return fromCnabsec(err.code, err.message, err.details);
  const fe = err as Partial<FastifyError> | null;
  const code = typeof fe?.code === 'string' ? fe.code : undefined;
  const message = typeof fe?.message === 'string' ? fe.message : '';
  if (code !== undefined && code in FASTIFY_CODES) {
    const [status, ours] = FASTIFY_CODES[code] ?? [500, 'INTERNAL'];
    return { status, code: ours, message: oneLine(message), detail: { reason: code } };
  }
  // other fastify client errors (bad JSON, bad URL, bad content length, …) keep their 4xx
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (code?.startsWith('FST_') === true && status >= 400 && status < 500)
    return { status, code: 'BAD_REQUEST', message: oneLine(message), detail: { reason: code } };
  return INTERNAL;
}

export function envelope(e: Pick<HttpError, 'code' | 'message' | 'detail'>): ErrorBody {
  return { errors: [{ code: e.code, message: e.message, detail: e.detail }] };
}

/** Send `err` as the envelope (the one root error handler, the 404 handler, framework errors). */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toHttpError(err);
  if (e.log === true) request.log.error({ err }, 'request failed');
  else request.log.info({ code: e.code, status: e.status }, e.message);
  if (reply.sent) return reply;
  return reply
    .code(e.status)
    .headers({ 'cache-control': 'no-store', 'x-request-id': request.id, ...e.headers })
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(envelope(e)));
}

/** A request node could not even parse (bad HTTP): answered on the socket, in the envelope. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(
    envelope({
      code: tooLarge ? 'TOO_LARGE' : 'BAD_REQUEST',
      message: tooLarge ? 'request headers too large' : 'malformed HTTP request',
      detail: { reason: err.code ?? 'client error' },
    }),
  );
  socket.end(
    `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
