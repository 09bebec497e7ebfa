/** `cnabsec verify <repository>:<tag> (--thin bundle.json | --thick bundle.tgz)`: the doc 303 workflow. */
import type { Command } from '../args.js';
import { defaultHome } from '../../crypto/keystore.js';
import { verifyBundle, type VerifyOptions } from '../../cnab/verify.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { mebibytes, seconds } from '../options.js';
import { referenceHint } from '../habits.js';
import { writeOutputFile } from '../output-file.js';
import { referenceTag } from '../json-shapes.js';
import { progressBar } from '../progress.js';
import { parseMapFile } from '../../tuf/client/map.js';
import { TufError } from '../../tuf/errors.js';
import { readUserFile } from '../../util/fs.js';
import { canonicalize } from '@tufjs/canonical-json';
import { checkBundleReference } from '../../tuf/names.js';
import { parseJsonBounded } from '../../util/json.js';
import { openerOf, withRegistryOptions, type RegistryCliOptions } from '../registry-common.js';
import {
  parseReference,
  RegistryError,
  verifyFromRegistry,
  type RegistryVerifyOptions,
} from '../../registry/index.js';
import { UsageError } from '../usage-error.js';
import { entryFor, importedBundle } from '../../tuf/client/offline.js';
import { GRACE_HELP, graceMsOf, warnGrace } from './trust-archive.js';
import { duration } from '../options.js';

async function readJson(file: string): Promise<unknown> {
  try {
    return parseJsonBounded(await readUserFile(file, 1 << 20), { source: file, maxBytes: 1 << 20 });
  } catch (e) {
    throw new TufError('MAP_INVALID', `cannot read map file ${file}`, {
      cause: e,
      hint: 'give a TAP 4 map file (JSON)',
    });
  }
}

export function register(program: Command): void {
  withRegistryOptions(withCommon(program.command('verify <target>')))
    .description(
      'verify a bundle (doc 303): TUF update, compare length and hashes, then its in-toto provenance if it has any',
    )
    .option('--thin <bundle.json>', 'the thin bundle file obtained from the registry')
    .option('--thick <bundle.tgz>', 'the thick bundle archive')
    .option(
      '--registry <ref>',
      'pull the thin bundle from this registry reference (after the TUF update; the target keeps its own name)',
    )
    .option('--map <map.json>', 'TAP 4 map file: which repositories must agree on the target')
    .option('-o, --output <file>', 'write the verified bundle.json (canonical) to this file')
    .option('--inspection-timeout <seconds>', 'time limit of each in-toto inspection', seconds, 60)
    .option(
      '--max-unpacked <MiB>',
      'largest decompressed size of a thick bundle (default: 10x the archive, at least 256 MiB)',
      mebibytes,
    )
    .option(
      '--bundle-file-name <name>',
      'name of the bundle in the inspections directory (default bundle.tgz / bundle.json)',
    )
    .option('--grace <duration>', GRACE_HELP, duration)
    .onExtraArguments(referenceHint)
    .example('cnabsec verify example.com/org/app:v1 --thin bundle.json')
    .example('cnabsec verify example.com/org/app:v1 --thick bundle.tgz -o verified-bundle.json')
    .example('cnabsec verify example.com/org/app:v1 --thin bundle.json --map map.json --json')
    .example('cnabsec verify example.com/org/app:v1 --registry mirror.local:5000/org/app:v1 -o bundle.json')
    .example('cnabsec verify example.com/org/app:v1 --grace 30d')
    .action(runAction(verify));
}

interface VerifyCliOptions extends KeyOptions, RegistryCliOptions {
  thin?: string;
  registry?: string;
  thick?: string;
  map?: string;
  inspectionTimeout: number;
  maxUnpacked?: number;
  bundleFileName?: string;
  output?: string;
  grace?: string;
}

