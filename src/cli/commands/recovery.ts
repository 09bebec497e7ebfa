/** `cnabsec recover` (root key compromise) and `cnabsec advisory` (targets key compromise), doc 302. */
import type { Command } from '../args.js';
import { writeFile } from 'node:fs/promises';
import { advisory } from '../../tuf/advisory.js';
import { TufError } from '../../tuf/errors.js';
import { publish } from '../../tuf/publish.js';
import {
  saveRecovery,
  stageRecovery,
  writeRecoveryPackage,
  type RecoverableRole,
  type RecoveryOptions,
  type RecoveryPackage,
} from '../../tuf/recovery.js';
import type { PublicKeyJson } from '../../crypto/keys.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { collect, openRepository, positiveInt, storeSigners, withRepository } from '../repo-common.js';
import type { LocalRepository } from '../../tuf/repository.js';
import { printJson, printLine, runAction } from '../output.js';
import { advisoryJson, recoveryPackageJson, recoveryPlanJson } from '../json-shapes.js';
import { printChanges, resolveKeyRefs, warnExpiring } from '../rotation-common.js';
import { checkRoleName } from '../../tuf/names.js';
import { quote } from '../../util/json.js';

interface RecoverOptions extends KeyOptions {
  newRootKey?: string[];
  threshold?: number;
  rotate?: string[];
  out?: string;
  dryRun?: boolean;
  packageOnly?: boolean;
  keyType?: string;
}

const ROTATABLE = ['targets', 'snapshot', 'timestamp'];

function printPackage(p: RecoveryPackage): void {
  printLine(`out-of-band package written to ${p.dir}: ${p.files.join(', ')}`);
  printLine(`  root v${p.version}  sha256 ${p.sha256}`);
  printLine(`  root keys (${p.threshold} required): ${p.keyids.join(' ')}`);
  printLine('send it to your users through a channel they trust; they run the command in README.txt');
}

async function rotatedKeys(
  opts: RecoverOptions,
  dryRun: boolean,
): Promise<Partial<Record<RecoverableRole, PublicKeyJson[]>>> {
  const out: Partial<Record<RecoverableRole, PublicKeyJson[]>> = {};
  for (const role of opts.rotate ?? []) {
    if (!ROTATABLE.includes(role)) {
      throw new TufError(
        'INVALID_ARGUMENT',
        `--rotate ${quote(role)}: only ${ROTATABLE.join(', ')} can be rotated here`,
        {
          hint: 'delegated roles are rotated with `cnabsec delegation rotate` after the recovery',
        },
      );
    }
    out[role as RecoverableRole] = await resolveKeyRefs(
      keyStoreOf(opts),
      ['new'],
      role,
      passphrasesOf(opts),
      {
        ...opts,
        dryRun,
      },
    );
  }
  return out;
}

function recover(dir: string, opts: RecoverOptions): Promise<void> {
  return withRepository(dir, (repo) => recoverLocked(repo, dir, opts));
}

