/**
 * What every route handler of the metadata repository's HTTP app (app.ts) gets: the service,
 * the caching and size settings, and the one authentication step (the Authenticator of
 * app-types.ts, fed the raw `Authorization` header; its result is never logged).
 */
import type { FastifyRequest } from 'fastify';
import type { Authenticator, Caller } from './app-types.js';
import type { MetadataService } from './service-types.js';

export type Action = 'read' | 'write' | 'delete' | 'rotate';

export interface RouteContext {
  service: MetadataService;
  /** `Cache-Control: public, max-age=<this>` of current metadata. */
  currentMaxAgeSeconds: number;
  /** Largest upload body, in bytes. */
  bodyLimit: number;
  authenticate(request: FastifyRequest, repo: string | undefined, action: Action): Promise<Caller>;
}

/** Versioned, by-checksum and by-hash files never change (Notary: 30 days, immutable). */
export const IMMUTABLE = 'public, max-age=2592000, immutable';
export const NO_STORE = 'no-store';

export function routeContext(
  service: MetadataService,
  authenticator: Authenticator,
  settings: { currentMaxAgeSeconds: number; bodyLimit: number },
): RouteContext {
  return {
    service,
    ...settings,
    async authenticate(request, repo, action) {
      try {
        const caller = await authenticator.authenticate({
          method: request.method,
          repo,
          action,
          authorization: request.headers.authorization,
        });
        // RFC 9111 §3.5: `public` would let a shared cache serve a token's answer to anyone
        if (caller.tokenId !== undefined) request.privateAnswer = true;
        return caller;
      } catch (e) {
        // a refused upload of a few kB is read to its end first: a client still sending it
        // would see the connection closed instead of the 401/403 (the route then closes it)
        await drainSmallBody(request);
        throw e;
      }
    },
  };
}

/** Refused bodies up to this size are read (and dropped) before the answer; larger ones are cut. */
export const DRAIN_MAX_BYTES = 1 << 20;
const DRAIN_MAX_MS = 2000;

/** Read and drop a body of known length up to DRAIN_MAX_BYTES, for at most DRAIN_MAX_MS. */
function drainSmallBody(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  const length = Number(request.headers['content-length']);
  if (!Number.isSafeInteger(length) || length <= 0 || length > DRAIN_MAX_BYTES || raw.readableEnded)
    return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('error', done);
      if (!raw.readableEnded) raw.pause();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('error', done);
  });
}
