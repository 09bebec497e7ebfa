/** `cnabsec recover` (root key compromise) and `cnabsec advisory` (targets key compromise), doc 302. */
import type { Command } from '../args.js';
import { advisory } from '../../tuf/advisory.js';
import type { RecoveryPackage } from '../../tuf/recovery.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { collect, openRepository, storeSigners, withRepository } from '../repo-common.js';
import { keyType, oneOf, positiveInt, repeatable, versionOrTime } from '../options.js';
import type { LocalRepository } from '../../tuf/repository.js';
import { printJson, printLine, runAction } from '../output.js';
import { printChanges, warnExpiring } from '../rotation-common.js';
import { applyRecovery, planRecovery, recoveryPackage, RECOVERY_ROTATABLE } from '../../workflows/index.js';
import { writeOutputFile } from '../output-file.js';
import { advisoryJson, recoveryPackageJson, recoveryPlanJson } from '../json-shapes.js';
import { checkRoleName } from '../../tuf/names.js';

interface RecoverOptions extends KeyOptions {
  newRootKey?: string[];
  threshold?: number;
  rotate?: string[];
  output?: string;
  dryRun?: boolean;
  packageOnly?: boolean;
  keyType?: string;
}

function printPackage(p: RecoveryPackage): void {
  printLine(`out-of-band package written to ${p.dir}: ${p.files.join(', ')}`);
  printLine(`  root v${p.version}  sha256 ${p.sha256}`);
  printLine(`  root keys (${p.threshold} required): ${p.keyids.join(' ')}`);
  printLine('send it to your users through a channel they trust; they run the command in README.txt');
}

function recover(dir: string, opts: RecoverOptions): Promise<void> {
  return withRepository(dir, (repo) => recoverLocked(repo, dir, opts));
}

async function recoverLocked(repo: LocalRepository, dir: string, opts: RecoverOptions): Promise<void> {
  if (opts.packageOnly === true) {
    const p = await recoveryPackage(repo, opts.output);
    if (opts.json) printJson({ package: recoveryPackageJson(p) });
    else printPackage(p);
    return;
  }
  const store = keyStoreOf(opts);
  const plan = await planRecovery(repo, {
    rootKeys: opts.newRootKey ?? [],
    ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
    ...(opts.rotate === undefined ? {} : { rotate: opts.rotate }),
    ...(opts.keyType === undefined ? {} : { keyType: opts.keyType }),
    keyStore: store,
  });
  if (opts.dryRun === true) {
    const p = plan.preview;
    if (opts.json) printJson({ plan: recoveryPlanJson(p) });
    else {
      printLine(
        `dry run (nothing written): recovery root v${p.version}, NOT signed by root v${p.trustedVersion}`,
      );
      printChanges(p.changes, p.signing, p.clients);
    }
    return;
  }
  const passphrases = passphrasesOf(opts);
  const r = await applyRecovery(repo, plan, {
    keyStore: store,
    passphrases,
    signers: storeSigners(store, passphrases),
    ...(opts.output === undefined ? {} : { out: opts.output }),
  });
  if (opts.json) printJson({ plan: recoveryPlanJson(r.plan), package: recoveryPackageJson(r.package) });
  else {
    printLine(`published recovery root v${r.plan.version} (signed by the new root keys only)`);
    printChanges(r.plan.changes, r.plan.signing, r.plan.clients);
    printPackage(r.package);
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
      repeatable(oneOf(RECOVERY_ROTATABLE)),
    )
    .option('-o, --output <dir>', 'directory of the out-of-band package (default ./recovery-root-v<N>)')
    .deprecatedOption('--out <dir>', '-o, --output <dir>', { key: 'output' })
    .option('-t, --key-type <type>', 'type of generated keys', keyType, 'ed25519')
    .option('--dry-run', 'print the new root keys and who is affected; write nothing')
    .option('--package-only', 'only (re)write the package of the published recovery root')
    .example('cnabsec recover ./repo --new-root-key new --new-root-key new --threshold 2 --dry-run')
    .example(
      'cnabsec recover ./repo --new-root-key new --rotate timestamp --rotate snapshot --output recovery',
    )
    .example('cnabsec recover ./repo --package-only --output recovery')
    .action(runAction(recover));

  withCommon(program.command('advisory <repo>'))
    .description(
      'list every bundle target signed by a compromised targets/delegated key, to warn users (doc 302)',
    )
    .requiredOption(
      '--since <version|time>',
      'first version, or the time of the compromise (ISO 8601)',
      versionOrTime,
    )
    .option('--key <id>', 'compromised key id or prefix (repeatable; default: keys rotated out)', collect)
    .option('--role <role>', 'only this role (default: targets and all delegated roles)')
    .option('-o, --output <file>', 'also write the advisory text to a file')
    .example('cnabsec advisory ./repo --since 1 --output advisory.txt')
    .example('cnabsec advisory ./repo --since 2030-01-01T00:00:00Z --key ab12cd34 --json')
    .action(
      runAction(async (dir: string, opts: AdvisoryOptions) => {
        if (opts.role !== undefined) checkRoleName(opts.role);
        const a = await advisory(await openRepository(dir), {
          since: opts.since,
          ...(opts.key === undefined ? {} : { keyids: opts.key }),
          ...(opts.role === undefined ? {} : { role: opts.role }),
        });
        if (opts.output !== undefined) await writeOutputFile(opts.output, a.text);
        if (opts.json) printJson(advisoryJson(a));
        else process.stdout.write(a.text);
      }),
    );
}
