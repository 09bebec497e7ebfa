/** `cnabsec reset <repo>`: discard staged changes (Notary's `notary reset <GUN> --all`). */
import type { Command } from '../args.js';
import { resetStaged, type ResetPlan } from '../../tuf/reset.js';
import { withCommon, type KeyOptions } from '../common.js';
import { withRepository } from '../repo-common.js';
import { printJson, printLine, runAction } from '../output.js';
import { resetJson } from '../json-shapes.js';

interface ResetOptions extends KeyOptions {
  all?: boolean;
  dryRun?: boolean;
}

function printReset(plan: ResetPlan, dir: string): void {
  if (plan.roles.length === 0 && plan.files.length === 0) {
    printLine(`nothing staged in ${dir}`);
    return;
  }
  printLine(
    `${plan.dryRun ? 'dry run (nothing removed): would discard' : 'discarded'} staged changes of ${plan.name}:`,
  );
  for (const r of plan.roles)
    printLine(
      `  ${r.role.padEnd(18)} staged v${r.version}  (${r.publishedVersion === null ? 'never published: removed' : `back to published v${r.publishedVersion}`})`,
    );
  for (const f of plan.files) printLine(`  file ${f.name}  sha256:${f.sha256}`);
  if (plan.recovery) printLine('  the root recovery in progress is abandoned');
  if (!plan.dryRun && plan.roles.length > 0)
    printLine('keys generated for these changes, if any, stay in the key store (cnabsec key remove <id>)');
}

export function register(program: Command): void {
  withCommon(program.command('reset <repo>'))
    .description(
      'discard staged changes (bundle add, delegation, key rotate, resign, sign) not yet published',
    )
    .option('--all', 'discard every staged change (the default; accepted as with notary reset --all)')
    .option('--dry-run', 'say what would be discarded, remove nothing')
    .example('cnabsec reset ./repo --dry-run')
    .example('cnabsec reset ./repo')
    .action(
      runAction(async (dir: string, opts: ResetOptions) => {
        const plan = await withRepository(dir, (repo) => resetStaged(repo, { dryRun: opts.dryRun === true }));
        if (opts.json) printJson(resetJson(plan));
        else printReset(plan, dir);
      }),
    );
}
