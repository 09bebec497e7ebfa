/** `cnabsec verify <repository>:<tag> (--thin bundle.json | --thick bundle.tgz)`: the doc 303 workflow. */
import type { Command } from 'commander';
import { defaultHome } from '../../crypto/keystore.js';
import { verifyBundle } from '../../cnab/verify.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction } from '../output.js';
import { progressBar } from '../progress.js';
import { parseMapFile } from '../../tuf/client/map.js';
import { TufError } from '../../tuf/errors.js';
import { readFile } from 'node:fs/promises';

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new TufError('MAP_INVALID', `cannot read map file ${file}`, {
      cause: e,
      hint: 'give a TAP 4 map file (JSON)',
    });
  }
}

export function register(program: Command): void {
  withCommon(program.command('verify <target>'))
    .description(
      'verify a bundle against its repository: TUF update, then compare length and hashes (doc 303)',
    )
    .option('--thin <bundle.json>', 'the thin bundle file obtained from the registry')
    .option('--thick <bundle.tgz>', 'the thick bundle archive')
    .option('--map <map.json>', 'TAP 4 map file: which repositories must agree on the target')
    .action(
      runAction(
        async (target: string, opts: KeyOptions & { thin?: string; thick?: string; map?: string }) => {
          const map = opts.map === undefined ? undefined : parseMapFile(await readJson(opts.map));
          const onProgress = opts.thick === undefined ? undefined : progressBar(opts.thick, 'verifying');
          const r = await verifyBundle({
            target,
            home: opts.home ?? defaultHome(),
            ...opts,
            map,
            ...(onProgress === undefined
              ? {}
              : {
                  onProgress: (n: number) => {
                    onProgress(n);
                  },
                }),
          });
          if (opts.json) printJson(r);
          else printLine(`verified ${r.target}: ${r.length} bytes, sha256 ${r.sha256}`);
        },
      ),
    );
}
