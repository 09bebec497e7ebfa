/**
 * Option helpers shared by the `cnabsec intoto` command files (./commands/intoto.ts, ./intoto-layout.ts).
 * Light on purpose: registering the group loads nothing but the parser (startup of `verify`).
 */
import type { Command } from './args.js';
import type { KeyOptions } from './common.js';
import { FormatError } from '../intoto/errors.js';
import { quote } from '../util/json.js';

export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * --home, --no-prompt and --json, as common.ts `withCommon` adds them; repeated here so that
 * registering this group does not load the key store modules (startup time of `verify`).
 */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('--home <dir>', 'key store and client state directory (default $CNABSEC_HOME or ~/.cnabsec)')
    .option('--no-prompt', 'never prompt for a passphrase (also when CI=true)')
    .option('--json', 'print machine-readable JSON');
}

export async function passphrasesOf(opts: KeyOptions) {
  return (await import('./common.js')).passphrasesOf(opts);
}

/** A time limit option in seconds (or its default in seconds), as milliseconds. */
export function seconds(v: string | undefined, name: string, dfltSeconds: number): number {
  const n = v === undefined ? dfltSeconds : Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new FormatError(
      'INTOTO_BAD_FORMAT',
      `${name} must be a positive number of seconds, got ${quote(v ?? '')}`,
    );
  return n * 1000;
}

/** A byte count option: a non-negative integer. */
export function bytes(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new FormatError('INTOTO_BAD_FORMAT', `${name} must be a number of bytes, got ${quote(v)}`);
  return n;
}

/** A day count option (positive, at most 100 years), as milliseconds. */
export function days(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 36_525)
    throw new FormatError(
      'INTOTO_BAD_FORMAT',
      `${name} must be a positive number of days up to 36525, got ${quote(v)}`,
    );
  return n * 86_400_000;
}

export function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new FormatError('INTOTO_BAD_FORMAT', `${what} must look like NAME=VALUE, got ${kv}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export async function signerOf(ref: string, opts: KeyOptions) {
  const [{ loadSigner }, { KeyStore, defaultHome }] = await Promise.all([
    import('../intoto/keys.js'),
    import('../crypto/keystore.js'),
  ]);
  return loadSigner(ref, {
    passphrases: await passphrasesOf(opts),
    keyStore: new KeyStore(opts.home ?? defaultHome()),
  });
}
