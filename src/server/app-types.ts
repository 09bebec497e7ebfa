/**
 * The pieces `cnabsec server` is assembled from (issue 13): the HTTP app (app.ts) takes a
 * MetadataService, an Authenticator and a Metrics; run.ts builds them from a ServerConfig
 * (config.ts: flags over CNABSEC_SERVER_* over server.json over defaults) and listens.
 */
import type { MetadataService, ServiceEvents } from './service-types.js';
import type { UploadLimits } from './upload-parse.js';

/** Who is asking, as far as the server knows (tokens: ADR 0032). */
export interface Caller {
  /** The bearer token sent, if any (never logged). */
  token?: string;
  /** The id and scope of the token that was accepted (tokenAuthenticator, ADR 0032). */
  tokenId?: string;
  scope?: 'read' | 'write' | 'admin';
}

/**
 * Decides whether a request may go on. Today's default accepts every caller and ignores the
 * token (issue 13 item 5: "accept and ignore it for now, but keep the header path real");
 * issue 15 plugs its token scheme in here. Throws ServerError to refuse.
 */
export interface Authenticator {
  authenticate(input: {
    method: string;
    repo: string | undefined;
    /** `delete`: a repository; `rotate`: a server-held key (both need admin with tokens). */
    action: 'read' | 'write' | 'delete' | 'rotate';
    authorization: string | undefined;
  }): Promise<Caller>;
}

/** prom-client metrics of one server process (metrics.ts). */
export interface ServerMetrics {
  /** Feed these to the service so uploads, refreshes and signatures are counted. */
  readonly events: ServiceEvents;
  /** Count a finished request (route is the route pattern, never the raw URL). */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** The text exposition for GET /metrics, and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface AppOptions {
  service: MetadataService;
  metrics: ServerMetrics;
  authenticator?: Authenticator;
  /** A pino logger (run.ts), or false for none (tests). */
  logger?: import('pino').Logger | false;
  /** Seconds current metadata may be cached (Cache-Control max-age). Default 300. */
  currentMaxAgeSeconds?: number;
  /** Largest upload body in bytes (ServerConfig.limits.body). Default: 128 MiB, or the largest of service.limits if that is more. */
  bodyLimit?: number;
}

/** Everything `cnabsec server` needs, after flags, environment and file are merged. */
export interface ServerConfig {
  /** host:port; the default 127.0.0.1:4443. */
  listen: { host: string; port: number };
  /** The SQLite file (default $CNABSEC_HOME/server/cnabsec.db), or a postgres:// URL (ADR 0031). */
  db: string;
  /** PostgreSQL: most connections this process opens (default 10). */
  dbPoolSize?: number;
  tls?: { cert: string; key: string };
  /** Where the master key comes from: a 0600 file, or CNABSEC_SERVER_MASTER_KEY when unset. */
  masterKeyFile?: string;
  /**
   * Whether the server may hold timestamp/snapshot keys (default true). With false
   * (`--no-online-keys`) no master key is needed and every repository must upload its own
   * timestamp and snapshot (developer-managed only); `GET …/<role>.key` then fails.
   */
  onlineKeys: boolean;
  /** Upload size limits in bytes (role, targets, targetFile as validate.ts takes them; body: a whole request). */
  limits: UploadLimits & { body: number };
  /** Expiry of what the server signs, in seconds. */
  expiry: { timestamp: number; snapshot: number };
  /** Re-sign when less than this fraction of a server-signed role's lifetime is left (0 < f < 1). */
  refreshFraction: number;
  /** Seconds between scheduler ticks (0: no scheduler). */
  refreshIntervalSeconds: number;
  /** Seconds to finish in-flight requests on SIGTERM before giving up. */
  shutdownGraceSeconds: number;
  /** `none`: every caller is accepted (issue 13); `tokens`: bearer tokens and scopes (ADR 0032). */
  auth: 'none' | 'tokens';
  /** With `auth: tokens`: repository patterns anyone may read without a token (default none). */
  anonymousRead: string[];
  /** pino level. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
