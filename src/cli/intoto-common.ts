/**
 * Option helpers shared by the `cnabsec intoto` command files (./commands/intoto.ts, ./intoto-layout.ts).
 * Light on purpose: registering the group loads nothing but the parser (startup of `verify`).
 */
import type { KeyOptions } from './common-options.js';
import { FormatError } from '../intoto/errors.js';

export const collect = (v: string, prev: string[]): string[] => [...prev, v];

export { withCommon } from './common-options.js';

export async function passphrasesOf(opts: KeyOptions) {
  return (await import('./common.js')).passphrasesOf(opts);
}

export function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0)
      throw new FormatError('INTOTO_BAD_FORMAT', `${what} must look like NAME=VALUE, got ${kv}`, {
        hint: `e.g. ${what} ${{ '--param': 'VERSION=1.0.0', '--threshold': 'build=2' }[what] ?? 'build=builder.pub'}`,
      });
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
