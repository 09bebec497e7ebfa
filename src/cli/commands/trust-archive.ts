/**
 * `cnabsec trust export` and `cnabsec trust import` (air-gapped sites, ADR 0030): parsing and
 * printing only; registered under `trust` by ./client.ts. The work is in src/cnab/trust-archive*.ts
 * and src/tuf/client/{export,import}.ts.
 */
import type { Command } from '../args.js';
import { defaultHome } from '../../crypto/keystore.js';
import { exportTrustArchive } from '../../cnab/trust-archive.js';
import { importTrustArchive } from '../../cnab/trust-archive-import.js';
import { graceWarning, MAX_GRACE_MS, type GraceAccepted } from '../../tuf/client/grace.js';
import { TufError } from '../../tuf/errors.js';
import { checkBundleReference } from '../../tuf/names.js';
import { trustFor } from '../../tuf/client/trust.js';
import { durationSeconds } from '../../util/duration.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { duration } from '../options.js';
import { referenceHint } from '../habits.js';
import { lockWaitMs } from '../repo-common.js';
import { referenceTag } from '../json-shapes.js';
import { openerOf, withRegistryOptions, type RegistryCliOptions } from '../registry-common.js';
import { parseReference, registryThinSource } from '../../registry/index.js';
import type { ObtainThin } from '../../cnab/verify.js';

/** `--grace <duration>` in ms (the parser checked the syntax). */
export function graceMsOf(grace: string | undefined): number | undefined {
  if (grace === undefined) return undefined;
  const ms = (durationSeconds(grace) ?? 0) * 1000;
  if (ms > MAX_GRACE_MS) {
    throw new TufError('INVALID_DURATION', `--grace ${grace} is longer than 366 days`, {
      details: { grace },
      hint: 'a grace is for metadata that expired recently: give at most 366d; older metadata needs a newer trust archive',
    });
  }
  return ms;
}

export const GRACE_HELP =
  'accept TUF metadata expired for at most this long (offline sites); every role accepted is warned about';

/** Warn about each role accepted past its expiry (stderr, and `warnings` with --json). */
export function warnGrace(repository: string, accepted: readonly GraceAccepted[] | undefined): void {
  for (const r of accepted ?? []) warn(graceWarning(repository, r));
}

interface ExportCliOptions extends KeyOptions, RegistryCliOptions {
  output: string;
  withBundle?: boolean;
  thin?: string;
  thick?: string;
  registry?: string;
  grace?: string;
}

/**
 * `--registry <ref>`, or `--with-bundle` alone (the target names its registry, doc 301): the
 * thin bundle pulled after the export's TUF update, bounded by the signed length.
 */
function fromRegistry(target: string, opts: ExportCliOptions): ObtainThin | undefined {
  if (opts.withBundle !== true || opts.thin !== undefined || opts.thick !== undefined) return undefined;
  const ref = parseReference(opts.registry ?? target);
  return registryThinSource(openerOf(opts), ref, target).obtain;
}

async function exportAction(target: string, opts: ExportCliOptions): Promise<void> {
  checkBundleReference(target);
  const grace = graceMsOf(opts.grace);
  await trustFor(opts.home ?? defaultHome(), target); // TRUST_NOT_FOUND before any registry request
  const obtainThin = fromRegistry(target, opts);
  const r = await exportTrustArchive({
    home: opts.home ?? defaultHome(),
    target,
    output: opts.output,
    ...(obtainThin === undefined ? {} : { obtainThin }),
    ...(opts.thin === undefined ? {} : { thin: opts.thin }),
    ...(opts.thick === undefined ? {} : { thick: opts.thick }),
    ...(grace === undefined ? {} : { graceMs: grace }),
    warn: (m) => {
      warn(`in-toto: ${m}`);
    },
  });
  warnGrace(r.manifest.repository, r.graceAccepted);
  const files = r.manifest.files;
  if (opts.json) {
    printJson({
      name: target,
      ...referenceTag(target),
      path: r.output,
      created: r.manifest.created,
      files: files.map((f) => ({
        entry: f.name,
        length: f.length,
        hashes: { sha256: f.sha256 },
        ...(f.target === undefined ? {} : { name: f.target }),
      })),
      ...(r.bundle === undefined
        ? {}
        : { bundle: { kind: r.bundle.kind, length: r.bundle.length, hashes: { sha256: r.bundle.sha256 } } }),
    });
    return;
  }
  const meta = files.filter((f) => f.name.startsWith('metadata/')).length;
  const targets = files.filter((f) => f.name.startsWith('targets/')).length;
  const bundle = r.bundle === undefined ? '' : `, the ${r.bundle.kind} bundle (verified)`;
  printLine(`wrote ${r.output}: ${target}, ${meta} metadata files, ${targets} in-toto files${bundle}`);
}

