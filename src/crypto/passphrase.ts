/**
 * Passphrases come from one documented scheme (ADR 0015):
 *   1. `CNABSEC_PASSPHRASE_<KEYID8>`: the first 8 hex digits of the key id, upper-case
 *      (`CNABSEC_PASSPHRASE_AB12CD34`; the lower-case spelling is also accepted), for one key
 *      whose passphrase differs from the other keys of its role;
 *   2. else `CNABSEC_PASSPHRASE_<LABEL>` where LABEL is the role or key label upper-cased with
 *      non-alphanumerics as `_` (e.g. `CNABSEC_PASSPHRASE_TARGETS_RELEASES`),
 *   3. else `CNABSEC_PASSPHRASE`,
 *   4. else an interactive prompt on the terminal (`Passphrase for root key 2/3 (ab12cd34): `),
 *      unless prompting is off (`--no-prompt`, `CI=true`, or no TTY), in which case it fails at
 *      once with PASSPHRASE_REQUIRED. A wrong passphrase typed at the terminal is asked again,
 *      up to MAX_PASSPHRASE_TRIES times; one from the environment is never retried.
 * A new passphrase (`cnabsec key passwd`) comes from `CNABSEC_NEW_PASSPHRASE`, else a prompt
 * asked twice. Passphrases are never logged.
 */
import { CryptoError } from './errors.js';
import { envSuffix } from './keyfile.js';

/** How often a wrong passphrase is asked at a terminal before WRONG_PASSPHRASE. */
export const MAX_PASSPHRASE_TRIES = 3;

/** Where a key stands among the keys of the role being signed: key `index` of `count` (1-based). */
export interface KeyPosition {
  index: number;
  count: number;
}

/** What a passphrase is asked for, beyond the label and key id (all optional). */
export interface PassphraseRequest extends Partial<KeyPosition> {
  /** 1 on the first ask, 2.. after a wrong passphrase. */
  attempt?: number;
  /** The error of the previous attempt: a source that cannot ask again throws it. */
  previous?: CryptoError;
}

export interface PassphraseOptions {
  noPrompt?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Ask twice and compare (for new keys). */
  confirm?: boolean;
  /**
   * Ask a question on the terminal without echo (default: `promptHidden` on stdin/stderr).
   * Giving one stands for a terminal: prompting is then on unless `noPrompt` or `CI=true`.
   */
  prompt?: (question: string) => Promise<string>;
}

/**
 * A passphrase for the key `keyid` (undefined for a key about to be generated) labelled
 * `label`; `confirm` asks twice. Sources written before `request` existed still work: they
 * ignore it and are then simply not asked again with a different answer.
 */
export type PassphraseSource = (
  label: string,
  keyid?: string,
  confirm?: boolean,
  request?: PassphraseRequest,
) => Promise<string>;

export function promptsAllowed(options: PassphraseOptions = {}): boolean {
  const env = options.env ?? process.env;
  if (options.noPrompt === true || env.CI === 'true') return false;
  return options.prompt !== undefined || (process.stdin.isTTY && process.stderr.isTTY);
}

/** The variables that may hold the passphrase of `keyid` labelled `label`, first match wins. */
export function passphraseVariables(label: string, keyid?: string): string[] {
  const out: string[] = [];
  if (keyid !== undefined && /^[0-9a-f]{8}/i.test(keyid)) {
    const k8 = keyid.slice(0, 8);
    out.push(`CNABSEC_PASSPHRASE_${k8.toUpperCase()}`, `CNABSEC_PASSPHRASE_${k8.toLowerCase()}`);
  }
  const suffix = envSuffix(label);
  if (suffix !== '') out.push(`CNABSEC_PASSPHRASE_${suffix}`);
  out.push('CNABSEC_PASSPHRASE');
  return [...new Set(out)];
}

