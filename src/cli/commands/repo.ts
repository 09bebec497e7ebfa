/** Repository commands (doc 302 workflows): init, status, publish, refresh, resign, sign, payload, add-signature. */
import type { Command } from '../args.js';
import { readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isKeyType, KEY_TYPES } from '../../crypto/keys.js';
import { CryptoError } from '../../crypto/errors.js';
import { parseDuration, TOP_LEVEL_ROLES, type ExpiryPolicy } from '../../tuf/policy.js';
import { LocalRepository, type RoleKeys } from '../../tuf/repository.js';
import { FsMetadataStore } from '../../tuf/store.js';
import { publish, refresh } from '../../tuf/publish.js';
import { appendSignature, payload, signRole } from '../../tuf/signing.js';
import { repositoryStatus, type RepositoryStatus } from '../../tuf/status.js';
import { TufError } from '../../tuf/errors.js';
import { checkRepositoryName, checkRoleName } from '../../tuf/names.js';
import { parseJsonBounded, quote } from '../../util/json.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import {
  collect,
  openRepository,
  positiveInt,
  resolvePublicKey,
  storeSigners,
  withRepository,
  withRepositoryDirLocked,
} from '../repo-common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { warnExpiring } from '../rotation-common.js';
import { sortedUnique, statusJson } from '../json-shapes.js';
import { setupProvenance, type LayoutInput } from '../../cnab/provenance.js';
import { readLayoutInput, withProvenanceInitOptions, type LayoutOptions } from '../provenance-options.js';
import type { KeyStore } from '../../crypto/keystore.js';
import type { PassphraseSource } from '../../crypto/passphrase.js';
import type { KeyType, PublicKeyJson } from '../../crypto/keys.js';
import { pathExists } from '../../util/fs.js';

/** `init --in-toto`: layout and releases key plan, checked before any key is generated. */
async function provenancePlan(
  opts: InitOptions,
): Promise<{ layout: LayoutInput; refs: string[]; count: number; threshold: number }> {
  const layout = await readLayoutInput(opts as LayoutOptions);
  const refs = (opts.releasesKey as string[] | undefined) ?? [];
  const count = Math.max((opts.releasesKeys as number | undefined) ?? 1, refs.length);
  const threshold = (opts.releasesThreshold as number | undefined) ?? 1;
  if (threshold > count) {
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `targets/releases: threshold ${threshold} is more than its ${count} key(s)`,
      {
        hint: 'raise --releases-keys or lower --releases-threshold',
      },
    );
  }
  return { layout, refs, count, threshold };
}

/** A role's keys: the given references, plus new keys (recorded in `generated`) up to `count`. */
async function roleKeys(
  store: KeyStore,
  role: string,
  plan: { refs: string[]; count: number; threshold: number },
  type: KeyType,
  passphrases: PassphraseSource,
  generated: string[],
): Promise<{ keys: PublicKeyJson[]; threshold: number }> {
  const keys: PublicKeyJson[] = [];
  for (const r of plan.refs) keys.push(await resolvePublicKey(store, r));
  for (let i = keys.length; i < plan.count; i++) {
    const info = await store.generate(type, role, passphrases);
    generated.push(info.keyid);
    keys.push(info.publicKey);
  }
  return { keys, threshold: plan.threshold };
}

type InitOptions = KeyOptions &
  Record<string, unknown> & { name?: string; keyType: string; serverManaged?: boolean };

