/** Repository commands (doc 302 workflows): init, status, publish, refresh, resign, sign, payload, add-signature. */
import type { Command } from '../args.js';
import { readUserFile } from '../../util/fs.js';
import { KEY_TYPES } from '../../crypto/keys.js';
import { parseDuration, TOP_LEVEL_ROLES } from '../../tuf/policy.js';
import { publish, refresh } from '../../tuf/publish.js';
import { appendSignature, payload } from '../../tuf/signing.js';
import { signRoleWithKey } from '../../workflows/keys.js';
import { renewHint, repositoryStatus, type RepositoryStatus } from '../../tuf/status.js';
import { TufError } from '../../tuf/errors.js';
import { checkRoleName } from '../../tuf/names.js';
import { parseJsonBounded, quote } from '../../util/json.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { collect, lockWaitMs, openRepository, storeSigners, withRepository } from '../repo-common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { duration, keyCount, keyType, positiveInt, serverRoles, serverUrl } from '../options.js';
import { accessOf, publishedLine, withTokenFile, type TokenOptions } from '../remote-common.js';
import { initGunHint } from '../habits.js';
import { writeOutputFile } from '../output-file.js';
import { warnExpiring } from '../rotation-common.js';
import { sortedUnique, statusJson } from '../json-shapes.js';
import { readLayoutInput, withProvenanceInitOptions, type LayoutOptions } from '../provenance-options.js';
import {
  applyInit,
  applyResign,
  defaultedThresholds,
  planInit,
  planResign,
  publishRemote,
  remoteOf,
  type InitOptions as WorkflowInitOptions,
  type InitPlan,
  type InitRoleOptions,
} from '../../workflows/index.js';

type InitCliOptions = KeyOptions &
  Record<string, unknown> & {
    name?: string;
    nameFromDir?: boolean;
    keyType: string;
    serverManaged?: ('snapshot' | 'timestamp')[];
    server?: string;
    tokenFile?: string;
  };

/** The roles' key options (`--root-keys`, `--root-threshold`, `--root-key`; `releases` alike). */
function roleOptions(opts: InitCliOptions, role: string): InitRoleOptions {
  const keys = opts[`${role}Key`] as string[] | undefined;
  const count = opts[`${role}Keys`] as number | undefined;
  const threshold = opts[`${role}Threshold`] as number | undefined;
  return {
    ...(keys === undefined ? {} : { keys }),
    ...(count === undefined ? {} : { count }),
    ...(threshold === undefined ? {} : { threshold }),
  };
}

/** `init`'s options as a workflow plan input (./workflows/init.ts checks them). */
async function initOptions(dir: string, opts: InitCliOptions): Promise<WorkflowInitOptions> {
  const expiry: Record<string, string> = {};
  for (const role of [...TOP_LEVEL_ROLES, 'delegated']) {
    const exp = opts[`expires${role[0]?.toUpperCase()}${role.slice(1)}`];
    if (typeof exp === 'string') expiry[role] = exp;
  }
  return {
    dir,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    nameFromDir: opts.nameFromDir === true,
    keyType: opts.keyType,
    ...(opts.serverManaged === undefined ? {} : { serverRoles: opts.serverManaged }),
    ...(opts.server === undefined ? {} : { server: { url: opts.server, ...(await accessOf(opts)) } }),
    roles: Object.fromEntries(TOP_LEVEL_ROLES.map((r) => [r, roleOptions(opts, r)])),
    expiry,
    ...(opts.inToto === true
      ? {
          inToto: {
            layout: await readLayoutInput(opts as LayoutOptions),
            releases: roleOptions(opts, 'releases'),
          },
        }
      : {}),
    keyStore: keyStoreOf(opts),
  };
}

/** "root: threshold 2 of 3 (majority; give --root-threshold to choose)" for each defaulted threshold. */
function thresholdNotes(plan: InitPlan): string[] {
  return defaultedThresholds(plan).map((r) => {
    const flag = r.role === 'targets/releases' ? 'releases' : r.role;
    return `${r.role}: threshold ${r.threshold} of ${r.keys.length} (majority; give --${flag}-threshold to choose)`;
  });
}

