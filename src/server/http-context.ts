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
    authenticate(request, repo, action) {
      return authenticator.authenticate({
        method: request.method,
        repo,
        action,
        authorization: request.headers.authorization,
      });
    },
  };
}
