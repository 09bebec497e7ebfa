/** `cnabsec delegation add|remove|rotate|list`: delegated targets roles such as targets/releases. */
import type { Command } from '../args.js';
import { addDelegationRole, listDelegations, removeDelegation } from '../../tuf/delegation.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { collect, openRepository, positiveInt, withRepository } from '../repo-common.js';
import type { LocalRepository } from '../../tuf/repository.js';
import { printJson, printLine, runAction } from '../output.js';
import { delegationJson, sortedUnique } from '../json-shapes.js';
import { keysAfterValidation, warnExpiring } from '../rotation-common.js';
import { stagedTransaction } from '../../tuf/rotation.js';
import type { DelegationSpec } from '../../tuf/targets.js';
import type { PublicKeyJson } from '../../crypto/keys.js';
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
  return withRepository(dir, (repo) => addLocked(repo, dir, role, opts));
}

async function addLocked(repo: LocalRepository, dir: string, role: string, opts: AddOptions): Promise<void> {
  const refs = opts.key ?? [];
  const spec = (keys: PublicKeyJson[]): DelegationSpec => ({
    name: role,
    keys,
    threshold: opts.threshold,
    paths: opts.paths,
    terminating: opts.terminating === true,
  });
  const keys = await keysAfterValidation(
    keyStoreOf(opts),
    refs.length === 0 ? ['new'] : refs,
    role,
    passphrasesOf(opts),
    opts,
    (standIn) => {
      stagedTransaction(repo, true, () => {
        addDelegationRole(repo, spec(standIn), opts.parent);
      });
    },
  );
  addDelegationRole(repo, spec(keys), opts.parent);
  await repo.saveStaged();
  const [info] = listDelegations(repo).filter((d) => d.role === role);
  if (opts.json && info !== undefined) printJson(delegationJson(info));
  else {
    printLine(
      `staged delegation ${role} from ${opts.parent}: ${opts.threshold}-of-${keys.length}, paths ${opts.paths.join(' ')}`,
    );
    printLine(`next: cnabsec publish ${dir}`);
  }
  warnExpiring(repo);
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
    .option('-t, --key-type <type>', 'type of generated keys', 'ed25519')
    .action(runAction(add));

  withCommon(d.command('remove <repo> <role>'))
    .description('remove a delegation (its targets are no longer trusted); signed by the delegator')
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
    .action(runAction(rotateAction));

  withCommon(d.command('list <repo>'))
    .description('list delegated roles with keys, thresholds and paths')
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
