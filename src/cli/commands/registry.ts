/**
 * Thin bundles in OCI registries (issue 14; docs/registry.md): `cnabsec push <bundle.json>
 * <ref> [--sign <dir>]` and `cnabsec pull <ref> [-o bundle.json] [--verify]`. `pull` also
 * keeps its issue 13 meaning, `pull <repo-dir>` (the metadata server's state into a local
 * repository, ./remote.ts): which one is decided by the argument (ADR 0029).
 */
import { stat } from 'node:fs/promises';
import type { Command } from '../args.js';
import { defaultHome } from '../../crypto/keystore.js';
import { withCommon, type KeyOptions } from '../common.js';
import { lockWaitMs } from '../repo-common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { seconds } from '../options.js';
import { writeOutputFile } from '../output-file.js';
import { CliError } from '../errors.js';
import { UsageError } from '../usage-error.js';
import { openerOf, withRegistryOptions, type RegistryCliOptions } from '../registry-common.js';
import { withTokenFile, type TokenOptions } from '../remote-common.js';
import { serverPull } from './remote.js';
import {
  formatReference,
  parseReference,
  pullBundle,
  pushThinBundle,
  verifyFromRegistry,
  type Reference,
} from '../../registry/index.js';
import { checkBundleReference } from '../../tuf/names.js';
import { TufError } from '../../tuf/errors.js';
import { messageOf } from '../../errors.js';
import { pathExists } from '../../util/fs.js';
import { createHash } from 'node:crypto';

/** `sha256:<hex>` as the glossary's hashes object. */
function hashesOf(digest: string): { sha256: string } {
  return { sha256: digest.slice('sha256:'.length) };
}

interface PushCliOptions extends KeyOptions, RegistryCliOptions {
  sign?: string;
  allowFallbacks?: boolean;
}

async function push(file: string, text: string, opts: PushCliOptions): Promise<void> {
  const ref = parseReference(text);
  const r = await pushThinBundle({
    opener: openerOf(opts),
    ref,
    bundleFile: file,
    allowFallbacks: opts.allowFallbacks === true,
    ...(opts.sign === undefined ? {} : { sign: { dir: opts.sign, lockWaitMs: lockWaitMs() } }),
  });
  if (opts.json) {
    printJson({
      reference: r.reference,
      pinned: formatReference({ ...ref, digest: r.pushed.digest }),
      index: { mediaType: r.pushed.mediaType, length: r.pushed.size, hashes: hashesOf(r.pushed.digest) },
      config: { length: r.bundle.length, hashes: { sha256: r.bundle.sha256 } },
      ...(r.staged === undefined
        ? {}
        : {
            staged: {
              name: r.staged.name,
              tag: r.staged.tag,
              role: r.staged.role,
              version: r.staged.version ?? null,
              location: opts.sign,
            },
          }),
    });
  } else {
    printLine(`pushed ${r.reference}: digest ${r.pushed.digest}`);
    printLine(`  bundle.json ${r.bundle.length} bytes, sha256 ${r.bundle.sha256}`);
    if (r.staged !== undefined) {
      printLine(
        `staged ${r.staged.name} (${r.staged.length} bytes, sha256 ${r.staged.hashes.sha256}) in ${r.staged.role} v${r.staged.version}`,
      );
      printLine(`next: cnabsec publish ${opts.sign ?? ''}`);
    }
  }
  if (r.verifyWith !== undefined)
    warn(
      `the registry repository is not the signed repository name ${r.staged?.repository ?? ''}: verify this copy with ${r.verifyWith}`,
    );
}

interface PullCliOptions extends KeyOptions, RegistryCliOptions, TokenOptions {
  output?: string;
  force?: boolean;
  verify?: boolean;
  target?: string;
  inspectionTimeout?: number;
}

const REGISTRY_ONLY = [
  'output',
  'force',
  'verify',
  'target',
  'inspectionTimeout',
  'insecureRegistry',
  'registryConfig',
] as const;
const FLAG: Record<string, string> = {
  output: '-o/--output',
  force: '--force',
  verify: '--verify',
  target: '--target',
  inspectionTimeout: '--inspection-timeout',
  insecureRegistry: '--insecure-registry',
  registryConfig: '--registry-config',
  tokenFile: '--token-file',
};

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() === true;
}

/**
 * ADR 0029: an existing directory is a local repository (the issue 13 server pull); otherwise a
 * registry reference with a tag or digest; anything else is refused naming both readings.
 */
async function pullSource(source: string): Promise<{ dir: string } | { ref: Reference }> {
  if (await isDirectory(source)) return { dir: source };
  let why: string;
  try {
    const ref = parseReference(source);
    if (ref.tag !== undefined || ref.digest !== undefined) return { ref };
    why = 'it has no :tag or @digest';
  } catch (e) {
    why = messageOf(e);
  }
  const missing = (await pathExists(source)) ? 'not a directory' : 'no such directory';
  throw new TufError(
    'REPO_NOT_FOUND',
    `pull ${source}: neither a cnabsec repository directory (${missing}) nor a registry reference (${why})`,
    {
      details: { source, path: source },
      hint: 'pull <repo-dir> updates a local repository from its metadata server; pull <registry>/<repository>:<tag> fetches a thin bundle',
    },
  );
}

function refuseOptions(cmd: Command, opts: PullCliOptions, names: readonly string[], rule: string): void {
  const given = names.filter((n) => (opts as Record<string, unknown>)[n] !== undefined);
  if (given.length > 0)
    throw new UsageError(`${given.map((n) => FLAG[n] ?? n).join(', ')}: ${rule}`, { path: () => cmd.path() });
}

