#!/usr/bin/env node
/**
 * cnabsec command-line entry point. It loads only the command group named on the command
 * line (each group is a module under ./commands exporting `register`), so that a command
 * such as `cnabsec intoto verify` starts without loading TUF, the server or the registry.
 */
import { Command } from 'commander';

const GROUPS: Record<string, string | string[]> = {
  key: ['./commands/key.js', './commands/rotation.js'],
  delegation: './commands/delegation.js',
  recover: './commands/recovery.js',
  advisory: './commands/recovery.js',
  init: './commands/repo.js',
  status: './commands/repo.js',
  publish: './commands/repo.js',
  refresh: './commands/repo.js',
  resign: './commands/repo.js',
  sign: './commands/repo.js',
  payload: './commands/repo.js',
  'add-signature': './commands/repo.js',
  bundle: './commands/bundle.js',
  layout: './commands/bundle.js',
  trust: './commands/client.js',
  lookup: './commands/client.js',
  serve: './commands/serve.js',
  verify: './commands/verify.js',
  intoto: './commands/intoto.js',
};

export interface CommandGroup {
  register(program: Command): void;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('cnabsec')
    .description(
      'CNAB Security: sign, publish and verify Cloud Native Application Bundles with TUF and in-toto',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors exit 2 (ADR 0002); inherited by the subcommands registered below.
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const wanted =
    first !== undefined && first in GROUPS
      ? [GROUPS[first]].flat()
      : [...new Set(Object.values(GROUPS).flat())];
  for (const mod of wanted) {
    if (mod === undefined) continue;
    const group = (await import(mod)) as CommandGroup;
    group.register(program);
  }
  await program.parseAsync(argv);
}

main(process.argv).catch((e: unknown) => {
  // Errors inside actions are printed by runAction; this is a last resort for bugs.
  process.stderr.write(
    `cnabsec: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 70;
});
