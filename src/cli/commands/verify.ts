/** `cnabsec verify <repository>:<tag> (--thin bundle.json | --thick bundle.tgz)`: the doc 303 workflow. */
import type { Command } from 'commander';
import { defaultHome } from '../../crypto/keystore.js';
import { verifyBundle } from '../../cnab/verify.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction } from '../output.js';
import { progressBar } from '../progress.js';

export function register(program: Command): void {
  withCommon(program.command('verify <target>'))
    .description(
      'verify a bundle against its repository: TUF update, then compare length and hashes (doc 303)',
    )
    .option('--thin <bundle.json>', 'the thin bundle file obtained from the registry')
    .option('--thick <bundle.tgz>', 'the thick bundle archive')
    .action(
      runAction(async (target: string, opts: KeyOptions & { thin?: string; thick?: string }) => {
        const onProgress = opts.thick === undefined ? undefined : progressBar(opts.thick, 'verifying');
        const r = await verifyBundle({
          target,
          home: opts.home ?? defaultHome(),
          ...opts,
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
      }),
    );
}