/** `--verify` trusts the bundle as `<registry>/<repository>:<tag>` unless `--target` names it. */
function verifyTarget(ref: Reference, opts: PullCliOptions): string {
  if (opts.target !== undefined) {
    checkBundleReference(opts.target);
    return opts.target;
  }
  if (ref.tag === undefined) {
    throw new TufError(
      'INVALID_NAME',
      `pull --verify ${formatReference(ref)}: a digest names no signed target`,
      {
        details: { reference: formatReference(ref) },
        hint: `give the signed name: --target <repository>:<tag>, or use cnabsec verify <repository>:<tag> --registry ${formatReference(ref)}`,
      },
    );
  }
  return `${ref.registry}/${ref.repository}:${ref.tag}`;
}

async function registryPull(ref: Reference, opts: PullCliOptions): Promise<void> {
  const output = opts.output ?? 'bundle.json';
  if (opts.force !== true && (await pathExists(output))) {
    throw new CliError('OUTPUT_WRITE_FAILED', `refusing to overwrite ${output}`, {
      details: { path: output },
      hint: 'give another file with -o, or --force to replace it',
    });
  }
  if (opts.target !== undefined && opts.verify !== true) checkBundleReference(opts.target);
  const opener = openerOf(opts);
  const target = opts.verify === true ? verifyTarget(ref, opts) : undefined;
  const verified =
    target === undefined
      ? undefined
      : await verifyFromRegistry({
          target,
          ref,
          opener,
          home: opts.home ?? defaultHome(),
          inspectionTimeoutMs: (opts.inspectionTimeout ?? 60) * 1000,
          warn: (m) => {
            warn(`in-toto: ${m}`);
          },
        });
  const r = verified?.pulled ?? (await pullBundle(opener(ref.registry), ref));
  await writeOutputFile(output, r.bundle); // only now: nothing is written unless verified
  const sha256 = createHash('sha256').update(r.bundle).digest('hex');
  const reference = formatReference(ref);
  if (opts.json) {
    printJson({
      reference,
      pinned: formatReference({ ...ref, digest: r.digest }),
      index: { hashes: hashesOf(r.digest) },
      config: { length: r.bundle.length, hashes: { sha256 } },
      path: output,
      verified: target !== undefined,
      ...(target === undefined ? {} : { name: target, tag: target.slice(target.lastIndexOf(':') + 1) }),
      relocationMap: r.relocationMap,
    });
    return;
  }
  printLine(
    `pulled ${reference}: digest ${r.digest}, bundle.json ${r.bundle.length} bytes, sha256 ${sha256} → ${output}`,
  );
  if (verified !== undefined) {
    const provenance = verified.custom['in-toto'] === undefined ? '' : ', in-toto provenance verified';
    printLine(`verified ${verified.target} (doc 303${provenance})`);
  }
}

async function pull(source: string, opts: PullCliOptions, cmd: Command): Promise<void> {
  const where = await pullSource(source);
  if ('dir' in where) {
    refuseOptions(
      cmd,
      opts,
      REGISTRY_ONLY,
      `options of a registry pull; ${source} is a repository directory (pull <repo-dir> updates it from its metadata server)`,
    );
    await serverPull(where.dir, opts);
    return;
  }
  refuseOptions(
    cmd,
    opts,
    ['tokenFile'],
    `an option of the metadata server pull (pull <repo-dir>); ${source} is a registry reference`,
  );
  await registryPull(where.ref, opts);
}

export function register(program: Command): void {
  withRegistryOptions(withCommon(program.command('push <bundle.json> <ref>')))
    .description(
      'push a thin bundle to an OCI registry in the cnab-to-oci layout (docs 200/201); --sign stages its signed target',
    )
    .option(
      '--sign <dir>',
      'after the push, stage <repository name>:<tag> in this local repository (then publish)',
    )
    .option(
      '--allow-fallbacks',
      "retry a refused manifest with cnab-to-oci's fallbacks (Docker manifest list)",
    )
    .example('cnabsec push bundle.json registry.example.com/org/app:v1 --sign ./repo')
    .example('cnabsec push bundle.json 127.0.0.1:5000/org/app:v1 --insecure-registry 127.0.0.1:5000 --json')
    .action(runAction(push));

  withTokenFile(withRegistryOptions(withCommon(program.command('pull <source>'))))
    .description(
      "pull <registry>/<repository>:<tag> (or @digest): a thin bundle, --verify'd by doc 303; pull <repo-dir>: the metadata server's state into the repository",
    )
    .option('-o, --output <file>', 'where to write the canonical bundle.json (default bundle.json)')
    .option('--force', 'replace the output file if it exists')
    .option(
      '--verify',
      'run doc 303 first (TUF, length and sha256, in-toto): nothing is written unless it passes',
    )
    .option('--target <repository:tag>', 'the signed name to verify against (default: the reference pulled)')
    .option('--inspection-timeout <seconds>', 'time limit of each in-toto inspection (default 60)', seconds)
    .example('cnabsec pull registry.example.com/org/app:v1 --verify -o bundle.json')
    .example(
      'cnabsec pull mirror.local:5000/org/app@sha256:<digest> --target example.com/org/app:v1 --verify',
    )
    .example('cnabsec pull ./repo')
    .example('CNABSEC_TOKEN=... cnabsec pull ./repo --json')
    .action(runAction(pull));
}
