/** `cnabsec key generate|list|export|import`: the key store. */
import type { Command } from '../args.js';
import { writeFile } from 'node:fs/promises';
import { readUserFile } from '../../util/fs.js';
import { describeErrno } from '../../util/errno.js';
import { quote } from '../../util/json.js';
import { isKeyType, KEY_TYPES, publicKeyToPem } from '../../crypto/keys.js';
import { CryptoError } from '../../crypto/errors.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction } from '../output.js';
import { keyJson, keysJson } from '../json-shapes.js';

interface GenerateOptions extends KeyOptions {
  type: string;
  label: string;
}

export function register(program: Command): void {
  const key = program.command('key').description('manage signing keys in the encrypted key store');

  withCommon(key.command('generate'))
    .description('generate a key pair, encrypted at rest with a passphrase')
    .option('-t, --type <type>', `key type: ${KEY_TYPES.join(', ')}`, 'ed25519')
    .option('-l, --label <label>', 'what the key is for (selects CNABSEC_PASSPHRASE_<LABEL>)', 'default')
    .action(
      runAction(async (opts: GenerateOptions) => {
        if (!isKeyType(opts.type)) {
          throw new CryptoError('KEY_UNSUPPORTED_TYPE', `unknown key type ${opts.type}`, {
            hint: `use one of ${KEY_TYPES.join(', ')}`,
          });
        }
        const info = await keyStoreOf(opts).generate(opts.type, opts.label, passphrasesOf(opts));
        if (opts.json) printJson(keyJson(info));
        else printLine(info.keyid);
      }),
    );

  withCommon(key.command('list'))
    .description('list the keys in the key store')
    .action(
      runAction(async (opts: KeyOptions) => {
        const keys = await keyStoreOf(opts).list();
        if (opts.json) printJson(keysJson(keys));
        else for (const k of keys) printLine(`${k.keyid}  ${k.scheme.padEnd(20)} ${k.label}`);
      }),
    );

  withCommon(key.command('export <keyid>'))
    .description('print the public key as PEM (or TUF JSON with --json)')
    .action(
      runAction(async (ref: string, opts: KeyOptions) => {
        const info = await keyStoreOf(opts).info(ref);
        if (opts.json) printJson({ keyid: info.keyid, ...info.publicKey });
        else process.stdout.write(publicKeyToPem(info.publicKey));
      }),
    );

  withCommon(key.command('sign <keyid> <payload>'))
    .description(
      'sign a payload file (from `cnabsec payload`) offline; writes {"keyid","sig"} for add-signature',
    )
    .option('-o, --output <file>', 'write the signature file here instead of stdout')
    .action(
      runAction(async (ref: string, file: string, opts: KeyOptions & { output?: string }) => {
        const signer = await keyStoreOf(opts).signer(ref, passphrasesOf(opts));
        const bytes = await readUserFile(file, 64 * 1024 * 1024).catch((e: unknown) => {
          throw new CryptoError('KEY_INVALID', `cannot read payload ${quote(file)}: ${describeErrno(e)}`, {
            cause: e,
            hint: 'give the file written by `cnabsec payload`',
          });
        });
        const sig = { keyid: signer.keyid, sig: Buffer.from(await signer.sign(bytes)).toString('hex') };
        const text = JSON.stringify(sig) + '\n';
        if (opts.output === undefined) process.stdout.write(text);
        else {
          await writeFile(opts.output, text);
          if (opts.json) printJson({ keyid: signer.keyid, path: opts.output });
        }
      }),
    );

  withCommon(key.command('import <pemfile>'))
    .description('import an unencrypted PEM private key; it is stored encrypted')
    .option('-l, --label <label>', 'what the key is for', 'default')
    .action(
      runAction(async (file: string, opts: KeyOptions & { label: string }) => {
        const info = await keyStoreOf(opts).importPrivatePem(
          (
            await readUserFile(file, 64 * 1024).catch((e: unknown) => {
              throw new CryptoError(
                'KEY_INVALID',
                `cannot read PEM file ${quote(file)}: ${describeErrno(e)}`,
                {
                  cause: e,
                  hint: 'give an unencrypted PEM private key file (at most 65536 bytes)',
                },
              );
            })
          ).toString('utf8'),
          opts.label,
          passphrasesOf(opts),
        );
        if (opts.json) printJson(keyJson(info));
        else printLine(info.keyid);
      }),
    );
}
