/**
 * The options every command takes (--home, --no-prompt, --json, -v/--verbose). A module of its
 * own that loads nothing but the parser types, so that command groups which must start fast
 * (`intoto verify`) take the same options without loading the key store (./common.ts).
 */
import type { Command } from './args.js';

export interface KeyOptions {
  home?: string;
  prompt?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** Add --home, --no-prompt, --json and -v/--verbose to a command. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('--home <dir>', 'key store and client state directory (default $CNABSEC_HOME or ~/.cnabsec)')
    .option('--no-prompt', 'never prompt for a passphrase (also when CI=true)')
    .option('--json', 'print machine-readable JSON')
    .option('-v, --verbose', 'print each HTTP request and file read to stderr');
}
