/** Options shared by command groups: key store location and passphrase behaviour. */
import type { Command } from './args.js';
import { KeyStore, defaultHome } from '../crypto/keystore.js';
import { passphraseSource, type PassphraseSource } from '../crypto/passphrase.js';

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

export function keyStoreOf(opts: KeyOptions): KeyStore {
  return new KeyStore(opts.home ?? defaultHome());
}

export function passphrasesOf(opts: KeyOptions): PassphraseSource {
  return passphraseSource({ noPrompt: opts.prompt === false });
}
