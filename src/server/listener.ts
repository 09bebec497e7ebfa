/**
 * The HTTP or HTTPS listener of `cnabsec server` (ADR 0024), around a request handler (the
 * fastify app's `routing`). It owns the socket so that shutdown is exactly what issue 13 item
 * 1 asks: `close(graceMs)` stops accepting at once (new connections are refused), answers
 * whatever arrives on open keep-alive connections with `Connection: close`, lets the requests
 * in flight (an upload being received) finish, and only after `graceMs` cuts the connections
 * that are still open. fastify's own `close()` would wait for in-flight requests without a
 * bound, or, with `forceCloseConnections`, cut them.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeErrno, errnoOf } from '../util/errno.js';
import { ServerError } from './errors.js';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface ListenOptions {
  host: string;
  port: number;
  /** PEM certificate chain and private key: HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** A request that is not HTTP (malformed, headers too large): answer on the socket (http-errors.ts). */
  onClientError?: (err: Error, socket: import('node:net').Socket) => void;
  /** How long a client may take (default DEFAULT_TIME_BOUNDS). */
  timeouts?: TimeBounds;
}

/**
 * The time bounds of every connection (issue 15 item 5, slow-loris), explicit rather than
 * Node's defaults (60 s headers, 300 s request, 5 s keep-alive, checked only every 30 s).
 * `headersMs`: from the connection's first byte (or its opening) to the end of the request
 * headers; `requestMs`: to the end of the whole request, body included; `keepAliveMs`: an idle
 * keep-alive connection between requests. A request over its bound is answered 408 and closed
 * (./http-errors.ts clientErrorHandler).
 */
export interface TimeBounds {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

export const DEFAULT_TIME_BOUNDS: TimeBounds = {
  headersMs: 10_000,
  requestMs: 120_000,
  keepAliveMs: 5_000,
};

/** node:http server options for `bounds`; expired requests are looked for every bound/4 (250 ms..30 s). */
export function timeoutOptions(bounds: TimeBounds): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  const shortest = Math.min(bounds.headersMs, bounds.requestMs);
  return {
    // node refuses a headers bound above the request bound
    headersTimeout: Math.min(bounds.headersMs, bounds.requestMs),
    requestTimeout: bounds.requestMs,
    keepAliveTimeout: bounds.keepAliveMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(shortest / 4))),
  };
}

export interface Listener {
  /** `http://127.0.0.1:4443`, `https://[::1]:4443`: the address actually bound. */
  readonly url: string;
  readonly address: { host: string; port: number };
  /** Requests received and not yet answered (and their connections not closed). */
  inFlight(): number;
  /**
   * Stop accepting, let in-flight requests finish for up to `graceMs`, then close what is
   * left. Resolves with how many requests were cut (0: all finished). Idempotent.
   */
  close(graceMs: number): Promise<{ cut: number }>;
}

function listenFailed(where: string, e: unknown): ServerError {
  const why = errnoOf(e) === 'EADDRINUSE' ? 'EADDRINUSE (address already in use)' : describeErrno(e);
  return new ServerError('SERVER_LISTEN_FAILED', `cannot listen on ${where}: ${why}`, {
    cause: e,
    details: { listen: where },
    hint: 'choose another --listen host:port (or stop the process using it) with a host of this machine',
  });
}

/** Listen on host:port with `handler`; rejects with SERVER_LISTEN_FAILED. */
export async function listen(handler: RequestHandler, options: ListenOptions): Promise<Listener> {
  const active = new Set<http.ServerResponse>();
  let closing = false;
  const onRequest: RequestHandler = (req, res) => {
    active.add(res);
    res.once('close', () => {
      active.delete(res);
      // a keep-alive connection whose response began before close() is idle now: end it
      if (closing)
        setImmediate(() => {
          server.closeIdleConnections();
        });
    });
    if (closing) res.setHeader('Connection', 'close');
    handler(req, res);
  };
  const bounds = timeoutOptions(options.timeouts ?? DEFAULT_TIME_BOUNDS);
  const server: http.Server =
    options.tls === undefined
      ? http.createServer(bounds, onRequest)
      : https.createServer({ ...bounds, cert: options.tls.cert, key: options.tls.key }, onRequest);
  // createServer takes keepAliveTimeout only as a property
  server.keepAliveTimeout = bounds.keepAliveTimeout;
  if (options.onClientError !== undefined) server.on('clientError', options.onClientError);
  const hostText = options.host.includes(':') ? `[${options.host}]` : options.host;
  const where = `${hostText}:${options.port}`;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      reject(listenFailed(where, e));
    });
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const scheme = options.tls === undefined ? 'http' : 'https';
  let closed: Promise<{ cut: number }> | undefined;
  const close = (graceMs: number): Promise<{ cut: number }> => {
    closed ??= new Promise((resolve) => {
      closing = true;
      // responses not yet begun end their connection; idle keep-alive connections go now
      for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
      let cut = 0;
      const timer = setTimeout(() => {
        cut = active.size;
        server.closeAllConnections();
      }, graceMs);
      server.close(() => {
        clearTimeout(timer);
        resolve({ cut });
      });
      server.closeIdleConnections();
    });
    return closed;
  };
  return {
    url: `${scheme}://${host}:${addr.port}`,
    address: { host: addr.address, port: addr.port },
    inFlight: () => active.size,
    close,
  };
}