async function init(dir: string, opts: InitCliOptions): Promise<void> {
  const plan = await planInit(await initOptions(dir, opts));
  const notes = thresholdNotes(plan);
  // Ctrl-C while keys are generated: stop and roll back (no orphan keys in the key store)
  const interrupt = new AbortController();
  const onSignal = (): void => {
    interrupt.abort();
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, onSignal);
  const result = await applyInit(plan, {
    keyStore: keyStoreOf(opts),
    passphrases: passphrasesOf(opts),
    lockWaitMs: lockWaitMs(),
    signal: interrupt.signal,
  }).finally(() => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
  });
  const { name, location, roles } = result;
  if (opts.json) {
    printJson({
      name,
      location,
      roles: Object.entries(roles).map(([role, r]) => ({
        role,
        keyids: sortedUnique(r.keyids),
        threshold: r.threshold,
        ...(r.thresholdDefault === undefined ? {} : { thresholdDefault: r.thresholdDefault }),
      })),
      generated: sortedUnique(result.generated),
      ...(plan.server === undefined ? {} : { server: plan.server }),
      ...(notes.length > 0 ? { notes } : {}),
    });
    return;
  }
  printLine(`initialised ${name} in ${dir}`);
  if (plan.server !== undefined)
    printLine(`  server    ${plan.server.url} (holds ${plan.server.managed.join(', ') || 'no keys'})`);
  for (const [r, s] of Object.entries(roles))
    printLine(
      `  ${r.padEnd(9)} ${s.threshold}-of-${s.keyids.length}  ${s.keyids.map((k) => k.slice(0, 8)).join(' ')}`,
    );
  if (result.inToto)
    printLine(`  in-toto   root layout and its keys signed by targets; bundles signed by targets/releases`);
  for (const n of notes) printLine(`  ${n}`);
  printLine(`next: cnabsec bundle add ${dir} <tag> --thin bundle.json, then cnabsec publish ${dir}`);
}

/** `status` exits 3 when a role has expired (clients refuse it now): for scripts and monitoring. */
export const EXIT_EXPIRED = 3;

function printStatus(s: RepositoryStatus, dir: string): void {
  printLine(`${s.name}  (${s.location})${s.serverManaged ? '  timestamp/snapshot: server-managed' : ''}`);
  for (const r of s.roles) {
    const ver = `v${r.publishedVersion ?? '-'}${r.stagedVersion === null ? '' : ` (staged v${r.stagedVersion})`}`;
    const sigs = r.signatures.map((a) => `${a.valid.length}/${a.threshold}${a.met ? '' : '!'}`).join(' + ');
    printLine(
      `  ${r.role.padEnd(18)} ${ver.padEnd(18)} expires ${r.expires ?? '-'} (${r.expiresIn ?? '-'})  keys ${r.threshold}-of-${r.keyids.length}  sigs ${sigs}`,
    );
  }
  for (const r of s.roles)
    if (r.warning !== null) warn(`${r.warning}; renew: ${renewHint(r.role, dir, s.serverManaged)}`);
}

