/** `cnabsec version` and `cnabsec completion bash|zsh`: about the CLI itself. */
import type { Command } from '../args.js';
import { bashCompletion, zshCompletion } from '../completion.js';
import { oneOf } from '../options.js';
import { printJson, printLine, runAction } from '../output.js';
import { packageVersion, versionLine } from '../version.js';

const SHELLS = ['bash', 'zsh'] as const;
const shell = oneOf(SHELLS);

export function register(program: Command): void {
  program
    .command('version')
    .description('print the version of cnabsec and of Node.js (also --version)')
    .option('--json', 'print {"version","node"}')
    .example('cnabsec version')
    .example('cnabsec version --json')
    .action(
      runAction((opts: { json?: boolean }) => {
        if (opts.json === true) printJson({ version: packageVersion(), node: process.versions.node });
        else printLine(versionLine());
        return Promise.resolve();
      }),
    );

  program
    .command('completion <shell>')
    .description(`print a shell completion script (${SHELLS.join(' or ')}) for commands and options`)
    .check(([name]) => {
      try {
        shell(String(name));
        return undefined;
      } catch {
        return `unknown shell '${String(name)}': expected ${shell.expected}`;
      }
    })
    .example('source <(cnabsec completion bash)')
    .example('cnabsec completion bash > ~/.local/share/bash-completion/completions/cnabsec')
    .example('cnabsec completion zsh > "${fpath[1]}/_cnabsec"')
    .action(
      runAction((name: string) => {
        process.stdout.write(name === 'zsh' ? zshCompletion(program) : bashCompletion(program));
        return Promise.resolve();
      }),
    );
}
