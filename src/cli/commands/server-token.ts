/**
 * `cnabsec server-token create|list|revoke` and `cnabsec server-migrate` (issue 15 item 3,
 * ADR 0032): on the server's own database, found as `cnabsec server` finds it (--db, --config,
 * CNABSEC_SERVER_*), so an operator runs them beside a live server. Registered by ./server.ts.
 * (`server` stays a leaf command: the parser has no command that is both a leaf and a group.)
 */
import type { Command } from '../args.js';
import { duration, oneOf, repeatable, type TypedParser } from '../options.js';
import { printJson, printLine, runAction } from '../output.js';
import { loadServerConfig } from '../../server/config.js';
import { checkPattern, TOKEN_SCOPES, type TokenInfo, type TokenScope } from '../../server/tokens.js';
import { durationSeconds } from '../../util/duration.js';

interface DbOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

/** A repository pattern (src/server/tokens.ts), checked as it is parsed. */
const pattern: TypedParser<string> = Object.assign(
  (text: string): string => {
    try {
      return checkPattern(text);
    } catch {
      throw new Error(`expected ${pattern.expected}`);
    }
  },
  {
    expected:
      'a repository pattern such as example.com/acme/* (* one component, ** last: any depth; * alone: all)',
  },
);

async function dbOf(opts: DbOptions): Promise<string> {
  const config = await loadServerConfig({
    flags: {
      ...(opts.db === undefined ? {} : { db: opts.db }),
      ...(opts.config === undefined ? {} : { config: opts.config }),
    },
  });
  return config.db;
}

async function withTokens<T>(
  opts: DbOptions,
  work: (store: import('../../server/token-store.js').TokenStore) => Promise<T>,
): Promise<T> {
  const { openTokenStore } = await import('../../server/tokens-admin.js');
  const store = await openTokenStore(await dbOf(opts));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function infoJson(t: TokenInfo): Record<string, unknown> {
  return {
    id: t.id,
    scope: t.scope,
    repo: t.patterns,
    created: t.createdAt.toISOString(),
    expires: t.expiresAt?.toISOString() ?? null,
    revoked: t.revokedAt?.toISOString() ?? null,
    description: t.description ?? null,
  };
}

function stateOf(t: TokenInfo, now: Date): string {
  if (t.revokedAt !== undefined) return 'revoked';
  if (t.expiresAt !== undefined && t.expiresAt <= now) return 'expired';
  return 'active';
}

function withDb(cmd: Command): Command {
  return cmd
    .option('--db <file>', 'the database (default: as `cnabsec server` finds it)')
    .option('--config <file>', 'the server.json naming the database');
}

interface CreateOptions extends DbOptions {
  scope: TokenScope;
  repo: string[];
  expires?: string;
  description?: string;
}

function registerCreate(group: Command): void {
  withDb(group.command('create'))
    .description('create a bearer token; it is printed once, only its hash is stored')
    .requiredOption(
      '--scope <scope>',
      'read, write (also read) or admin (also delete and key rotation)',
      oneOf(TOKEN_SCOPES),
    )
    .requiredOption(
      '--repo <pattern>',
      'repositories it is for (repeatable), e.g. example.com/acme/*',
      repeatable(pattern),
    )
    .option('--expires <duration>', 'lifetime such as 90d (default: no expiry)', duration)
    .option('--description <text>', 'a note shown by `server-token list` (at most 200 characters)')
    .option('--json', 'print {"id","token","scope","repo","expires"}')
    .example("cnabsec server-token create --scope write --repo 'example.com/acme/*' --expires 90d")
    .example("cnabsec server-token create --scope read --repo '*' --db ./server.db --json")
    .action(
      runAction(async (opts: CreateOptions) => {
        const { createToken } = await import('../../server/tokens-admin.js');
        const expiresIn = opts.expires === undefined ? undefined : durationSeconds(opts.expires);
        const t = await withTokens(opts, (store) =>
          createToken(store, {
            scope: opts.scope,
            patterns: opts.repo,
            ...(expiresIn === undefined ? {} : { expiresInSeconds: expiresIn }),
            ...(opts.description === undefined ? {} : { description: opts.description }),
          }),
        );
        const expires = t.expiresAt?.toISOString() ?? null;
        if (opts.json) printJson({ id: t.id, token: t.token, scope: t.scope, repo: t.patterns, expires });
        else {
          printLine(t.token);
          process.stderr.write(
            `cnabsec: token ${t.id} (scope ${t.scope}, ${t.patterns.join(', ')}, ${expires === null ? 'no expiry' : `expires ${expires}`}); it is shown only now\n`,
          );
        }
      }),
    );
}

function registerList(group: Command): void {
  withDb(group.command('list'))
    .description('list the tokens of the server (ids, scopes, patterns; never the tokens)')
    .option('--json', 'print {"tokens":[{"id","scope","repo","created","expires",...}]}')
    .example('cnabsec server-token list')
    .example('cnabsec server-token list --db ./server.db --json')
    .action(
      runAction(async (opts: DbOptions) => {
        const { listTokens } = await import('../../server/tokens-admin.js');
        const list = await withTokens(opts, (store) => listTokens(store));
        if (opts.json) {
          printJson({ tokens: list.map(infoJson) });
          return;
        }
        if (list.length === 0) printLine('no tokens (create one: cnabsec server-token create)');
        const now = new Date();
        for (const t of list)
          printLine(
            [
              t.id,
              t.scope.padEnd(5),
              stateOf(t, now).padEnd(7),
              t.expiresAt?.toISOString() ?? 'no-expiry',
              t.patterns.join(','),
            ].join('  '),
          );
      }),
    );
}

function registerRevoke(group: Command): void {
  withDb(group.command('revoke <id>'))
    .description('revoke a token: refused (401) from the next request on, by every server on the database')
    .option('--json', 'print {"id","revoked"}')
    .example('cnabsec server-token revoke 3f2a9c01b4d7')
    .example('cnabsec server-token revoke 3f2a9c01b4d7 --db ./server.db --json')
    .action(
      runAction(async (id: string, opts: DbOptions) => {
        const { revokeToken } = await import('../../server/tokens-admin.js');
        const t = await withTokens(opts, (store) => revokeToken(store, id));
        const revoked = t.revokedAt?.toISOString() ?? null;
        if (opts.json) printJson({ id: t.id, revoked });
        else printLine(`revoked token ${t.id} (${revoked ?? ''})`);
      }),
    );
}

function registerMigrate(program: Command): void {
  withDb(program.command('server-migrate'))
    .description(
      "create or upgrade the server's database schema (servers also do it when they start); also spelled `cnabsec server migrate`",
    )
    .option('--json', 'print {"db","from","to"}')
    .example('cnabsec server-migrate')
    .example('cnabsec server-migrate --db ./server.db --json')
    .action(
      runAction(async (opts: DbOptions) => {
        const { describeDb, migrateStore } = await import('../../server/open-store.js');
        const given = await dbOf(opts);
        const r = await migrateStore(given);
        const db = describeDb(given); // a PostgreSQL URL without its password
        if (opts.json) printJson({ db, from: r.from, to: r.to });
        else if (r.from === r.to) printLine(`${db}: schema version ${r.to}, nothing to do`);
        else printLine(`${db}: migrated schema version ${r.from} to ${r.to}`);
      }),
    );
}

export function registerTokenCommands(program: Command): void {
  const group = program
    .command('server-token')
    .description(
      "bearer tokens of `cnabsec server` (auth: tokens), in the server's database; also spelled `cnabsec server token`",
    );
  registerCreate(group);
  registerList(group);
  registerRevoke(group);
  registerMigrate(program);
}
