/**
 * `startServer(config)`: `cnabsec server` assembled from a ServerConfig (./config.ts, ADR
 * 0024). The master key is loaded first (a server that may hold online keys refuses to start
 * without one, before it creates any file), then the SQLite store and its online keys, the
 * TrustService with the metrics' events, the fastify app with a pino logger (JSON lines on
 * stdout, the Authorization header redacted), the HTTP or HTTPS listener (./listener.ts) and
 * the refresh scheduler. `close()` shuts down in order: stop accepting and let in-flight
 * requests finish (at most `shutdownGraceSeconds`), stop the scheduler (its tick in flight
 * finishes), close the app, then the database connections: nothing is cut mid-transaction.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { describeErrno } from '../util/errno.js';
import { readUserFile } from '../util/fs.js';
import type { Authenticator, ServerConfig } from './app-types.js';
import { buildApp } from './app.js';
import { acceptAllAuthenticator, tokenAuthenticator } from './auth.js';
import { isLoopback } from './config-values.js';
import { ServerError } from './errors.js';
import { clientErrorHandler } from './http-errors.js';
import { listen, type Listener } from './listener.js';
import { loadMasterKey, MASTER_KEY_ENV, type MasterKey } from './master-key.js';
import { createMetrics } from './metrics.js';
import { RefreshScheduler } from './refresh.js';
import { TrustService } from './service.js';
import type { SealedOnlineKeys } from './online-keys.js';
import { describeDb, openOnlineKeys, openStore } from './open-store.js';
import { openTokenStore } from './tokens-admin.js';

export interface StartServerOptions {
  /** Default: pino at config.logLevel, JSON lines on stdout. */
  logger?: Logger;
  /** The clock of the service and the store (tests). */
  now?: () => Date;
  /** Where CNABSEC_SERVER_MASTER_KEY is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  authenticator?: Authenticator;
}

export interface RunningServer {
  /** `http://127.0.0.1:4443`: the address actually bound (port 0 resolved). */
  readonly url: string;
  readonly address: { host: string; port: number };
  readonly logger: Logger;
  /** Graceful shutdown (see the module comment); idempotent. */
  close(): Promise<void>;
}

/** A certificate chain or key is a few kB; 1 MiB bounds a wrong file. */
const MAX_PEM_BYTES = 1 << 20;

/**
 * The server's logger: JSON lines on `dest` (1: stdout; `--json` uses 2, keeping stdout for
 * its ready document; a stream in tests), a request id per request (fastify), no secrets.
 */
