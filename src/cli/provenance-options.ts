/** Options and file reading for the in-toto extension (doc 301), shared by init, layout add and bundle add. */
import type { Command } from './args.js';
import { readUserFile } from '../util/fs.js';
import { checkLayout, type LayoutInput } from '../cnab/provenance.js';
import { CnabError } from '../cnab/errors.js';
import { TufError } from '../tuf/errors.js';
import { messageOf } from '../errors.js';
import { collect } from './repo-common.js';
import { keyCount, positiveInt } from './options.js';

export interface LayoutOptions {
  layout?: string;
  layoutKey?: string[];
}

/** Largest layout or layout key file read (a FIFO or /dev/zero is refused, not read). */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readUserFile(file, MAX_INPUT_BYTES);
  } catch (e) {
    throw new CnabError('INTOTO_METADATA_MISSING', `cannot read ${what} ${file}: ${messageOf(e)}`, {
      cause: e,
      hint: `check the path of the ${what} file`,
    });
  }
}

/** Add --layout and --layout-key. */
export function withLayoutOptions(cmd: Command): Command {
  return cmd
    .option('--layout <file>', 'signed in-toto root layout')
    .option('--layout-key <pub>', "layout owner's public key file (repeatable; JSON or PEM)", collect);
}

/** Add the options of `init --in-toto`. */
export function withProvenanceInitOptions(cmd: Command): Command {
  return withLayoutOptions(
    cmd.option('--in-toto', 'set up provenance: root layout, its keys, targets/releases'),
  )
    .option('--releases-keys <n>', 'number of targets/releases keys', keyCount)
    .option('--releases-threshold <n>', 'targets/releases signature threshold', positiveInt)
    .option('--releases-key <id|pem>', 'use this key for targets/releases (repeatable)', collect);
}

/** Read and check the layout and its keys (nothing is written). */
export async function readLayoutInput(opts: LayoutOptions, name?: string): Promise<LayoutInput> {
  if (opts.layout === undefined || (opts.layoutKey ?? []).length === 0) {
    throw new TufError(
      'INVALID_ARGUMENT',
      'provenance needs --layout <root.layout> and at least one --layout-key <pub>',
      {
        hint: 'create a layout with `cnabsec intoto layout new` and sign it with `cnabsec intoto sign`',
      },
    );
  }
  const input: LayoutInput = {
    layout: await readInput(opts.layout, 'layout'),
    keys: await Promise.all((opts.layoutKey ?? []).map((k) => readInput(k, 'layout key'))),
    ...(name === undefined ? {} : { name }),
  };
  checkLayout(input);
  return input;
}
