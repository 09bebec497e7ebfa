/**
 * The metadata repository's HTTP app (issue 13, design.md §5, ADR 0023): fastify 5 with the
 * Notary v1 paths under `/v2/`, a MetadataService behind them (decode → call → encode), one
 * error envelope for every error (./http-errors.ts), `/healthz` and `/metrics`. Repository names
 * hold `/`, so `/v2/*` is one route per method, dispatched by ./http-paths.ts; HEAD is fastify's
 * (exposeHeadRoutes). Requests are logged once each, without body, token or query string.
 */
import { randomUUID } from 'node:crypto';
import type { ServerOptions } from 'node:http';
import fastifyMultipart from '@fastify/multipart';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { quote } from '../util/json.js';
import type { AppOptions } from './app-types.js';
import { acceptAllAuthenticator } from './auth.js';
import { ServerError } from './errors.js';
import { NO_STORE, routeContext, type RouteContext } from './http-context.js';
import { clientErrorHandler, envelope, sendError, toHttpError } from './http-errors.js';
import { ROUTE_PATTERNS, notFound, parseTrustUrl, type TrustPath } from './http-paths.js';
import { DEFAULT_TIME_BOUNDS, timeoutOptions } from './listener.js';
import { getKey, rotateKey } from './routes-keys.js';
import { getMetadata, getTarget } from './routes-metadata.js';
import { defaultBodyLimit, deleteRepo, multipartOptions, upload } from './routes-upload.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The route pattern metrics and logs see (ROUTE_PATTERNS), never the raw URL. */
    routeLabel: string;
    /** Answered to a bearer token: `Cache-Control: private`, never `public` (http-context.ts). */
    privateAnswer: boolean;
  }
}

/** Largest body of anything but an upload (no other route takes one). */
const OTHER_BODY_LIMIT = 64 << 10;
/** How long /healthz waits for the store. */
const PING_TIMEOUT_MS = 5_000;
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's `X-Request-Id` when it is sane (≤ 64 of [A-Za-z0-9._-]), a random id otherwise. */
export function requestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

function serverOptions(options: AppOptions): FastifyServerOptions & { http: ServerOptions } {
  const bounds = timeoutOptions(options.timeouts ?? DEFAULT_TIME_BOUNDS);
  return {
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => requestId(req.headers['x-request-id']),
    exposeHeadRoutes: true,
    bodyLimit: OTHER_BODY_LIMIT,
    return503OnClosing: true,
    // a URL the router cannot take: no route, so no onResponse hook; counted here
    frameworkErrors: (error, request, reply) => {
      reply.raw.once('finish', () => {
        options.metrics.observeRequest(
          'unmatched',
          request.method,
          reply.statusCode,
          reply.elapsedTime / 1000,
        );
      });
      sendError(error, request, reply);
    },
    clientErrorHandler,
    // the bounds when fastify listens itself (listener.ts applies them for `cnabsec server`)
    requestTimeout: bounds.requestTimeout,
    keepAliveTimeout: bounds.keepAliveTimeout,
    http: {
      headersTimeout: bounds.headersTimeout,
      connectionsCheckingInterval: bounds.connectionsCheckingInterval,
    },
  };
}

/** onSend and onResponse: the request id echoed, one log line, one metrics observation. */
function addHooks(app: FastifyInstance, options: AppOptions): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeLabel || request.routeOptions.url || 'unmatched';
    options.metrics.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
}

async function healthz(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ServerError('STORE_IO', `the store did not answer within ${PING_TIMEOUT_MS} ms`));
    }, PING_TIMEOUT_MS);
    timer.unref();
  });
  try {
    await Promise.race([ctx.service.ping(), timeout]);
    return await reply.code(200).header('cache-control', NO_STORE).send({ status: 'ok' });
  } catch (err) {
    request.log.error({ err }, 'health check failed');
    const e = toHttpError(new ServerError('STORE_IO', 'store ping failed'));
    return await reply
      .code(503)
      .header('cache-control', NO_STORE)
      .send({ status: 'unavailable', ...envelope(e) });
  } finally {
    clearTimeout(timer);
  }
}

function trustPath(request: FastifyRequest): TrustPath {
  const path = parseTrustUrl(request.url);
  request.routeLabel = ROUTE_PATTERNS[path.kind];
  return path;
}

function noRoute(request: FastifyRequest, what: string): ServerError {
  return notFound(`no ${request.method} route for ${what}`, { method: request.method });
}

function dispatchGet(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const path = trustPath(request);
  switch (path.kind) {
    case 'current':
    case 'version':
    case 'checksum':
      return getMetadata(ctx, path, request, reply);
    case 'target':
      return getTarget(ctx, path, request, reply);
    case 'key':
      return getKey(ctx, path, request, reply);
    case 'repository':
      throw noRoute(request, `repository ${quote(path.repo)} (upload with POST, delete with DELETE)`);
  }
}

function dispatchPost(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const path = trustPath(request);
  if (path.kind === 'repository') return upload(ctx, path.repo, request, reply);
  if (path.kind === 'key') return rotateKey(ctx, path, request, reply);
  throw noRoute(request, `a ${path.kind} file (POST uploads to /v2/<repo>/_trust/tuf/)`);
}

function dispatchDelete(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const path = trustPath(request);
  if (path.kind === 'repository') return deleteRepo(ctx, path.repo, request, reply);
  throw noRoute(request, `a ${path.kind} file (DELETE takes /v2/<repo>/_trust/tuf/)`);
}

function addRoutes(app: FastifyInstance, ctx: RouteContext, options: AppOptions): void {
  app.get('/healthz', (request, reply) => healthz(ctx, request, reply));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await options.metrics.render();
    return reply.code(200).type(contentType).header('cache-control', NO_STORE).send(body);
  });
  // the Notary/registry API probe
  app.get('/v2/', async (request, reply) => {
    await ctx.authenticate(request, undefined, 'read');
    return reply.code(200).header('cache-control', NO_STORE).send({});
  });
  app.get('/v2/*', (request, reply) => dispatchGet(ctx, request, reply));
  app.post('/v2/*', (request, reply) => dispatchPost(ctx, request, reply));
  app.delete('/v2/*', (request, reply) => dispatchDelete(ctx, request, reply));
}

/** The app, ready to `inject()` or `listen()`; the caller closes it. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { service } = options;
  const ctx = routeContext(service, options.authenticator ?? acceptAllAuthenticator, {
    currentMaxAgeSeconds: options.currentMaxAgeSeconds ?? 300,
    bodyLimit: options.bodyLimit ?? defaultBodyLimit(service.limits),
  });
  const app = Fastify(serverOptions(options)) as unknown as FastifyInstance;
  app.decorateRequest('routeLabel', '');
  app.decorateRequest('privateAnswer', false);
  addHooks(app, options);
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    request.routeLabel = 'unmatched';
    const path = request.url.split('?')[0] ?? '';
    return sendError(notFound(`no route for ${request.method} ${quote(path, 120)}`), request, reply);
  });
  await app.register(fastifyMultipart, multipartOptions(service.limits));
  addRoutes(app, ctx, options);
  return app;
}
