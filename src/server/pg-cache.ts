/**
 * The per-process cache of each repository's current metadata for ./pg-store.ts (issue 15
 * item 1, ADR 0031), so a GET of unchanged `timestamp.json` or `targets.json` does not reach
 * PostgreSQL. Invalidated across processes by LISTEN/NOTIFY: every commit to a repository runs
 * `pg_notify('cnabsec_repo', repo)` in its transaction (delivered at COMMIT, never for a
 * rolled-back write), and every store LISTENs on a connection of its own.
 *
 * Safety rules (a stale answer beyond one invalidation round would be a freeze attack helper):
 * - the cache answers only while the LISTEN connection is up; when it drops, everything is
 *   dropped and reads go to the database until it is back (reconnect every second);
 * - a load that raced an invalidation (the epoch moved while it read) is not stored;
 * - a write transaction's own reads never use it (./pg-store.ts passes an uncached reader);
 * - bounded: at most `maxEntries` repositories (least recently used dropped), and a repository
 *   whose current files exceed `maxEntryBytes` is not cached, and all entries together stay under
 *   `maxTotalBytes` (least recently used dropped); bytes are copied out on each hit.
 */
import pg from 'pg';
import type { StoredMeta } from './store.js';

export const NOTIFY_CHANNEL = 'cnabsec_repo';
/** Payload meaning "every repository" (a name too long for NOTIFY's 8000-byte payload). */
export const ALL = '*';
/** NOTIFY payloads are below 8000 bytes: longer names invalidate everything. */
export const MAX_NOTIFY_NAME = 4000;

export interface PgCacheOptions {
  url: string;
  /** Repositories kept. Default 10000. */
  maxEntries?: number;
  /** Largest repository (sum of its current files) kept, bytes. Default 8 MiB. */
  maxEntryBytes?: number;
  /** All entries together, bytes. Default 256 MiB. */
  maxTotalBytes?: number;
}

export interface PgCacheStats {
  hits: number;
  misses: number;
  invalidations: number;
  listening: boolean;
  entries: number;
  bytes: number;
}

type Rows = Map<string, StoredMeta>;

function sizeOf(rows: Rows): number {
  let bytes = 0;
  for (const m of rows.values()) bytes += m.bytes.byteLength;
  return bytes;
}

function copyRows(rows: Rows): Rows {
  return new Map([...rows].map(([role, m]) => [role, { ...m, bytes: Buffer.from(m.bytes) }]));
}

export class PgCurrentCache {
  private readonly entries = new Map<string, Rows>();
  private totalBytes = 0;
  private epoch = 0;
  private listening = false;
  private client: pg.Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: ((repo: string) => void)[] = [];
  private readonly stats = { hits: 0, misses: 0, invalidations: 0 };
  private readonly maxEntries: number;
  private readonly maxEntryBytes: number;
  private readonly maxTotalBytes: number;

  constructor(private readonly options: PgCacheOptions) {
    this.maxEntries = Math.max(0, Math.floor(options.maxEntries ?? 10_000));
    this.maxEntryBytes = options.maxEntryBytes ?? 8 * 1024 * 1024;
    this.maxTotalBytes = options.maxTotalBytes ?? 256 * 1024 * 1024;
  }

  /** Connect and LISTEN; failures leave the cache off (reads go to the database) and retry. */
  async start(): Promise<void> {
    if (this.closed || this.client !== undefined) return;
    // TCP keep-alive: a half-open connection (a partition without a reset) ends in an error, so
    // the cache turns off instead of serving stale metadata while missing other processes' NOTIFYs
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: 'cnabsec-listen',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    this.client = client;
    const lost = (): void => {
      if (this.client !== client) return;
      this.client = undefined;
      this.off();
      client.end().catch(() => undefined);
      if (!this.closed) this.timer = setTimeout(() => void this.start(), 1000).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      if (n.channel === NOTIFY_CHANNEL) this.invalidate(n.payload ?? ALL);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (this.client === client) this.listening = true;
    } catch {
      lost();
    }
  }

  /** Drop everything and answer nothing until LISTEN is back. */
  private off(): void {
    this.listening = false;
    this.entries.clear();
    this.totalBytes = 0;
    this.epoch++;
  }

  invalidate(repo: string): void {
    this.epoch++;
    this.stats.invalidations++;
    if (repo === ALL) {
      this.entries.clear();
      this.totalBytes = 0;
    } else this.drop(repo);
    for (const w of this.waiters.splice(0)) w(repo);
  }

  /** The next invalidation this process sees (tests: wait for the NOTIFY, no sleeps). */
  nextInvalidation(): Promise<string> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** `repo`'s current rows: a copy of the cached ones, or `load()`ed (and kept when safe). */
  async rows(repo: string, load: () => Promise<Rows>): Promise<Rows> {
    const hit = this.listening ? this.entries.get(repo) : undefined;
    if (hit !== undefined) {
      this.stats.hits++;
      this.entries.delete(repo);
      this.entries.set(repo, hit);
      return copyRows(hit);
    }
    this.stats.misses++;
    const epoch = this.epoch;
    const rows = await load();
    if (this.listening && epoch === this.epoch && this.maxEntries > 0) this.keep(repo, rows);
    return rows;
  }

  private drop(repo: string): void {
    const old = this.entries.get(repo);
    if (old === undefined) return;
    this.totalBytes -= sizeOf(old);
    this.entries.delete(repo);
  }

  private keep(repo: string, rows: Rows): void {
    const bytes = sizeOf(rows);
    if (bytes > this.maxEntryBytes || bytes > this.maxTotalBytes) return;
    this.drop(repo);
    this.entries.set(repo, copyRows(rows));
    this.totalBytes += bytes;
    while (this.entries.size > this.maxEntries || this.totalBytes > this.maxTotalBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.drop(oldest.value);
    }
  }

  snapshot(): PgCacheStats {
    return { ...this.stats, listening: this.listening, entries: this.entries.size, bytes: this.totalBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    this.off();
    await c?.end().catch(() => undefined);
  }
}

/** The NOTIFY payload for a write to `repo`. */
export function notifyPayload(repo: string): string {
  return Buffer.byteLength(repo) > MAX_NOTIFY_NAME ? ALL : repo;
}