async function init(dir: string, opts: InitOptions): Promise<void> {
  const type = opts.keyType;
  if (!isKeyType(type))
    throw new CryptoError('KEY_UNSUPPORTED_TYPE', `unknown key type ${type}`, {
      hint: `use ${KEY_TYPES.join(', ')}`,
    });
  const store = keyStoreOf(opts);
  const passphrases = passphrasesOf(opts);
  const fsStore = new FsMetadataStore(dir);
  await LocalRepository.open(fsStore).then(
    () => {
      throw new TufError('REPO_EXISTS', `a repository already exists at ${dir}`, {
        hint: 'choose another directory',
      });
    },
    (e: unknown) => {
      if (!(e instanceof TufError && e.code === 'REPO_NOT_FOUND')) throw e;
    },
  );
  // Check every option before generating any key, so that a bad option writes nothing.
  const plan = TOP_LEVEL_ROLES.map((role) => {
    const refs = (opts[`${role}Key`] as string[] | undefined) ?? [];
    const count = Math.max((opts[`${role}Keys`] as number | undefined) ?? 1, refs.length);
    const threshold = (opts[`${role}Threshold`] as number | undefined) ?? 1;
    if (threshold > count) {
      throw new TufError(
        'THRESHOLD_NOT_MET',
        `${role}: threshold ${threshold} is more than its ${count} key(s)`,
        {
          hint: `raise --${role}-keys or lower --${role}-threshold`,
        },
      );
    }
    if (opts.serverManaged === true && (role === 'snapshot' || role === 'timestamp') && refs.length === 0) {
      throw new TufError('INVALID_ARGUMENT', `--server-managed needs the server's ${role} public key`, {
        hint: `pass --${role}-key <pem file> with the key the metadata repository server published`,
      });
    }
    return { role, refs, count, threshold };
  });
  const expiry: Partial<ExpiryPolicy> = {};
  for (const role of TOP_LEVEL_ROLES) {
    const exp = opts[`expires${role[0]?.toUpperCase()}${role.slice(1)}`] as string | undefined;
    if (exp !== undefined) expiry[role] = parseDuration(exp);
  }
  if (typeof opts.expiresDelegated === 'string') expiry.delegated = parseDuration(opts.expiresDelegated);
  const name = checkRepositoryName(
    opts.name ?? path.basename(path.resolve(dir)),
    opts.name === undefined ? 'repository name (the directory name; give --name)' : 'repository name',
  );
  const inToto = opts.inToto === true ? await provenancePlan(opts) : undefined;

  // Resolve given keys, generate the others; if anything fails, remove the keys generated here.
  const roles = {} as Record<(typeof TOP_LEVEL_ROLES)[number], RoleKeys>;
  const generated: string[] = [];
  let repo: LocalRepository;
  let existedBefore: boolean | undefined;
  let created = false;
  try {
    for (const p of plan) roles[p.role] = await roleKeys(store, p.role, p, type, passphrases, generated);
    const releases =
      inToto === undefined
        ? undefined
        : await roleKeys(store, 'targets/releases', inToto, type, passphrases, generated);
    existedBefore = await pathExists(dir);
    // Created under the writer lock: a concurrent init gets REPO_EXISTS (or REPOSITORY_LOCKED).
    repo = await withRepositoryDirLocked(dir, async () => {
      const r = await LocalRepository.create(fsStore, {
        name,
        roles,
        expiry,
        serverManaged: opts.serverManaged === true,
      });
      created = true;
      if (inToto !== undefined && releases !== undefined) {
        await setupProvenance(r, { ...inToto.layout, releases });
        await r.saveStaged();
      }
      return r;
    });
  } catch (e) {
    for (const keyid of generated) await rm(path.join(store.dir, `${keyid}.key`), { force: true });
    // a key directory this init created stays only if it holds other keys (rmdir needs it empty)
    if (generated.length > 0) {
      await rmdir(store.dir).catch(() => undefined);
      await rmdir(path.dirname(store.dir)).catch(() => undefined);
    }
    if (existedBefore === false && created) await rm(dir, { recursive: true, force: true });
    else if (existedBefore === false) await rmdir(dir).catch(() => undefined);
    else if (existedBefore === true && created) {
      for (const f of ['cnabsec.json', 'staged'])
        await rm(path.join(dir, f), { recursive: true, force: true });
    }
    throw e;
  }
  const summary = Object.fromEntries(
    TOP_LEVEL_ROLES.map((r) => [
      r,
      { keyids: repo.root.signed.roles[r]?.keyIDs ?? [], threshold: roles[r].threshold },
    ]),
  );
  if (opts.json)
    printJson({
      name,
      location: dir,
      roles: Object.entries(summary).map(([role, s]) => ({
        role,
        keyids: sortedUnique(s.keyids),
        threshold: s.threshold,
      })),
    });
  else {
    printLine(`initialised ${name} in ${dir}`);
    for (const [r, s] of Object.entries(summary))
      printLine(
        `  ${r.padEnd(9)} ${s.threshold}-of-${s.keyids.length}  ${s.keyids.map((k) => k.slice(0, 8)).join(' ')}`,
      );
    if (inToto !== undefined)
      printLine(`  in-toto   root layout and its keys signed by targets; bundles signed by targets/releases`);
    printLine(`next: cnabsec bundle add ${dir} <tag> --thin bundle.json, then cnabsec publish ${dir}`);
  }
}

function printStatus(s: RepositoryStatus): void {
  printLine(`${s.name}  (${s.location})${s.serverManaged ? '  timestamp/snapshot: server-managed' : ''}`);
  for (const r of s.roles) {
    const ver = `v${r.publishedVersion ?? '-'}${r.stagedVersion === null ? '' : ` (staged v${r.stagedVersion})`}`;
    const sigs = r.signatures.map((a) => `${a.valid.length}/${a.threshold}${a.met ? '' : '!'}`).join(' + ');
    printLine(
      `  ${r.role.padEnd(18)} ${ver.padEnd(18)} expires ${r.expires ?? '-'} (${r.expiresIn ?? '-'})  keys ${r.threshold}-of-${r.keyids.length}  sigs ${sigs}`,
    );
  }
  for (const w of s.warnings) warn(w);
}

