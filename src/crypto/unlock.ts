/**
 * Decrypting a stored key with a passphrase from a `PassphraseSource`, asking again after a
 * wrong one: up to MAX_PASSPHRASE_TRIES asks; a source that cannot ask again (a passphrase
 * from the environment, no terminal) throws the previous error, so non-interactive runs are
 * never retried. A source that ignores the request and gives the same wrong answer again is
 * not derived again (scrypt would fail the same way).
 */
import type { KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import { decryptKey, type KeyFile } from './keyfile.js';
import { quote } from '../util/json.js';
import {
  MAX_PASSPHRASE_TRIES,
  describeKey,
  passphraseHint,
  type KeyPosition,
  type PassphraseSource,
} from './passphrase.js';

function wrongPassphrase(
  file: KeyFile,
  label: string,
  position: Partial<KeyPosition>,
  tries: number,
): CryptoError {
  const after = tries > 1 ? ` (${tries} tries)` : '';
  return new CryptoError(
    'WRONG_PASSPHRASE',
    `wrong passphrase for ${describeKey(label, undefined, position)} ${file.keyid} (${quote(file.label)})${after}`,
    {
      details: { keyid: file.keyid, label: file.label, tries },
      hint: `check ${passphraseHint(label, file.keyid)}`,
    },
  );
}

/**
 * The private key of `file` (read from `source`), its passphrase asked from `passphrases` for
 * `label` (the role being signed, else the key's label) and `position`.
 */
export async function unlockKeyFile(
  file: KeyFile,
  passphrases: PassphraseSource,
  options: { label?: string; position?: Partial<KeyPosition>; source?: string } = {},
): Promise<KeyObject> {
  const label = options.label ?? file.label;
  const position = options.position ?? {};
  let previous: CryptoError | undefined;
  let last: string | undefined;
  let tries = 0;
  for (let attempt = 1; ; attempt++) {
    const request = { ...position, attempt, ...(previous === undefined ? {} : { previous }) };
    const passphrase = await passphrases(label, file.keyid, false, request);
    if (previous === undefined || passphrase !== last) {
      try {
        tries++;
        return await decryptKey(file, passphrase, options.source);
      } catch (e) {
        if (!(e instanceof CryptoError && e.code === 'WRONG_PASSPHRASE')) throw e;
      }
    }
    previous = wrongPassphrase(file, label, position, tries);
    last = passphrase;
    if (attempt >= MAX_PASSPHRASE_TRIES) throw previous;
  }
}
