/** `cnabsec serve <repo>`: serve a local repository's published metadata read-only over HTTP. */
import type { Command } from '../args.js';
import * as path from 'node:path';
import { ServerError } from '../../server/errors.js';
import { serveDirectory } from '../../server/static.js';
import { openRepository } from '../repo-common.js';
import { port } from '../options.js';
import { pathExists } from '../../util/fs.js';
import { printLine, runAction } from '../output.js';

export function register(program: Command): void {
  program
    .command('serve <repo>')
    .description('serve the published metadata of a local repository over HTTP (read-only, for development)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (default or 0: a free one)', port)
    .example('cnabsec serve ./repo')
    .example('cnabsec serve ./repo --port 8080 --json')
    .option('--json', 'print {"name","url","root"} as one JSON line once listening')
    .option('-v, --verbose', 'print each file read to stderr')
    .action(
      runAction(async (dir: string, opts: { host: string; port?: number; json?: boolean }) => {
        const repo = await openRepository(dir);
        if (!(await pathExists(path.join(dir, 'metadata', 'timestamp.json')))) {
          throw new ServerError(
            'SERVER_DIRECTORY',
            `nothing published yet in ${dir} (no metadata/timestamp.json)`,
            {
              hint: `run \`cnabsec publish ${dir}\` first`,
            },
          );
        }
        const s = await serveDirectory(path.join(dir, 'metadata'), {
          host: opts.host,
          ...(opts.port === undefined ? {} : { port: opts.port }),
        });
        const root = path.join(dir, 'metadata', 'root.json');
        if (opts.json) printLine(JSON.stringify({ name: repo.config.name, url: s.url, root }));
        else {
          printLine(`serving ${repo.config.name} at ${s.url} (Ctrl-C to stop)`);
          printLine(`clients: cnabsec trust add ${repo.config.name} --root ${root} --url ${s.url}`);
        }
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await s.close();
      }),
    );
}
