#!/usr/bin/env node
/**
 * cnabsec command-line entry point. It loads only the command group named on the command
 * line (each group is a module under ./commands exporting `register`), so that a command
 * such as `cnabsec intoto verify` starts without loading TUF, the server or the registry.
 */
import { Command, isUsageError } from './args.js';
import { notaryVerbHint } from './habits.js';
import { reportUsageError } from './output.js';
import { versionLine } from './version.js';

/**
 * The command group modules, in the order their commands are listed in `--help`. Literal
 * `import()`s, so that the bundler (scripts/build-cli.js) makes each group a chunk of its own.
 */
const MODULES = {
  key: () => import('./commands/key.js'),
  rotation: () => import('./commands/rotation.js'),
  delegation: () => import('./commands/delegation.js'),
  recovery: () => import('./commands/recovery.js'),
  repo: () => import('./commands/repo.js'),
  remote: () => import('./commands/remote.js'),
  bundle: () => import('./commands/bundle.js'),
  client: () => import('./commands/client.js'),
  serve: () => import('./commands/serve.js'),
  server: () => import('./commands/server.js'),
  verify: () => import('./commands/verify.js'),
  intoto: () => import('./commands/intoto.js'),
  meta: () => import('./commands/meta.js'),
  reset: () => import('./commands/reset.js'),
  policy: () => import('./commands/policy.js'),
  registry: () => import('./commands/registry.js'),
  copy: () => import('./commands/copy.js'),
} satisfies Record<string, () => Promise<CommandGroup>>;
type GroupModule = keyof typeof MODULES;

/**
 * The first word of a command line → the modules that register it ('all': every module,
 * for `completion`, which lists the whole tree). Help headings: COMMAND_HEADINGS in help.ts.
 */
const GROUPS: Record<string, GroupModule[] | 'all'> = {
  key: ['key', 'rotation'],
  delegation: ['delegation'],
  recover: ['recovery'],
  advisory: ['recovery'],
  init: ['repo'],
  status: ['repo'],
  publish: ['repo'],
  refresh: ['repo'],
  resign: ['repo'],
  sign: ['repo'],
  payload: ['repo'],
  'add-signature': ['repo'],
  pull: ['registry'],
  push: ['registry'],
  clone: ['remote'],
  bundle: ['bundle'],
  layout: ['bundle'],
  trust: ['client'],
  lookup: ['client'],
  list: ['client'],
  serve: ['serve'],
  server: ['server'],
  'server-backup': ['server'],
  'server-token': ['server'],
  'server-migrate': ['server'],
  verify: ['verify'],
  intoto: ['intoto'],
  version: ['meta'],
  completion: 'all',
  reset: ['reset'],
  policy: ['policy'],
  copy: ['copy'],
};

export interface CommandGroup {
  register(program: Command): void;
}

/**
 * `cnabsec server token|migrate|backup …` (issue 15's words) is `cnabsec server-token|…`: the
 * parser cannot make `server` both a command and a group (ADR 0032), so the two words are read
 * as the hyphenated command before parsing. Only directly after `server`: anything else stays
 * `server`'s own arguments.
 */
const SERVER_WORDS = new Set(['token', 'migrate', 'backup']);
export function spellServerCommand(argv: readonly string[]): string[] {
  const i = argv.findIndex((a) => !a.startsWith('-'));
  const next = argv[i + 1];
  if (i < 0 || argv[i] !== 'server' || next === undefined || !SERVER_WORDS.has(next)) return [...argv];
  return [...argv.slice(0, i), `server-${next}`, ...argv.slice(i + 2)];
}

async function main(args: string[]): Promise<void> {
  const argv = spellServerCommand(args);
  const program = new Command('cnabsec')
    .description(
      'CNAB Security: sign, publish and verify Cloud Native Application Bundles with TUF and in-toto',
    )
    .version(versionLine)
    .onUnknownCommand(notaryVerbHint);
  const first = argv.find((a) => !a.startsWith('-'));
  const help =
    first === 'help' ? argv.slice(argv.indexOf('help') + 1).find((a) => !a.startsWith('-')) : undefined;
  const group = help ?? first;
  const listed = group !== undefined && Object.hasOwn(GROUPS, group) ? GROUPS[group] : undefined;
  const wanted = listed === undefined || listed === 'all' ? (Object.keys(MODULES) as GroupModule[]) : listed;
  const groups = await Promise.all(wanted.map((m) => MODULES[m]()));
  for (const g of groups) g.register(program);
  try {
    const code = await program.run(argv);
    if (code !== undefined) process.exitCode = code;
  } catch (e) {
    if (!isUsageError(e)) throw e;
    // Usage errors exit 2 (ADR 0002); with --json on the command line, as one JSON document.
    const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
    process.exitCode = reportUsageError(e.message, e.command.path(), options.includes('--json'));
  }
}

/** Resolves once everything written to `stream` so far is flushed (or the stream failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write('', () => {
      resolve();
    });
  });
}

/**
 * Run the command line, then exit once the output is flushed, without Node tearing its heap
 * down (~12 ms after verifying links of 10 000 artifacts, bench/intoto-verify). Every action
 * awaits all it started (serve runs until SIGINT or SIGTERM), so nothing is cut short.
 */
async function run(): Promise<never> {
  // A reader that stops early (`cnabsec ... | head`) is no error of the command: exit quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit();
    });
  }
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    // Errors inside actions are printed by runAction; this is a last resort for bugs.
    process.stderr.write(
      `cnabsec: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 70;
  }
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit();
}

void run();