export function register(program: Command): void {
  const initCmd = withCommon(program.command('init <repo>'))
    .description('create a TUF repository for a bundle (doc 302 setup): root, targets, snapshot, timestamp')
    .option(
      '--name <repository>',
      'bundle repository name, e.g. example.com/org/bundle (default: directory name)',
    )
    .option('-t, --key-type <type>', `type of generated keys: ${KEY_TYPES.join(', ')}`, 'ed25519')
    .option('--server-managed', 'timestamp and snapshot keys are held by the metadata repository server');
  for (const role of TOP_LEVEL_ROLES) {
    initCmd
      .option(`--${role}-keys <n>`, `number of ${role} keys`, positiveInt)
      .option(`--${role}-threshold <n>`, `${role} signature threshold`, positiveInt)
      .option(`--${role}-key <id|pem>`, `use this key for ${role} (repeatable)`, collect)
      .option(`--expires-${role} <duration>`, `${role} expiry period (e.g. 365d, 30d, 1d)`);
  }
  withProvenanceInitOptions(initCmd)
    .option('--expires-delegated <duration>', 'expiry period of delegated roles', '30d')
    .action(runAction(init));

  withCommon(program.command('status <repo>'))
    .description('versions, expiry, keys, thresholds, signatures and staged changes of every role')
    .action(
      runAction(async (dir: string, opts: KeyOptions) => {
        const s = repositoryStatus(await openRepository(dir));
        if (!opts.json) printStatus(s);
        else {
          printJson(statusJson(s));
          for (const w of s.warnings) warn(w);
        }
      }),
    );

  withCommon(program.command('publish <repo>'))
    .description('sign changed roles, make new snapshot and timestamp versions, write atomically')
    .action(
      runAction(async (dir: string, opts: KeyOptions) => {
        await withRepository(dir, async (repo) => {
          const signers = storeSigners(keyStoreOf(opts), passphrasesOf(opts));
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
    )
    .option('--force', 'renew the timestamp now')
    .action(
      runAction(async (dir: string, opts: KeyOptions & { ifExpiringWithin?: string; force?: boolean }) => {
        const within = opts.ifExpiringWithin === undefined ? undefined : parseDuration(opts.ifExpiringWithin);
        await withRepository(dir, async (repo) => {
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
    .option('--expires <duration>', 'expiry period for this version (default: the policy)')
    .action(
      runAction((dir: string, role: string, opts: KeyOptions & { expires?: string }) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          if (!repo.roleNames().includes(role) || role === 'snapshot' || role === 'timestamp') {
            throw repo.roleNames().includes(role)
              ? new TufError('INVALID_ARGUMENT', `${quote(role)} is renewed by publish/refresh`, {
                  hint: `run cnabsec refresh ${dir} --force`,
                })
              : repo.unknownRole(role);
          }
          const md = repo.edit(
            role,
            () => undefined,
            opts.expires === undefined ? {} : { expiresIn: parseDuration(opts.expires) },
          );
          await repo.saveStaged();
          if (opts.json) printJson({ role, version: md.signed.version, expires: md.signed.expires });
          else
            printLine(
              `staged ${role} v${md.signed.version}, expires ${md.signed.expires}; publish to sign and release it`,
            );
          warnExpiring(repo);
        });
      }),
    );

  withCommon(program.command('sign <repo> <role>'))
    .description('add one signature by a key-store key to a staged role (threshold signing)')
    .requiredOption('-k, --key <id>', 'key id (or unique prefix) in the key store')
    .action(
      runAction((dir: string, role: string, opts: KeyOptions & { key: string }) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          const store = keyStoreOf(opts);
          await signRole(repo, role, await store.signer(opts.key, passphrasesOf(opts), role));
          await repo.saveStaged();
          if (!opts.json)
            printLine(`signed staged ${role} with ${(await store.resolveId(opts.key)).slice(0, 8)}`);
          else printJson({ role, keyid: await store.resolveId(opts.key) });
          warnExpiring(repo);
        });
      }),
    );

  withCommon(program.command('payload <repo> <role>'))
    .description('write the canonical bytes of a staged role, to sign elsewhere')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(
      runAction(async (dir: string, role: string, opts: KeyOptions & { output?: string }) => {
        checkRoleName(role);
        const bytes = payload(await openRepository(dir), role);
        if (opts.output === undefined) process.stdout.write(bytes);
        else {
          await writeFile(opts.output, bytes);
          if (opts.json) printJson({ role, path: opts.output });
        }
      }),
    );

  withCommon(program.command('add-signature <repo> <role> <sigfile>'))
    .description('append a detached signature {"keyid","sig"} (hex) to a staged role after verifying it')
    .action(
      runAction((dir: string, role: string, file: string, opts: KeyOptions) => {
        checkRoleName(role);
        return withRepository(dir, async (repo) => {
          let sig: { keyid: string; sig: string };
          try {
            sig = parseJsonBounded(await readFile(file), { source: file, maxBytes: 64 * 1024 }) as {
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