/** The variables a user sets, for hints: the per-key one (upper-case), per-label, generic. */
export function passphraseHint(label: string, keyid?: string): string {
  const lower = keyid === undefined ? '' : `CNABSEC_PASSPHRASE_${keyid.slice(0, 8).toLowerCase()}`;
  const names = passphraseVariables(label, keyid).filter((n, i) => i !== 1 || n !== lower);
  if (names.length === 1) return names[0] ?? 'CNABSEC_PASSPHRASE';
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] ?? ''}`;
}

export function passphraseFromEnv(
  label: string,
  env: NodeJS.ProcessEnv = process.env,
  keyid?: string,
): string | undefined {
  for (const name of passphraseVariables(label, keyid)) {
    const v = env[name];
    if (v !== undefined) return v;
  }
  return undefined;
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

/** `root key 2/3 (ab12cd34)`, `root key (ab12cd34)`, `root key`: what a prompt or error names. */
export function describeKey(label: string, keyid?: string, position?: Partial<KeyPosition>): string {
  const at =
    position?.index !== undefined && position.count !== undefined
      ? ` ${position.index}/${position.count}`
      : '';
  return `${label} key${at}${keyid === undefined ? '' : ` (${keyid.slice(0, 8)})`}`;
}

function retryPrefix(request: PassphraseRequest): string {
  const attempt = request.attempt ?? 1;
  return attempt > 1 ? `Wrong passphrase, attempt ${attempt} of ${MAX_PASSPHRASE_TRIES}. ` : '';
}

async function askTwice(
  ask: (q: string) => Promise<string>,
  question: string,
  again: string,
): Promise<string> {
  const first = await ask(question);
  if ((await ask(again)) !== first) {
    throw new CryptoError('WRONG_PASSPHRASE', 'the two passphrases differ', {
      hint: 'run the command again and type the same passphrase twice',
    });
  }
  return first;
}

/** The standard passphrase source: environment, then prompt (if allowed). */
export function passphraseSource(options: PassphraseOptions = {}): PassphraseSource {
  const ask = options.prompt ?? promptHidden;
  return async (label, keyid, confirm = options.confirm ?? false, request = {}) => {
    const retry = (request.attempt ?? 1) > 1;
    const fromEnv = passphraseFromEnv(label, options.env, keyid);
    if (fromEnv !== undefined) {
      // a passphrase from the environment is what it is: never asked again
      if (retry && request.previous !== undefined) throw request.previous;
      return fromEnv;
    }
    const what = describeKey(label, keyid, request);
    if (!promptsAllowed(options)) {
      if (retry && request.previous !== undefined) throw request.previous;
      throw new CryptoError('PASSPHRASE_REQUIRED', `no passphrase for the ${what} and prompting is off`, {
        details: { label, ...(keyid === undefined ? {} : { keyid }) },
        hint: `set ${passphraseHint(label, keyid)}`,
      });
    }
    const question = `${retryPrefix(request)}Passphrase for ${keyid === undefined ? `the new ${what}` : what}: `;
    return confirm ? askTwice(ask, question, 'Repeat passphrase: ') : ask(question);
  };
}

/**
 * The source of a NEW passphrase for an existing key (`cnabsec key passwd`):
 * `CNABSEC_NEW_PASSPHRASE`, else a prompt asked twice, else PASSPHRASE_REQUIRED.
 */
export function newPassphraseSource(options: PassphraseOptions = {}): PassphraseSource {
  const ask = options.prompt ?? promptHidden;
  return async (label, keyid, _confirm, request = {}) => {
    const fromEnv = (options.env ?? process.env).CNABSEC_NEW_PASSPHRASE;
    if (fromEnv !== undefined) return fromEnv;
    const what = describeKey(label, keyid, request);
    if (!promptsAllowed(options)) {
      throw new CryptoError('PASSPHRASE_REQUIRED', `no new passphrase for the ${what} and prompting is off`, {
        details: { label, ...(keyid === undefined ? {} : { keyid }) },
        hint: 'set CNABSEC_NEW_PASSPHRASE to the new passphrase (the old one comes from CNABSEC_PASSPHRASE_*)',
      });
    }
    return askTwice(ask, `New passphrase for ${what}: `, 'Repeat new passphrase: ');
  };
}
