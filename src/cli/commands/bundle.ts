/** `cnabsec bundle add|remove|list|canonicalize`: bundle versions as TUF targets (doc 302 "new or updated bundles"). */
import type { Command } from '../args.js';
import { readUserFile } from '../../util/fs.js';
import { describeErrno } from '../../util/errno.js';
import {
  bundleTargetName,
  canonicalizeBundleFile,
  thinBundleDigest,
  type Digest,
} from '../../cnab/bundle.js';
import { readThickBundle } from '../../cnab/archive.js';
import { progressBar } from '../progress.js';
import { addLayout, readLinkDir, type LinkFile } from '../../cnab/provenance.js';
import { stageBundle } from '../../workflows/stage-bundle.js';
import { readLayoutInput, withLayoutOptions, type LayoutOptions } from '../provenance-options.js';
import { TufError } from '../../tuf/errors.js';
import { checkRoleName } from '../../tuf/names.js';
import { SIGNABLE_HINT } from '../../tuf/signable.js';
import { findUnsignableValue, JsonInputError, parseJsonBounded, quote } from '../../util/json.js';
import { listTargets, removeTarget } from '../../tuf/targets.js';
import { withCommon, type KeyOptions } from '../common.js';
import { openRepository, withRepository } from '../repo-common.js';
import { mebibytes } from '../options.js';
import { bundleFileHint } from '../habits.js';
import type { LocalRepository } from '../../tuf/repository.js';
import { printJson, printLine, runAction } from '../output.js';
import { targetsJson } from '../json-shapes.js';

interface AddOptions extends KeyOptions {
  links?: string;
  layout?: string;
  thin?: string;
  thick?: string;
  custom?: string;
  role?: string;
  maxUnpacked?: number;
}

/** Largest --custom file read (custom data is signed into targets metadata). */
const MAX_CUSTOM_BYTES = 1 << 20;

/**
 * The --custom JSON object, refused unless every TUF peer reads it the same way (ADR 0007):
 * bounded parse, only safe integers (checked on the text, before JSON.parse rounds them),
 * valid Unicode and keys whose UTF-16 and code-point orders agree.
 */
