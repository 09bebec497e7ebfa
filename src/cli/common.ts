/** Options shared by command groups: key store location and passphrase behaviour. */
import type { KeyOptions } from './common-options.js';
import { KeyStore, defaultHome } from '../crypto/keystore.js';
import { passphraseSource, type PassphraseSource } from '../crypto/passphrase.js';

export { withCommon, type KeyOptions } from './common-options.js';

export function keyStoreOf(opts: KeyOptions): KeyStore {
  return new KeyStore(opts.home ?? defaultHome());
}

export function passphrasesOf(opts: KeyOptions): PassphraseSource {
  return passphraseSource({ noPrompt: opts.prompt === false });
}
