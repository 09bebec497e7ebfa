/** Plumbing shared by the repository commands: open a repository, resolve keys, sign from the key store. */
import { quote } from '../util/json.js';
import { CryptoError } from '../crypto/errors.js';
import { TufError } from '../tuf/errors.js';
import type { KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';
import { LocalRepository } from '../tuf/repository.js';
import type { SignerProvider } from '../tuf/signing.js';
import { FsMetadataStore } from '../tuf/store.js';
import { warn } from './output.js';

export function openRepository(dir: string): Promise<LocalRepository> {
  return LocalRepository.open(new FsMetadataStore(dir));
}

/**
 * How long a writer waits for the repository lock: CNABSEC_LOCK_WAIT seconds (default 10, at
 * most 3600). A value that is not a number of seconds is refused (it was silently 10 s).
 */
export function lockWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.CNABSEC_LOCK_WAIT;
  if (text === undefined || text.trim() === '') return 10_000;
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text)) {
    throw new TufError(
      'INVALID_ARGUMENT',
      `CNABSEC_LOCK_WAIT=${quote(text, 40)} is not a number of seconds`,
      {
        hint: 'set CNABSEC_LOCK_WAIT to the seconds a writer waits for the repository lock (e.g. 0 or 30), or unset it',
      },
    );
  }
  return Math.min(Number(text), 3600) * 1000;
}

/** Open `dir` under its writer lock and run `fn` (every command that stages or publishes). */
export function withRepository<T>(dir: string, fn: (repo: LocalRepository) => Promise<T>): Promise<T> {
  return LocalRepository.transaction(new FsMetadataStore(dir), fn, { waitMs: lockWaitMs() });
}

/** Hold the writer lock of `dir` (created if missing) while `fn` runs: `init`. */
export function withRepositoryDirLocked<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  return LocalRepository.locked(new FsMetadataStore(dir), fn, { waitMs: lockWaitMs(), create: true });
}

/** Collect a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The typed option parser of options.ts (kept here for the commands that import it from here). */
export { positiveInt } from './options.js';

/** Key references (PEM file or key-store id): ../workflows/key-refs.ts. */
export { resolvePublicKey } from '../workflows/key-refs.js';

/**
 * Sign with keys of the local key store. A key whose passphrase is not available (no prompt)
 * is skipped, so that other keys can still meet the threshold; publish then names what is missing.
 */
export function storeSigners(
  store: KeyStore,
  passphrases: PassphraseSource,
  only?: Set<string>,
): SignerProvider {
  return async (role, keyid, position) => {
    if (only !== undefined && !only.has(keyid)) return undefined;
    if (!(await store.has(keyid))) return undefined;
    try {
      // the prompt names the role and the key's place among its keys: `root key 2/3 (ab12cd34)`
      return await store.signer(keyid, passphrases, role, position);
    } catch (e) {
      if (e instanceof CryptoError && e.code === 'PASSPHRASE_REQUIRED') {
        warn(`${e.message}; skipping key ${keyid.slice(0, 8)}`);
        return undefined;
      }
      throw e;
    }
  };
}
