/**
 * Passphrases come from one documented scheme:
 *   1. `CNABSEC_PASSPHRASE_<LABEL>` where LABEL is the role or key label upper-cased with
 *      non-alphanumerics as `_` (e.g. `CNABSEC_PASSPHRASE_TARGETS_RELEASES`),
 *   2. else `CNABSEC_PASSPHRASE`,
 *   3. else an interactive prompt on the terminal, unless prompting is off (`--no-prompt`,
 *      `CI=true`, or no TTY), in which case it fails at once with PASSPHRASE_REQUIRED.
 * Passphrases are never logged.
 */
import { CryptoError } from './errors.js';
import { envSuffix } from './keyfile.js';

export interface PassphraseOptions {
  noPrompt?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Ask twice and compare (for new keys). */
  confirm?: boolean;
}

export type PassphraseSource = (label: string, keyid?: string, confirm?: boolean) => Promise<string>;

export function promptsAllowed(options: PassphraseOptions = {}): boolean {
  const env = options.env ?? process.env;
  return !options.noPrompt && env.CI !== 'true' && process.stdin.isTTY && process.stderr.isTTY;
}

export function passphraseFromEnv(label: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const specific = env[`CNABSEC_PASSPHRASE_${envSuffix(label)}`];
  if (specific !== undefined) return specific;
  return env.CNABSEC_PASSPHRASE;
}

/** Read a line from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => {
        resolve(answer);
      });
      muted = true;
    });
  } finally {
    muted = false;
    rl.close();
    process.stderr.write('\n');
  }
}

/** The standard passphrase source: environment, then prompt (if allowed). */
export function passphraseSource(options: PassphraseOptions = {}): PassphraseSource {
  return async (label, keyid, confirm = options.confirm ?? false) => {
    const fromEnv = passphraseFromEnv(label, options.env);
    if (fromEnv !== undefined) return fromEnv;
    const what = keyid === undefined ? `${label} key` : `${label} key ${keyid.slice(0, 8)}`;
    if (!promptsAllowed(options)) {
      throw new CryptoError('PASSPHRASE_REQUIRED', `no passphrase for the ${what} and prompting is off`, {
        details: { label, keyid },
        hint: `set CNABSEC_PASSPHRASE_${envSuffix(label)} (or CNABSEC_PASSPHRASE)`,
      });
    }
    const first = await promptHidden(`Passphrase for the ${what}: `);
    if (confirm && (await promptHidden('Repeat passphrase: ')) !== first) {
      throw new CryptoError('WRONG_PASSPHRASE', 'the two passphrases differ', { hint: 'try again' });
    }
    return first;
  };
}
