/**
 * Client commands: `cnabsec trust add|reset|remove|list` (explicit trust on first use),
 * `cnabsec lookup` and `cnabsec list` (like `notary list <GUN>`), all from verified metadata.
 */
import type { Command } from '../args.js';
import { defaultHome } from '../../crypto/keystore.js';
import { checkRootBytes, clientFor, listTrust, trustFor, type TrustEntry } from '../../tuf/client/trust.js';
import { registerTrustArchive } from './trust-archive.js';
import { addTrust, notTrusted, removeTrust } from '../../tuf/client/trust-write.js';
import { ROOT_MAX_BYTES } from '../../tuf/client/guard.js';
import { TufError } from '../../tuf/errors.js';
import { checkRepositoryName } from '../../tuf/names.js';
import { resetTrust } from '../../tuf/client/reset.js';
import { describeErrno, errnoOf } from '../../util/errno.js';
import { readUserFile } from '../../util/fs.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction } from '../output.js';
import { referenceHint } from '../habits.js';
import { lockWaitMs } from '../repo-common.js';
import { serverUrl } from '../options.js';
import { metadataUrlOf } from '../../workflows/remote-access.js';
import {
  referenceTag,
  signedTagsJson,
  trustEntryJson,
  trustListJson,
  trustResetJson,
} from '../json-shapes.js';

async function readRoot(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readUserFile(file, ROOT_MAX_BYTES);
  } catch (e) {
    if (errnoOf(e) === undefined) throw e;
    throw new TufError('INVALID_ARGUMENT', `cannot read root metadata ${file}: ${describeErrno(e)}`, {
      cause: e,
      details: { path: file, errno: errnoOf(e) },
      hint: `give the path of the root.json obtained from the repository owner (a regular file of at most ${ROOT_MAX_BYTES / 1024} KiB)`,
    });
  }
  checkRootBytes(bytes, file);
  return bytes;
}

function registerTrust(program: Command): void {
  const trust = program
    .command('trust')
    .description('repositories this client trusts, each pinned to a root');

  withCommon(trust.command('add <name>'))
    .description('trust a bundle repository: pin its root metadata (obtained out of band) and metadata URL')
    .requiredOption('--root <root.json>', 'root metadata of the repository, from a channel you trust')
    .option('--url <url>', 'metadata URL (file://, http:// or https://)')
    .option(
      '--server <url>',
      'metadata repository server instead of --url: the metadata URL is <server>/v2/<name>/_trust/tuf',
      serverUrl,
    )
    .check((_args, opts) =>
      (opts.url === undefined) === (opts.server === undefined)
        ? 'give the metadata location: --url <metadata url> or --server <server url> (one of them)'
        : undefined,
    )
    .example('cnabsec trust add example.com/org/app --root root.json --url https://tuf.example.com/org/app')
    .example('cnabsec trust add example.com/org/app --root root.json --server https://tuf.example.com')
    .example(
      'cnabsec trust add example.com/org/app --root ./repo/metadata/root.json --url file:///srv/repo/metadata',
    )
    .action(
      runAction(async (name: string, opts: KeyOptions & { root: string; url?: string; server?: string }) => {
        const home = opts.home ?? defaultHome();
        checkRepositoryName(name, 'trust name');
        const url = opts.server === undefined ? (opts.url ?? '') : metadataUrlOf(opts.server, name);
        const root = await readRoot(opts.root);
        const entry = await addTrust(home, name, root, url, false, { waitMs: lockWaitMs() });
        if (opts.json) printJson(trustEntryJson(entry));
        else printLine(`trusting ${entry.name} at ${entry.url}`);
      }),
    );

  withCommon(trust.command('reset <name>'))
    .description('re-pin the root of a trusted repository after a root key compromise recovery (out of band)')
    .requiredOption(
      '--root <root.json>',
      'the new root from the recovery package, checked against its README.txt',
    )
    .option('--url <url>', 'new metadata URL (default: keep the current one)')
    .option('--allow-older', 'accept a root of a lower version than the trusted one (the owner confirmed it)')
    .example('cnabsec trust reset example.com/org/bundle --root recovery/root.json')
    .example('cnabsec trust reset example.com/org/bundle --root root.json --allow-older')
    .action(
      runAction(
        async (name: string, opts: KeyOptions & { root: string; url?: string; allowOlder?: boolean }) => {
          const home = opts.home ?? defaultHome();
          checkRepositoryName(name, 'trust name');
          const root = await readRoot(opts.root);
          const r = await resetTrust(home, name, root, opts.url, {
            allowOlder: opts.allowOlder === true,
            waitMs: lockWaitMs(),
          });
          if (opts.json) printJson(trustResetJson(r));
          else {
            const ids = (k: string[]): string => k.map((x) => x.slice(0, 8)).join(' ');
            const p = r.previous;
            printLine(`re-pinned ${name}: root v${p?.version ?? '?'} -> v${r.current.version}`);
            printLine(
              `  old root keys: ${p === null ? '(none readable)' : `${p.threshold} of [${ids(p.keyids)}]`}`,
            );
            printLine(`  new root keys: ${r.current.threshold} of [${ids(r.current.keyids)}]`);
            printLine(`  sha256 ${r.current.sha256}`);
          }
        },
      ),
    );

  withCommon(trust.command('remove <name>'))
    .description('stop trusting a repository: remove its pinned root and cached metadata')
    .example('cnabsec trust remove example.com/org/bundle')
    .example('cnabsec trust remove example.com/org/bundle --json')
    .action(
      runAction(async (name: string, opts: KeyOptions) => {
        checkRepositoryName(name, 'trust name');
        const r = await removeTrust(opts.home ?? defaultHome(), name, { waitMs: lockWaitMs() });
        if (opts.json) printJson({ name: r.name, url: r.url, removed: true });
        else printLine(`no longer trusting ${r.name} (removed ${r.path})`);
      }),
    );

  withCommon(trust.command('list'))
    .description('list trusted repositories')
    .example('cnabsec trust list')
    .example('cnabsec trust list --json')
    .action(
      runAction(async (opts: KeyOptions) => {
        const entries = await listTrust(opts.home ?? defaultHome());
        if (opts.json) printJson(withImported(trustListJson(entries), entries));
        else
          for (const e of entries)
            printLine(
              `${e.name}  ${e.url}${e.imported === undefined ? '' : `  (offline, imported ${e.imported})`}`,
            );
      }),
    );

  registerTrustArchive(trust, readRoot);
}