export function serverLogger(level: ServerConfig['logLevel'], dest: 1 | 2 | DestinationStream = 1): Logger {
  const options = {
    level,
    base: { service: 'cnabsec-server', pid: process.pid },
    redact: {
      // busboyOptions.headers: @fastify/multipart logs the request headers at trace level
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        'busboyOptions.headers.authorization',
        'busboyOptions.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return pino(options, typeof dest === 'number' ? pino.destination({ dest, sync: true }) : dest);
}

async function masterKeyFor(config: ServerConfig, env: NodeJS.ProcessEnv): Promise<MasterKey | undefined> {
  if (!config.onlineKeys) return undefined;
  try {
    return await loadMasterKey({
      ...(config.masterKeyFile === undefined ? {} : { file: config.masterKeyFile }),
      env,
    });
  } catch (e) {
    if (!(e instanceof ServerError) || e.code !== 'MASTER_KEY_MISSING' || config.masterKeyFile !== undefined)
      throw e;
    throw new ServerError(
      'MASTER_KEY_MISSING',
      `${e.message}: the server seals the timestamp and snapshot keys it holds with it`,
      {
        cause: e,
        hint: `set ${MASTER_KEY_ENV} (\`openssl rand -hex 32\`) or --master-key-file, or run with --no-online-keys (developer-managed repositories only); docs/server.md`,
      },
    );
  }
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readUserFile(file, MAX_PEM_BYTES);
  } catch (e) {
    throw new ServerError('SERVER_TLS', `${file}: cannot read the TLS ${what}: ${describeErrno(e)}`, {
      cause: e,
      details: { file },
      hint: 'give a PEM file this user can read (--tls-cert, --tls-key)',
    });
  }
}

async function listenWith(
  config: ServerConfig,
  handler: Parameters<typeof listen>[0],
  tls: { cert: Buffer; key: Buffer } | undefined,
): Promise<Listener> {
  try {
    return await listen(handler, {
      ...config.listen,
      ...(tls === undefined ? {} : { tls }),
      onClientError: clientErrorHandler,
    });
  } catch (e) {
    if (e instanceof ServerError || config.tls === undefined) throw e;
    // createServer refused the certificate or key (not PEM, key does not match)
    const why = e instanceof Error ? e.message : String(e);
    throw new ServerError(
      'SERVER_TLS',
      `${config.tls.cert}, ${config.tls.key}: not a usable certificate and key: ${why}`,
      {
        cause: e,
        details: { cert: config.tls.cert, key: config.tls.key },
        hint: 'give a PEM certificate chain and the PEM private key that matches it',
      },
    );
  }
}

/** What startServer opens, and how to close it again (last opened first). */
interface Parts {
  service: TrustService;
  metrics: ReturnType<typeof createMetrics>;
  opened: (() => Promise<void> | void)[];
}

async function closeParts(opened: (() => Promise<void> | void)[]): Promise<void> {
  for (const c of [...opened].reverse()) await c();
}

/**
 * A master key that is not the one the database's keys are sealed under would start a server
 * that fails at its first signature: refuse it now. `reseal` with only the current key loaded
 * changes nothing and throws KEK_UNKNOWN for the first row sealed under another key (ADR 0021).
 */
async function checkMasterKey(db: string, keys: SealedOnlineKeys, master: MasterKey): Promise<void> {
  try {
    await keys.reseal();
  } catch (e) {
    if (!(e instanceof ServerError) || e.code !== 'KEK_UNKNOWN') throw e;
    const sealedUnder = String(e.details.kekId);
    throw new ServerError(
      'KEK_UNKNOWN',
      `${db}: its online keys are sealed under master key ${sealedUnder}, not under the one given (${master.kekId})`,
      {
        cause: e,
        details: { db, kekId: sealedUnder, given: master.kekId },
        hint: `start with the master key this database was used with (${MASTER_KEY_ENV} or --master-key-file); docs/server.md`,
      },
    );
  }
}

/** The store, its online keys (with a master key) and the service on them. */
async function openService(
  config: ServerConfig,
  master: MasterKey | undefined,
  now: () => Date,
): Promise<Parts> {
  const store = await openStore(config.db, {
    maxMetaBytes: Math.max(config.limits.role, config.limits.targets),
    maxTargetFileBytes: config.limits.targetFile,
    ...(config.dbPoolSize === undefined ? {} : { poolMax: config.dbPoolSize }),
    now,
  });
  const opened: Parts['opened'] = [() => store.close()];
  try {
    const keys =
      master === undefined
        ? undefined
        : openOnlineKeys(config.db, store, { master: { current: master }, now });
    if (keys !== undefined) opened.push(() => keys.close());
    if (keys !== undefined && master !== undefined) await checkMasterKey(describeDb(config.db), keys, master);
    const metrics = createMetrics();
    const { role, targets, targetFile } = config.limits;
    const service = new TrustService({
      store,
      ...(keys === undefined ? {} : { keys }),
      now,
      limits: { role, targets, targetFile },
      expiry: config.expiry,
      refreshFraction: config.refreshFraction,
      events: metrics.events,
    });
    return { service, metrics, opened };
  } catch (e) {
    await closeParts(opened);
    throw e;
  }
}

function scheduler(
  config: ServerConfig,
  service: TrustService,
  logger: Logger,
): RefreshScheduler | undefined {
  if (config.refreshIntervalSeconds <= 0) return undefined;
  return new RefreshScheduler({
    service,
    intervalMs: config.refreshIntervalSeconds * 1000,
    onError: (e) => {
      logger.error({ err: e }, 'refresh failed');
    },
  });
}

/**
 * `auth: tokens`: the token table of the server's own database (its own connection, closed
 * with the rest), so `cnabsec server-token` beside the running server takes effect at once.
 */
async function authenticatorFor(
  config: ServerConfig,
  opened: Parts['opened'],
  now: () => Date,
): Promise<Authenticator> {
  if (config.auth === 'none') return acceptAllAuthenticator;
  const tokens = await openTokenStore(config.db);
  opened.push(() => tokens.close());
  return tokenAuthenticator(tokens, { anonymousRead: config.anonymousRead, now });
}

/** Start `cnabsec server`: see the module comment. Rejects with a ServerError, leaving nothing open. */
export async function startServer(
  config: ServerConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? serverLogger(config.logLevel);
  const now = options.now ?? (() => new Date());
  const master = await masterKeyFor(config, options.env ?? process.env);
  const tls =
    config.tls === undefined
      ? undefined
      : { cert: await readPem(config.tls.cert, 'certificate'), key: await readPem(config.tls.key, 'key') };
  const { service, metrics, opened } = await openService(config, master, now);
  try {
    const app = await buildApp({
      service,
      metrics,
      logger,
      bodyLimit: config.limits.body,
      authenticator: options.authenticator ?? (await authenticatorFor(config, opened, now)),
    });
    opened.push(() => app.close());
    await app.ready();
    if (!isLoopback(config.listen.host) && config.auth === 'none' && options.authenticator === undefined)
      logger.warn(
        { listen: config.listen },
        'listening on a non-loopback address: anyone who can reach it can read and publish (auth is none: set auth to tokens, docs/server.md); put TLS and a firewall in front',
      );
    const listener = await listenWith(
      config,
      (req, res) => {
        app.routing(req, res);
      },
      tls,
    );
    const refresh = scheduler(config, service, logger);
    refresh?.start();
    logger.info({ url: listener.url, db: describeDb(config.db), onlineKeys: config.onlineKeys }, 'listening');
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        logger.info(
          { inFlight: listener.inFlight() },
          'shutting down: no new connections, finishing requests in flight',
        );
        const { cut } = await listener.close(config.shutdownGraceSeconds * 1000);
        if (cut > 0) logger.warn({ cut }, 'shutdown grace period over: requests still open were cut');
        await refresh?.stop();
        await closeParts(opened);
        logger.info('stopped');
      })());
    return { url: listener.url, address: listener.address, logger, close };
  } catch (e) {
    await closeParts(opened);
    throw e;
  }
}

/**
 * Run until SIGTERM or SIGINT, then `close()` gracefully; a second signal exits at once
 * (128 + the signal number, as a shell reports it). Install before the ready line is printed.
 */
export function untilSignal(onSignal?: (signal: NodeJS.Signals) => void): {
  stopped: Promise<NodeJS.Signals>;
  remove(): void;
} {
  let remove = (): void => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    let first: NodeJS.Signals | undefined;
    const handler = (signal: NodeJS.Signals): void => {
      if (first !== undefined) process.exit(signal === 'SIGINT' ? 130 : 143);
      first = signal;
      onSignal?.(signal);
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    remove = () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    };
  });
  return {
    stopped,
    remove: () => {
      remove();
    },
  };
}