async function customData(file: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (file === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readUserFile(file, MAX_CUSTOM_BYTES);
  } catch (e) {
    throw new TufError('INVALID_ARGUMENT', `cannot read --custom ${quote(file)}: ${describeErrno(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'give the path of a JSON file holding one object',
    });
  }
  const source = `--custom ${quote(file)}`;
  let value: unknown;
  try {
    value = parseJsonBounded(bytes, { source, maxBytes: MAX_CUSTOM_BYTES });
  } catch (e) {
    if (!(e instanceof JsonInputError) || e.hint !== undefined) throw e;
    throw new JsonInputError(e.code, e.message, {
      cause: e.cause,
      details: e.details,
      hint: 'the --custom file must hold one JSON object (it may be truncated)',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TufError('INVALID_ARGUMENT', `${source} must hold a JSON object`, {
      details: { path: file },
      hint: 'custom target metadata is one JSON object, e.g. {"description": "..."}',
    });
  }
  const bad = findUnsignableValue(value);
  if (bad !== undefined) {
    throw new TufError(
      'UNSIGNABLE_VALUE',
      `${source}: value at ${quote(bad.path || '/', 120)} cannot be signed: ${bad.reason}`,
      {
        details: { path: file, at: bad.path.slice(0, 240) },
        hint: SIGNABLE_HINT,
      },
    );
  }
  // Numbers JSON.parse made look safe (1.0, 1e2): refused on the text, before signing.
  parseJsonBounded(bytes, { source, maxBytes: MAX_CUSTOM_BYTES, integersOnly: true });
  return value as Record<string, unknown>;
}

async function add(dir: string, tag: string, opts: AddOptions): Promise<void> {
  if ((opts.thin === undefined) === (opts.thick === undefined)) {
    throw new TufError(
      'INVALID_ARGUMENT',
      'give exactly one of --thin <bundle.json> or --thick <bundle.tgz>',
      { hint: 'thin: the canonical bundle.json (`cnabsec bundle canonicalize`); thick: the bundle archive' },
    );
  }
  if (opts.layout !== undefined && opts.links === undefined) {
    throw new TufError(
      'INVALID_ARGUMENT',
      '--layout names the layout of the --links given with it; no --links given',
      {
        hint: 'add --links <dir> with the in-toto links of this bundle, or leave out --layout',
      },
    );
  }
  if (opts.role !== undefined) checkRoleName(opts.role);
  // Read the inputs first, then lock and read the repository state: a read-modify-write.
  const digest: Digest =
    opts.thin !== undefined
      ? await thinBundleDigest(opts.thin)
      : (
          await readThickBundle(
            opts.thick ?? '',
            progressBar(opts.thick ?? ''),
            opts.maxUnpacked === undefined ? {} : { maxUnpackedBytes: opts.maxUnpacked * 2 ** 20 },
          )
        ).digest;
  const custom = await customData(opts.custom);
  const links = opts.links === undefined ? undefined : await readLinkDir(opts.links);
  await withRepository(dir, (repo) => stage(repo, dir, tag, digest, custom, links, opts));
}

async function stage(
  repo: LocalRepository,
  dir: string,
  tag: string,
  digest: Digest,
  custom: Record<string, unknown> | undefined,
  links: LinkFile[] | undefined,
  opts: AddOptions,
): Promise<void> {
  const r = await stageBundle(repo, tag, digest, {
    ...(custom === undefined ? {} : { custom }),
    ...(links === undefined ? {} : { links }),
    ...(opts.layout === undefined ? {} : { layout: opts.layout }),
    ...(opts.role === undefined ? {} : { role: opts.role }),
  });
  if (opts.json)
    printJson({ name: r.name, tag, role: r.role, version: r.version, length: r.length, hashes: r.hashes });
  else
    printLine(
      `staged ${r.name} (${r.length} bytes, sha256 ${r.hashes.sha256}) in ${r.role} v${r.version}; run cnabsec publish ${dir}`,
    );
}

export function register(program: Command): void {
  const bundle = program.command('bundle').description('bundle versions as signed targets');

  withCommon(bundle.command('add <repo> <tag>'))
    .description('stage a bundle version <name>:<tag> with its length and sha256')
    .option('--thin <bundle.json>', 'thin bundle: digest of the canonical bundle.json')
    .option(
      '--thick <bundle.tgz>',
      'thick bundle: digest of the archive bytes (bundle.json inside is checked)',
    )
    .option(
      '--max-unpacked <MiB>',
      'largest decompressed size of a thick bundle (default: 10x the archive, at least 256 MiB)',
      mebibytes,
    )
    .option('--custom <file.json>', 'custom target metadata (a JSON object)')
    .option('--role <role>', 'targets role to sign it (default: the role delegated for the name)')
    .option('--links <dir>', 'in-toto links of this bundle (signed by targets/releases with the bundle)')
    .option('--layout <name>', 'layout that verifies this bundle (default root)')
    .onExtraArguments(bundleFileHint)
    .example('cnabsec bundle add ./repo v1 --thin bundle.json')
    .example('cnabsec bundle add ./repo v1 --thick bundle.tgz --custom custom.json')
    .example('cnabsec bundle add ./repo v2 --thin bundle.json --links ./links')
    .action(runAction(add));

  const layout = program.command('layout').description('in-toto layouts signed by targets (provenance)');
  withLayoutOptions(withCommon(layout.command('add <repo> <name>')))
    .description(
      'sign a new in-toto layout (and its keys) with targets, for new bundles (--layout <name> on bundle add)',
    )
    .example('cnabsec layout add ./repo release-2 --layout root.layout --layout-key owner.pub')
    .example(
      'cnabsec layout add ./repo release-2 --layout root.layout --layout-key owner.pub --layout-key owner2.pub',
    )
    .action(
      runAction(async (dir: string, layoutName: string, opts: KeyOptions & LayoutOptions) => {
        const input = await readLayoutInput(opts, layoutName);
        const target = await withRepository(dir, async (repo) => {
          const t = await addLayout(repo, input);
          await repo.saveStaged();
          return t;
        });
        if (opts.json) printJson({ name: target, layout: input.name ?? layoutName, role: 'targets' });
        else printLine(`staged layout ${target} in targets; run cnabsec publish ${dir}`);
      }),
    );

  withCommon(bundle.command('remove <repo> <tag>'))
    .description('stage the removal of a bundle version (revocation)')
    .example('cnabsec bundle remove ./repo v1')
    .example('cnabsec bundle remove ./repo v1 --json')
    .action(
      runAction(async (dir: string, tag: string, opts: KeyOptions) => {
        await withRepository(dir, async (repo) => {
          const name = bundleTargetName(repo.config.name, tag);
          const roles = removeTarget(repo, name);
          await repo.saveStaged();
          if (opts.json) printJson({ name, tag, roles: [...new Set(roles)].sort() });
          else printLine(`staged removal of ${name} from ${roles.join(', ')}; run cnabsec publish ${dir}`);
        });
      }),
    );

  withCommon(bundle.command('list <repo>'))
    .description('list targets (published and staged)')
    .example('cnabsec bundle list ./repo')
    .example('cnabsec bundle list ./repo --json')
    .action(
      runAction(async (dir: string, opts: KeyOptions) => {
        const repo = await openRepository(dir);
        const targets = listTargets(repo);
        if (opts.json) printJson(targetsJson(repo.config.name, targets));
        else
          for (const t of targets)
            printLine(`${t.name}  ${t.length}  sha256:${t.hashes.sha256 ?? '-'}  (${t.role})`);
      }),
    );

  bundle
    .command('canonicalize <bundle.json>')
    .description('print a bundle.json in canonical JSON form (CNAB doc 101)')
    .option('--json', 'accepted for symmetry; output is always JSON')
    .option('-v, --verbose', 'print each file read to stderr')
    .example('cnabsec bundle canonicalize bundle.json')
    .example('cnabsec bundle canonicalize bundle.json > bundle.canonical.json')
    .action(
      runAction(async (file: string) => {
        process.stdout.write(await canonicalizeBundleFile(file));
      }),
    );
}