interface ImportCliOptions extends KeyOptions {
  root?: string;
  grace?: string;
}

async function importAction(
  readRoot: (file: string) => Promise<Buffer>,
  file: string,
  opts: ImportCliOptions,
): Promise<void> {
  const grace = graceMsOf(opts.grace);
  const root = opts.root === undefined ? undefined : await readRoot(opts.root);
  const r = await importTrustArchive({
    home: opts.home ?? defaultHome(),
    file,
    ...(root === undefined ? {} : { root }),
    ...(grace === undefined ? {} : { graceMs: grace }),
    waitMs: lockWaitMs(),
  });
  warnGrace(r.entry.name, r.graceAccepted);
  if (r.wasOnline !== undefined)
    warn(
      `${r.entry.name} was trusted online at ${r.wasOnline}: it now uses the imported metadata only, with no update from there, until \`cnabsec trust reset ${r.entry.name} --root root.json --url ${r.wasOnline}\``,
    );
  if (opts.json) {
    printJson({
      name: r.manifest.target,
      ...referenceTag(r.manifest.target),
      url: r.entry.url,
      imported: r.entry.imported,
      created: r.manifest.created,
      pinned: r.pinned,
      versions: Object.fromEntries(r.versions.map((v) => [v.role, v.version])),
      length: r.info.length,
      hashes: { ...r.info.hashes },
      ...(r.bundle === undefined ? {} : { path: r.bundle }),
    });
    return;
  }
  const root2 = r.versions.find((v) => v.role === 'root')?.version;
  printLine(
    `imported ${r.manifest.target} (exported ${r.manifest.created}): ${r.entry.name} root v${root2 ?? '?'}, now offline at ${r.entry.url}`,
  );
  if (r.bundle !== undefined)
    printLine(`  bundle stored: ${r.bundle} (\`cnabsec verify ${r.manifest.target}\` uses it)`);
}

export function registerTrustArchive(trust: Command, readRoot: (file: string) => Promise<Buffer>): void {
  withRegistryOptions(withCommon(trust.command('export <target>')))
    .description(
      'write a trust archive for an offline site: the TUF metadata of <name>:<tag> (updated first), its in-toto files, optionally the bundle',
    )
    .requiredOption('-o, --output <trust.tgz>', 'the archive to write')
    .option(
      '--with-bundle',
      'carry the bundle too, verified first (doc 303): from --thin, --thick or --registry (default: pulled from the registry <name>:<tag> names)',
    )
    .option('--thin <bundle.json>', 'with --with-bundle: the thin bundle')
    .option('--thick <bundle.tgz>', 'with --with-bundle: the thick bundle archive')
    .option(
      '--registry <ref>',
      'with --with-bundle: pull the thin bundle from this registry reference (cnab-to-oci layout)',
    )
    .option('--grace <duration>', GRACE_HELP, duration)
    .check((_args, opts) => {
      const given = [opts.thin, opts.thick, opts.registry].filter((x) => x !== undefined).length;
      if (opts.withBundle === true && given > 1)
        return '--with-bundle takes one bundle: --thin <bundle.json>, --thick <bundle.tgz> or --registry <ref> (default: the registry the target names)';
      if (opts.withBundle !== true && given > 0)
        return '--thin, --thick and --registry are for --with-bundle';
      return undefined;
    })
    .onExtraArguments(referenceHint)
    .example('cnabsec trust export example.com/org/app:v1 -o trust.tgz')
    .example('cnabsec trust export example.com/org/app:v1 -o trust.tgz --with-bundle')
    .example('cnabsec trust export example.com/org/app:v1 -o trust.tgz --with-bundle --thin bundle.json')
    .example('cnabsec trust export example.com/org/app:v1 -o trust.tgz --with-bundle --thick app.tgz')
    .example(
      'cnabsec trust export example.com/org/app:v1 -o trust.tgz --with-bundle --registry registry.example.com/org/app:v1',
    )
    .action(runAction(exportAction));

  withCommon(trust.command('import <trust.tgz>'))
    .description(
      'import a trust archive at an offline site: its metadata is checked by a TUF update from the root this site trusts, then used without the network',
    )
    .option(
      '--root <root.json>',
      'for a repository this site does not trust yet: the root to pin, from a channel you trust',
    )
    .option('--grace <duration>', GRACE_HELP, duration)
    .example('cnabsec trust import trust.tgz')
    .example('cnabsec trust import trust.tgz --root root.json')
    .action(runAction((file: string, opts: ImportCliOptions) => importAction(readRoot, file, opts)));
}