/** `trust list --json`: an imported repository (ADR 0030) has `offline: true` and `imported`. */
function withImported(doc: Record<string, unknown>, entries: readonly TrustEntry[]): Record<string, unknown> {
  const repos = doc.repositories as Record<string, unknown>[];
  return {
    repositories: repos.map((r) => {
      const imported = entries.find((e) => e.name === r.name)?.imported;
      return imported === undefined ? r : { ...r, offline: true, imported };
    }),
  };
}

/** Columns padded to their widest cell, two spaces apart. */
function printTable(rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows)
    printLine(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}

async function list(name: string, opts: KeyOptions): Promise<void> {
  checkRepositoryName(name);
  const home = opts.home ?? defaultHome();
  const entry = (await listTrust(home)).find((e) => e.name === name);
  if (entry === undefined) throw notTrusted(name);
  const prefix = `${name}:`;
  const listed = await clientFor(home, entry).signedTags();
  if (opts.json) {
    printJson(signedTagsJson(name, listed));
    return;
  }
  const tags = listed.map(({ info, role }) => ({
    name: info.path.slice(prefix.length),
    length: info.length,
    hashes: { ...info.hashes },
    role,
  }));
  if (tags.length === 0) {
    printLine(`no signed tags in ${name}`);
    return;
  }
  printTable([
    ['TAG', 'LENGTH', 'SHA256', 'ROLE'],
    ...tags.map((t) => [t.name, String(t.length), t.hashes.sha256 ?? '-', t.role]),
  ]);
}

export function register(program: Command): void {
  registerTrust(program);

  withCommon(program.command('lookup <target>'))
    .description('update trusted metadata (TUF client workflow) and print the verified target <name>:<tag>')
    .onExtraArguments(referenceHint)
    .example('cnabsec lookup example.com/org/app:v1')
    .example('cnabsec lookup example.com/org/app:v1 --json')
    .action(
      runAction(async (target: string, opts: KeyOptions) => {
        const home = opts.home ?? defaultHome();
        const client = clientFor(home, await trustFor(home, target));
        const info = await client.getTarget(target);
        const out = { name: info.path, length: info.length, hashes: info.hashes, custom: info.custom };
        if (opts.json)
          printJson({
            name: out.name,
            ...referenceTag(out.name),
            length: out.length,
            hashes: out.hashes,
            custom: out.custom,
          });
        else {
          printLine(out.name);
          printLine(`  length ${out.length}`);
          for (const [alg, h] of Object.entries(out.hashes)) printLine(`  ${alg} ${h}`);
          if (Object.keys(out.custom).length > 0) printLine(`  custom ${JSON.stringify(out.custom)}`);
        }
      }),
    );

  withCommon(program.command('list <name>'))
    .description(
      'update trusted metadata and list every signed tag of a repository: length, sha256 and the role that signed it',
    )
    .example('cnabsec list example.com/org/bundle')
    .example('cnabsec list example.com/org/bundle --json')
    .action(runAction(list));
}
