/** `cnabsec delegation add|remove|rotate|list`: delegated targets roles such as targets/releases. */
import type { Command } from '../args.js';
import { listDelegations, removeDelegation } from '../../tuf/delegation.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { collect, openRepository, withRepository } from '../repo-common.js';
import { keyType, positiveInt } from '../options.js';
import { delegationKeyHint } from '../habits.js';
import { printJson, printLine, runAction } from '../output.js';
import { warnExpiring } from '../rotation-common.js';
import { applyDelegation, planDelegation } from '../../workflows/index.js';
import { delegationJson, sortedUnique } from '../json-shapes.js';
import { rotateAction, rotateOptions } from './rotation.js';
import { checkRoleName } from '../../tuf/names.js';

interface AddOptions extends KeyOptions {
  paths: string[];
  key?: string[];
  threshold: number;
  parent: string;
  terminating?: boolean;
  keyType?: string;
}

function add(dir: string, role: string, opts: AddOptions): Promise<void> {
  checkRoleName(role);
  checkRoleName(opts.parent);
  return withRepository(dir, async (repo) => {
    const store = keyStoreOf(opts);
    const plan = await planDelegation(repo, role, {
      paths: opts.paths,
      ...(opts.key === undefined ? {} : { keys: opts.key }),
      threshold: opts.threshold,
      parent: opts.parent,
      terminating: opts.terminating === true,
      ...(opts.keyType === undefined ? {} : { keyType: opts.keyType }),
      keyStore: store,
    });
    const info = await applyDelegation(repo, plan, { keyStore: store, passphrases: passphrasesOf(opts) });
    if (opts.json && info !== undefined) printJson(delegationJson(info));
    else {
      printLine(
        `staged delegation ${role} from ${opts.parent}: ${opts.threshold}-of-${plan.keys.length}, paths ${opts.paths.join(' ')}`,
      );
      printLine(`next: cnabsec publish ${dir}`);
    }
    warnExpiring(repo);
  });
}

export function register(program: Command): void {
  const d = program
    .command('delegation')
    .description('delegated targets roles (e.g. targets/releases), signed by their delegator');

  withCommon(d.command('add <repo> <role>'))
    .description('delegate target paths to a new role')
    .requiredOption(
      '--paths <pattern...>',
      "path patterns, e.g. 'example.com/org/app:*' (* does not cross /)",
    )
    .option('--key <id|pem|new>', 'a key of the role (repeatable; default: one new key)', collect)
    .option('--threshold <n>', 'signature threshold', positiveInt, 1)
    .option('--parent <role>', 'delegating role', 'targets')
    .option('--terminating', 'stop the search at this role for matching paths')
    .option('-t, --key-type <type>', 'type of generated keys', keyType, 'ed25519')
    .onExtraArguments(delegationKeyHint)
    .example("cnabsec delegation add ./repo targets/releases --paths 'example.com/org/app:*'")
    .example(
      "cnabsec delegation add ./repo targets/ci --paths 'example.com/org/app:ci-*' --key ci.pem --key new --threshold 2",
    )
    .action(runAction(add));

  withCommon(d.command('remove <repo> <role>'))
    .description('remove a delegation (its targets are no longer trusted); signed by the delegator')
    .example('cnabsec delegation remove ./repo targets/ci')
    .example('cnabsec delegation remove ./repo targets/ci --json')
    .action(
      runAction((dir: string, role: string, opts: KeyOptions) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          const removed = removeDelegation(repo, role);
          for (const r of removed) await repo.discardStaged(r);
          await repo.saveStaged();
          if (opts.json) printJson({ role, roles: sortedUnique(removed) });
          else printLine(`staged removal of ${removed.join(', ')}; next: cnabsec publish ${dir}`);
          warnExpiring(repo);
        });
      }),
    );

  rotateOptions(d.command('rotate <repo> <role>'))
    .description('change the keys or threshold of a delegated role (its delegator lists them and signs)')
    .example('cnabsec delegation rotate ./repo targets/releases --add-key new --remove-key ab12cd34')
    .example('cnabsec delegation rotate ./repo targets/releases --threshold 2 --dry-run')
    .action(runAction(rotateAction));

  withCommon(d.command('list <repo>'))
    .description('list delegated roles with keys, thresholds and paths')
    .example('cnabsec delegation list ./repo')
    .example('cnabsec delegation list ./repo --json')
    .action(
      runAction(async (dir: string, opts: KeyOptions) => {
        const list = listDelegations(await openRepository(dir));
        if (opts.json) printJson({ delegations: list.map(delegationJson) });
        else
          for (const x of list)
            printLine(
              `${x.role.padEnd(20)} from ${x.parent}  ${x.threshold}-of-${x.keyids.length} [${x.keyids.map((k) => k.slice(0, 8)).join(' ')}]  paths ${x.paths.join(' ')}${x.terminating ? '  (terminating)' : ''}`,
            );
      }),
    );
}