/** No bundle given: the one `trust import` stored for the target (ADR 0030), if any. */
async function importedOf(home: string, target: string): Promise<{ thin?: string; thick?: string }> {
  const entry = await entryFor(home, target);
  const found = entry === undefined ? undefined : await importedBundle(home, entry, target);
  if (found === undefined) return {};
  return found.kind === 'thin' ? { thin: found.file } : { thick: found.file };
}

/** `--registry <ref>`: doc 303 with the thin bundle pulled from a registry (src/registry/thin-verify.ts). */
function fromRegistry(
  opts: VerifyCliOptions,
  cmd: Command,
): Pick<RegistryVerifyOptions, 'ref' | 'opener'> | undefined {
  if (opts.registry === undefined) return undefined;
  if (opts.thin !== undefined || opts.thick !== undefined)
    throw new UsageError('give one of --thin, --thick or --registry', { path: () => cmd.path() });
  const ref = parseReference(opts.registry);
  // refused before doc 303 step 1 (the TUF update): which bundle to pull is part of the input
  if (ref.tag === undefined && ref.digest === undefined) {
    throw new RegistryError('REGISTRY_BAD_TARGET', `--registry ${opts.registry}: it has no :tag or @digest`, {
      details: { reference: opts.registry },
      hint: 'name the bundle to pull as --registry <registry>/<repository>:<tag> (or @sha256:<digest>)',
    });
  }
  return { ref, opener: openerOf(opts) };
}

async function verify(target: string, opts: VerifyCliOptions, cmd: Command): Promise<void> {
  checkBundleReference(target); // <repository>:<tag>, before anything is read
  if (opts.grace !== undefined && opts.map !== undefined)
    throw new UsageError(
      '--grace is not applied to the repositories of a --map file: give one or the other',
      {
        path: () => cmd.path(),
      },
    );
  const registry = fromRegistry(opts, cmd);
  const map = opts.map === undefined ? undefined : parseMapFile(await readJson(opts.map));
  const home = opts.home ?? defaultHome();
  const given =
    opts.thin !== undefined || opts.thick !== undefined || map !== undefined || registry !== undefined;
  const bundle = given ? { thin: opts.thin, thick: opts.thick } : await importedOf(home, target);
  const bar = bundle.thick === undefined ? undefined : progressBar(bundle.thick, 'verifying');
  const grace = graceMsOf(opts.grace);
  const options: VerifyOptions = {
    target,
    home,
    ...(bundle.thin === undefined ? {} : { thin: bundle.thin }),
    ...(bundle.thick === undefined ? {} : { thick: bundle.thick }),
    ...(grace === undefined ? {} : { graceMs: grace }),
    ...(map === undefined ? {} : { map }),
    ...(opts.bundleFileName === undefined ? {} : { bundleFileName: opts.bundleFileName }),
    inspectionTimeoutMs: opts.inspectionTimeout * 1000,
    ...(opts.maxUnpacked === undefined
      ? {}
      : { archiveLimits: { maxUnpackedBytes: opts.maxUnpacked * 2 ** 20 } }),
    warn: (m) => {
      warn(`in-toto: ${m}`);
    },
    ...(bar === undefined ? {} : { onProgress: bar }),
  };
  const r =
    registry === undefined
      ? await verifyBundle(options)
      : await verifyFromRegistry({ ...options, ...registry });
  warnGrace(target.slice(0, target.lastIndexOf(':')), r.graceAccepted);
  if (opts.output !== undefined && r.bundle !== undefined)
    await writeOutputFile(opts.output, canonicalize(r.bundle));
  if (opts.json)
    printJson({
      name: r.target,
      ...referenceTag(r.target),
      length: r.length,
      hashes: { sha256: r.sha256 },
      custom: r.custom,
      ...(r.bundle === undefined ? {} : { bundle: r.bundle }),
    });
  else {
    const provenance = r.custom['in-toto'] === undefined ? '' : ', in-toto provenance verified';
    printLine(`verified ${r.target}: ${r.length} bytes, sha256 ${r.sha256}${provenance}`);
  }
}