async function recoverLocked(repo: LocalRepository, dir: string, opts: RecoverOptions): Promise<void> {
  if (opts.packageOnly === true) {
    const p = await writeRecoveryPackage(repo, opts.out ?? `recovery-root-v${repo.root.signed.version}`);
    if (opts.json) printJson({ package: recoveryPackageJson(p) });
    else printPackage(p);
    return;
  }
  const refs = opts.newRootKey ?? [];
  if (refs.length === 0) {
    throw new TufError(
      'INVALID_ARGUMENT',
      'give the new root keys with --new-root-key <id|pem|new> (repeatable)',
      {
        hint: 'e.g. --new-root-key new --new-root-key new --threshold 2',
      },
    );
  }
  const dryRun = opts.dryRun === true;
  const keysOf = async (standIn: boolean): Promise<RecoveryOptions> => ({
    rootKeys: await resolveKeyRefs(keyStoreOf(opts), refs, 'root', passphrasesOf(opts), {
      ...opts,
      dryRun: standIn,
    }),
    rotate: await rotatedKeys(opts, standIn),
    ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
  });
  // validate with stand-in keys first: a refused recovery generates no key
  stageRecovery(repo, { ...(await keysOf(true)), dryRun: true });
  const plan = stageRecovery(repo, { ...(await keysOf(dryRun)), dryRun });
  if (dryRun) {
    if (opts.json) printJson({ plan: recoveryPlanJson(plan) });
    else {
      printLine(
        `dry run (nothing written): recovery root v${plan.version}, NOT signed by root v${plan.trustedVersion}`,
      );
      printChanges(plan.changes, plan.signing, plan.clients);
    }
    return;
  }
  await saveRecovery(repo);
  try {
    await publish(repo, { signers: storeSigners(keyStoreOf(opts), passphrasesOf(opts)) });
  } catch (e) {
    if (!(e instanceof TufError && e.code === 'THRESHOLD_NOT_MET')) throw e;
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `recovery root v${plan.version} is staged but not yet signed: ${e.message}`,
      {
        cause: e,
        details: e.details,
        hint: `sign with the other new root keys (\`cnabsec sign ${dir} root --key <id>\`), \`cnabsec publish ${dir}\`, then \`cnabsec recover ${dir} --package-only --out <dir>\``,
      },
    );
  }
  const p = await writeRecoveryPackage(repo, opts.out ?? `recovery-root-v${plan.version}`);
  if (opts.json) printJson({ plan: recoveryPlanJson(plan), package: recoveryPackageJson(p) });
  else {
    printLine(`published recovery root v${plan.version} (signed by the new root keys only)`);
    printChanges(plan.changes, plan.signing, plan.clients);
    printPackage(p);
  }
  warnExpiring(repo);
}

interface AdvisoryOptions extends KeyOptions {
  since: string;
  key?: string[];
  role?: string;
  output?: string;
}

export function register(program: Command): void {
  withCommon(program.command('recover <repo>'))
    .description(
      'recover from a compromise of a threshold of root keys: publish a root signed by NEW keys only and write the out-of-band package for users',
    )
    .option('--new-root-key <id|pem|new>', 'a key of the new root (repeatable)', collect)
    .option('--threshold <n>', 'root threshold of the new root', positiveInt)
    .option(
      '--rotate <role>',
      'also replace the keys of targets, snapshot or timestamp (repeatable)',
      collect,
    )
    .option('-o, --out <dir>', 'directory of the out-of-band package (default ./recovery-root-v<N>)')
    .option('-t, --key-type <type>', 'type of generated keys', 'ed25519')
    .option('--dry-run', 'print the new root keys and who is affected; write nothing')
    .option('--package-only', 'only (re)write the package of the published recovery root')
    .action(runAction(recover));

  withCommon(program.command('advisory <repo>'))
    .description(
      'list every bundle target signed by a compromised targets/delegated key, to warn users (doc 302)',
    )
    .requiredOption('--since <version|time>', 'first version, or the time of the compromise (ISO 8601)')
    .option('--key <id>', 'compromised key id or prefix (repeatable; default: keys rotated out)', collect)
    .option('--role <role>', 'only this role (default: targets and all delegated roles)')
    .option('-o, --output <file>', 'also write the advisory text to a file')
    .action(
      runAction(async (dir: string, opts: AdvisoryOptions) => {
        if (opts.role !== undefined) checkRoleName(opts.role);
        const a = await advisory(await openRepository(dir), {
          since: opts.since,
          ...(opts.key === undefined ? {} : { keyids: opts.key }),
          ...(opts.role === undefined ? {} : { role: opts.role }),
        });
        if (opts.output !== undefined) await writeFile(opts.output, a.text);
        if (opts.json) printJson(advisoryJson(a));
        else process.stdout.write(a.text);
      }),
    );
}
