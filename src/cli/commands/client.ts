/** Client commands: `cnabsec trust add|list` (explicit trust on first use) and `cnabsec lookup`. */
import type { Command } from '../args.js';
import { readFile } from 'node:fs/promises';
import { defaultHome } from '../../crypto/keystore.js';
import { addTrust, checkRootBytes, clientFor, listTrust, trustFor } from '../../tuf/client/trust.js';
import { TufError } from '../../tuf/errors.js';
import { resetTrust } from '../../tuf/client/reset.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction } from '../output.js';
import { referenceTag, trustEntryJson, trustListJson, trustResetJson } from '../json-shapes.js';

async function readRoot(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new TufError('INVALID_ARGUMENT', `cannot read root metadata ${file}`, {
      cause: e,
      details: { path: file },
      hint: 'give the path of the root.json obtained from the repository owner',
    });
  }
  checkRootBytes(bytes, file);
  return bytes;
}

export function register(program: Command): void {
  const trust = program
    .command('trust')
    .description('repositories this client trusts, each pinned to a root');

  withCommon(trust.command('add <name>'))
    .description('trust a bundle repository: pin its root metadata (obtained out of band) and metadata URL')
    .requiredOption('--root <root.json>', 'root metadata of the repository, from a channel you trust')
    .requiredOption('--url <url>', 'metadata URL (file://, http:// or https://)')
    .action(
      runAction(async (name: string, opts: KeyOptions & { root: string; url: string }) => {
        const entry = await addTrust(opts.home ?? defaultHome(), name, await readRoot(opts.root), opts.url);
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
    .action(
      runAction(async (name: string, opts: KeyOptions & { root: string; url?: string }) => {
        const r = await resetTrust(opts.home ?? defaultHome(), name, await readRoot(opts.root), opts.url);
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
      }),
    );

  withCommon(trust.command('list'))
    .description('list trusted repositories')
    .action(
      runAction(async (opts: KeyOptions) => {
        const entries = await listTrust(opts.home ?? defaultHome());
        if (opts.json) printJson(trustListJson(entries));
        else for (const e of entries) printLine(`${e.name}  ${e.url}`);
      }),
    );

  withCommon(program.command('lookup <target>'))
    .description('update trusted metadata (TUF client workflow) and print the verified target <name>:<tag>')
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
}