export function register(program: Command): void {
  const initCmd = withCommon(program.command('init <repo>'))
    .description('create a TUF repository for a bundle (doc 302 setup): root, targets, snapshot, timestamp')
    .option('--name <repository>', 'bundle repository name (OCI grammar), e.g. example.com/org/bundle')
    .option('--name-from-dir', 'take the repository name from the directory name (instead of --name)')
    .option('-t, --key-type <type>', `type of generated keys: ${KEY_TYPES.join(', ')}`, keyType, 'ed25519')
    .option(
      '--server <url>',
      'metadata repository server to publish to: its keys are fetched and listed in root',
      serverUrl,
    )
    .option(
      '--server-managed <roles>',
      'roles whose keys the server holds: timestamp (default with --server), snapshot,timestamp or none; without --server give their public keys with --<role>-key',
      serverRoles,
    );
  withTokenFile(initCmd);
  for (const role of TOP_LEVEL_ROLES) {
    initCmd
      .option(`--${role}-keys <n>`, `number of ${role} keys`, keyCount)
      .option(
        `--${role}-threshold <n>`,
        `${role} signature threshold (default: a majority of the keys)`,
        positiveInt,
      )
      .option(`--${role}-key <id|pem>`, `use this key for ${role} (repeatable)`, collect)
      .option(
        `--expires-${role} <duration>`,
        `${role} expiry period (e.g. 365d, 30d, 1d)${role === 'snapshot' || role === 'timestamp' ? '; at least 2h' : ''}`,
        duration,
      );
  }
  withProvenanceInitOptions(initCmd)
    .option('--expires-delegated <duration>', 'expiry period of delegated roles', duration, '30d')
    .check(([dir], opts) => initGunHint(String(dir), opts))
    .example('cnabsec init ./repo --name example.com/org/app')
    .example('cnabsec init ./repo --name example.com/org/app --root-keys 3 --root-threshold 2')
    .example(
      'cnabsec init ./repo --name example.com/org/app --server https://tuf.example.com --server-managed snapshot,timestamp',
    )
    .example(
      'cnabsec init ./repo --name example.com/org/app --in-toto --layout root.layout --layout-key owner.pub',
    )
    .action(runAction(init));

  withCommon(program.command('status <repo>'))
    .description(
      'versions, expiry, keys, thresholds, signatures and staged changes of every role; exit 3 when a role has expired',
    )
    .example('cnabsec status ./repo')
    .example('cnabsec status ./repo --json || echo "a role has expired (exit 3)"')
    .action(
      runAction(async (dir: string, opts: KeyOptions) => {
        const s = repositoryStatus(await openRepository(dir));
        if (opts.json) {
          printJson(statusJson(s));
          for (const w of s.warnings) warn(w);
        } else printStatus(s, dir);
        if (s.expiredRoles.length > 0) process.exitCode = EXIT_EXPIRED;
      }),
    );

  withTokenFile(withCommon(program.command('publish <repo>')))
    .description(
      'sign changed roles, make new snapshot and timestamp versions, write atomically; with a server: upload them in one request',
    )
    .example('cnabsec publish ./repo')
    .example('CNABSEC_PASSPHRASE_TARGETS=... cnabsec publish ./repo --no-prompt --json')
    .example('CNABSEC_TOKEN=... cnabsec publish ./repo   # a repository made with init --server')
    .action(
      runAction(async (dir: string, opts: KeyOptions & TokenOptions) => {
        await withRepository(dir, async (repo) => {
          const signers = storeSigners(keyStoreOf(opts), passphrasesOf(opts));
          if (repo.config.server !== undefined) {
            const r = await publishRemote(repo, remoteOf(repo, await accessOf(opts)), { signers });
            if (opts.json)
              printJson({ published: r.published.map(({ role, version }) => ({ role, version })) });
            else printLine(`published to ${repo.config.server.url}: ${publishedLine(r.published)}`);
            for (const w of r.warnings) warn(w);
            warnExpiring(repo);
            return;
          }
          const result = await publish(repo, { signers });
          if (opts.json) printJson({ published: result.published });
          else printLine(`published ${result.published.map((p) => `${p.role} v${p.version}`).join(', ')}`);
          for (const w of result.warnings ?? []) warn(w);
          warnExpiring(repo);
        });
      }),
    );

  withCommon(program.command('refresh <repo>'))
    .description('renew timestamp (and snapshot when needed) before they expire; idempotent, for cron')
    .option(
      '--if-expiring-within <duration>',
      'renew only roles expiring within this time (default: half their period)',
      duration,
    )
    .option('--force', 'renew the timestamp now')
    .example('cnabsec refresh ./repo')
    .example('cnabsec refresh ./repo --if-expiring-within 12h --no-prompt')
    .example('cnabsec refresh ./repo --force')
    .action(
      runAction(async (dir: string, opts: KeyOptions & { ifExpiringWithin?: string; force?: boolean }) => {
        const within = opts.ifExpiringWithin === undefined ? undefined : parseDuration(opts.ifExpiringWithin);
        await withRepository(dir, async (repo) => {
          const held = repo.config.server?.managed ?? [];
          if (held.includes('timestamp'))
            throw new TufError(
              'INVALID_ARGUMENT',
              `${dir}: its server ${repo.config.server?.url ?? ''} refreshes ${held.join(' and ')} itself`,
              {
                details: { path: dir },
                hint: `nothing to do here; \`cnabsec pull ${dir}\` fetches the refreshed state`,
              },
            );
          const result = await refresh(repo, {
            signers: storeSigners(keyStoreOf(opts), passphrasesOf(opts)),
            ...(within === undefined ? {} : { within }),
            force: opts.force === true,
          });
          if (opts.json) printJson({ published: result.published });
          else if (result.published.length === 0) printLine('nothing to refresh');
          else printLine(`published ${result.published.map((p) => `${p.role} v${p.version}`).join(', ')}`);
          for (const w of result.warnings ?? []) warn(w);
          warnExpiring(repo);
        });
      }),
    );

  withCommon(program.command('resign <repo> <role>'))
    .description('stage a new version of a role with a renewed expiry (works after it expired)')
    .option('--expires <duration>', 'expiry period for this version (default: the policy)', duration)
    .example('cnabsec resign ./repo targets')
    .example('cnabsec resign ./repo root --expires 365d')
    .action(
      runAction((dir: string, role: string, opts: KeyOptions & { expires?: string }) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          const r = await applyResign(repo, planResign(repo, role, opts.expires));
          if (opts.json) printJson(r);
          else
            printLine(`staged ${role} v${r.version}, expires ${r.expires}; publish to sign and release it`);
          warnExpiring(repo);
        });
      }),
    );

  withCommon(program.command('sign <repo> <role>'))
    .description('add one signature by a key-store key to a staged role (threshold signing)')
    .requiredOption('-k, --key <id>', 'key id (or unique prefix) in the key store')
    .example('cnabsec sign ./repo root --key ab12cd34')
    .example('cnabsec sign ./repo targets/releases -k 9f8e7d6c --json')
    .action(
      runAction((dir: string, role: string, opts: KeyOptions & { key: string }) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          // refused before the passphrase is asked when the key is not one of the role's keys
          const keyid = await signRoleWithKey(repo, role, keyStoreOf(opts), opts.key, passphrasesOf(opts));
          await repo.saveStaged();
          if (!opts.json) printLine(`signed staged ${role} with ${keyid.slice(0, 8)}`);
          else printJson({ role, keyid });
          warnExpiring(repo);
        });
      }),
    );

  withCommon(program.command('payload <repo> <role>'))
    .description('write the canonical bytes of a staged role, to sign elsewhere')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .example('cnabsec payload ./repo targets -o targets.payload')
    .example('cnabsec payload ./repo root > root.payload')
    .action(
      runAction(async (dir: string, role: string, opts: KeyOptions & { output?: string }) => {
        checkRoleName(role);
        const bytes = payload(await openRepository(dir), role);
        if (opts.output === undefined) process.stdout.write(bytes);
        else {
          await writeOutputFile(opts.output, bytes);
          if (opts.json) printJson({ role, path: opts.output });
        }
      }),
    );

  withCommon(program.command('add-signature <repo> <role> <sigfile>'))
    .description('append a detached signature {"keyid","sig"} (hex) to a staged role after verifying it')
    .example('cnabsec add-signature ./repo targets targets.sig')
    .example('cnabsec add-signature ./repo root root.sig --json')
    .action(
      runAction((dir: string, role: string, file: string, opts: KeyOptions) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          let sig: { keyid: string; sig: string };
          try {
            sig = parseJsonBounded(await readUserFile(file, 64 * 1024), {
              source: file,
              maxBytes: 64 * 1024,
            }) as {
              keyid: string;
              sig: string;
            };
          } catch (e) {
            throw new TufError('BAD_SIGNATURE', `${quote(file)} is not a JSON signature file`, {
              cause: e,
              hint: 'expected {"keyid": "...", "sig": "<hex>"}',
            });
          }
          appendSignature(repo, role, sig);
          await repo.saveStaged();
          if (opts.json) printJson({ role, keyid: sig.keyid });
          else printLine(`added signature by ${sig.keyid.slice(0, 8)} to staged ${role}`);
          warnExpiring(repo);
        });
      }),
    );
}
