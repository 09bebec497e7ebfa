/**
 * `cnabsec server`: the CNAB-Sec metadata repository server (issue 13; docs/server.md), and
 * `cnabsec server-backup <out>`, an online copy of its SQLite file; `server-token` and
 * `server-migrate` are in ./server-token.ts.
 */
import type { Command } from '../args.js';
import { durationOrOff, listenAddress, oneOf } from '../options.js';
import { printJson, printLine, runAction } from '../output.js';
import { loadServerConfig, type ServerFlags } from '../../server/config.js';
import { AUTH_MODES, LOG_LEVELS } from '../../server/config-values.js';
import { registerTokenCommands } from './server-token.js';

/** The parsed options: the server's flags, plus --json. */
interface ServerOptions extends ServerFlags {
  json?: boolean;
}

function flagsOf(opts: ServerOptions): ServerFlags {
  const flags: ServerFlags = {};
  for (const k of [
    'listen',
    'db',
    'config',
    'tlsCert',
    'tlsKey',
    'masterKeyFile',
    'logLevel',
    'refreshInterval',
    'auth',
  ] as const) {
    const v = opts[k];
    if (v !== undefined) flags[k] = v;
  }
  // `--no-online-keys` makes the option false; its default (true) must not override the file
  if (opts.onlineKeys === false) flags.onlineKeys = false;
  return flags;
}

async function runServer(opts: ServerOptions): Promise<void> {
  const { serverLogger, startServer, untilSignal } = await import('../../server/run.js');
  const config = await loadServerConfig({ flags: flagsOf(opts) });
  // the handlers are in place before anyone can read the ready line and signal
  const signal = untilSignal(() =>
    process.stderr.write('cnabsec server: shutting down (a second signal stops at once)\n'),
  );
  try {
    // with --json, stdout is the ready document's: the logs go to stderr
    const server = await startServer(config, { logger: serverLogger(config.logLevel, opts.json ? 2 : 1) });
    process.stderr.write(`cnabsec server: listening on ${server.url} (db ${config.db})\n`);
    if (opts.json)
      printLine(
        JSON.stringify({
          url: server.url,
          listen: server.address,
          db: config.db,
          tls: config.tls !== undefined,
          onlineKeys: config.onlineKeys,
        }),
      );
    await signal.stopped;
    await server.close();
    process.stderr.write('cnabsec server: stopped\n');
  } finally {
    signal.remove();
  }
}

export function register(program: Command): void {
  program
    .command('server')
    .description(
      'run the CNAB-Sec metadata repository server (Notary v1 API, embedded SQLite; docs/server.md)',
    )
    .option(
      '--listen <host:port>',
      'address to listen on (default 127.0.0.1:4443; port 0: a free one)',
      listenAddress,
    )
    .option('--db <file>', 'the SQLite database (default $CNABSEC_HOME/server/cnabsec.db)')
    .option('--config <file>', 'a server.json of settings (flags and CNABSEC_SERVER_* variables override it)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--master-key-file <file>',
      'the 0600 file of the master key (default: CNABSEC_SERVER_MASTER_KEY)',
    )
    .option(
      '--no-online-keys',
      'hold no timestamp/snapshot keys (no master key needed; developer-managed only)',
    )
    .option(
      '--log-level <level>',
      'level of the JSON logs (default info; on stdout, with --json on stderr)',
      oneOf(LOG_LEVELS),
    )
    .option(
      '--refresh-interval <duration>',
      'time between refresh checks (default 1m; 0: never)',
      durationOrOff,
    )
    .option(
      '--auth <mode>',
      'none (default: accept every caller) or tokens (server-token create)',
      oneOf(AUTH_MODES),
    )
    .option('--json', 'once listening, print {"url","listen","db","tls","onlineKeys"} as one JSON line')
    .example('CNABSEC_SERVER_MASTER_KEY=$(openssl rand -hex 32) cnabsec server --listen 127.0.0.1:4443')
    .example('cnabsec server --config /etc/cnabsec/server.json --master-key-file /etc/cnabsec/master.key')
    .example('cnabsec server --no-online-keys --db ./server.db --listen 127.0.0.1:0 --json')
    .action(runAction(runServer));

  program
    .command('server-backup <out>')
    .description("copy the server's SQLite database to a new file, consistently, while servers run")
    .option('--db <file>', 'the database (default: as `cnabsec server` finds it)')
    .option('--config <file>', 'the server.json naming the database')
    .option('--json', 'print {"db","out","bytes"}')
    .example('cnabsec server-backup /var/backups/cnabsec-$(date +%F).db')
    .example('cnabsec server-backup ./copy.db --db ./server.db --json')
    .action(
      runAction(async (out: string, opts: { db?: string; config?: string; json?: boolean }) => {
        const { backupDatabase } = await import('../../server/backup.js');
        const config = await loadServerConfig({
          flags: {
            ...(opts.db === undefined ? {} : { db: opts.db }),
            ...(opts.config === undefined ? {} : { config: opts.config }),
          },
        });
        const r = await backupDatabase(config.db, out);
        if (opts.json) printJson(r);
        else printLine(`backed up ${r.db} to ${r.out} (${r.bytes} bytes)`);
      }),
    );

  registerTokenCommands(program);
}
