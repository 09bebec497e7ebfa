/**
 * A read-only HTTP server for a local repository's published metadata (and target files),
 * laid out as TUF clients request them: `/<N>.<role>.json`, `/timestamp.json`,
 * `/targets/<dir>/<sha256>.<name>`. A delegated role's file exists twice (ADR 0012):
 * `N.targets%2Freleases.json`, served here (`%2F` kept literal), and the same bytes at
 * `N.targets/releases.json` for hosts that decode `%2F`; directories answer 404. For
 * development, demos and tests; the CNAB-Sec metadata repository server (design.md §5) is a
 * separate component. Listens on 127.0.0.1 by default.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { describeErrno, errnoOf } from '../util/errno.js';
import { ServerError } from './errors.js';

export interface StaticServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  host?: string;
  port?: number;
  /** Called for each request (method, decoded path, status) — for logs and tests. */
  onRequest?: (method: string, urlPath: string, status: number) => void;
}

function cacheControl(name: string): string {
  // Like Notary: current metadata briefly cacheable, versioned files immutable.
  return /^\d+\./.test(path.basename(name)) ? 'public, max-age=2592000, immutable' : 'public, max-age=300';
}

async function handle(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  options: StaticServerOptions,
): Promise<void> {
  const reply = (status: number, body: string): void => {
    options.onRequest?.(req.method ?? '', req.url ?? '', status);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(405, 'method not allowed\n');
    return;
  }
  let rel: string;
  try {
    // Keep `%2F` literal: delegated role files are named `N.targets%2Freleases.json`.
    rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/%2F/gi, '%252F'));
  } catch {
    reply(400, 'bad path\n');
    return;
  }
  const file = path.resolve(root, `.${rel}`);
  const st = file.startsWith(root + path.sep) ? await fsp.stat(file).catch(() => undefined) : undefined;
  if (st?.isFile() !== true) {
    reply(404, 'not found\n');
    return;
  }
  options.onRequest?.(req.method, rel, 200);
  res.writeHead(200, {
    'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    'content-length': st.size,
    'cache-control': cacheControl(file),
  });
  if (req.method === 'HEAD') res.end();
  else {
    // a file removed or unreadable after the stat (a publish rolling back, EACCES, EIO) ends
    // this response; an unhandled stream error would stop the whole server
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }
}

/** Serve `dir` read-only. Paths are decoded once and must stay inside `dir`. */
export async function serveDirectory(dir: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = await fsp.realpath(dir).catch((e: unknown) => {
    throw new ServerError('SERVER_DIRECTORY', `cannot serve ${dir}: ${describeErrno(e)}`, {
      cause: e,
      hint: 'serve a directory that exists (a repository has metadata/ once published)',
    });
  });
  const server = createServer((req, res) => {
    handle(root, req, res, options).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 0}`;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      const why = errnoOf(e) === 'EADDRINUSE' ? 'EADDRINUSE (address already in use)' : describeErrno(e);
      reject(
        new ServerError('SERVER_LISTEN_FAILED', `cannot listen on ${where}: ${why}`, {
          cause: e,
          hint: 'choose another --port (or stop the process using it) and a --host of this machine',
        }),
      );
    });
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
