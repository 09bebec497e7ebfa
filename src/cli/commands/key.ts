/** `cnabsec key generate|list|export|import|remove|passwd|sign`: the key store. */
import type { Command } from '../args.js';

import { readUserFile, writeFileAtomic } from '../../util/fs.js';
import { describeErrno } from '../../util/errno.js';
import { quote } from '../../util/json.js';
import { isKeyType, KEY_TYPES, publicKeyToPem } from '../../crypto/keys.js';
import { CryptoError } from '../../crypto/errors.js';
import { KEY_FILE_MAX_BYTES } from '../../crypto/keyfile.js';
import { defaultHome } from '../../crypto/keystore.js';
import { newPassphraseSource } from '../../crypto/passphrase.js';
import { listKeys, removeKey, type KeyListing, type KeyRepositoryUse } from '../../workflows/keys.js';
import { keyStoreOf, passphrasesOf, withCommon, type KeyOptions } from '../common.js';
import { escapeControl, printJson, printLine, runAction, warn } from '../output.js';
import { keyType } from '../options.js';
import { writeOutputFile } from '../output-file.js';
import { keyJson, keyListJson, removedKeyJson } from '../json-shapes.js';

interface GenerateOptions extends KeyOptions {
  type: string;
  label: string;
}

interface ExportOptions extends KeyOptions {
  private?: boolean;
  output?: string;
  force?: boolean;
}

const TOP_LEVEL = new Set(['root', 'targets', 'snapshot', 'timestamp']);

function homeOf(opts: KeyOptions): string {
  return opts.home ?? defaultHome();
}

/** `example.com/org/app[root,targets]`, marked when only the published root still lists it. */
function usageText(u: KeyRepositoryUse): string {
  const stale = !u.inRoot && u.roles.some((r) => TOP_LEVEL.has(r)) ? ' (not in the staged root)' : '';
  return `${u.name}[${u.roles.join(',')}]${stale}`;
}

function printKeys(keys: KeyListing[]): void {
  for (const k of keys) {
    const uses = k.repositories.filter((u) => u.state === 'ok').map(usageText);
    printLine(
      `${k.keyid}  ${k.scheme.padEnd(20)} ${escapeControl(k.label)}${uses.length === 0 ? '' : `  ${uses.join(' ')}`}`,
    );
  }
  // a repository that cannot be opened is listed under every key: say so once
  for (const u of keys[0]?.repositories.filter((r) => r.state !== 'ok') ?? []) {
    warn(
      u.state === 'not-found'
        ? `known repository ${u.name} at ${u.location} was not found (moved or deleted?); its keys are not shown`
        : `known repository ${u.name} at ${u.location} cannot be read (${u.problem ?? 'unknown'}); its keys are not shown`,
    );
  }
}

function registerList(key: Command): void {
  withCommon(key.command('list'))
    .description('list the keys: key id, scheme, label, and the known repositories and roles each serves')
    .example('cnabsec key list')
    .example('cnabsec key list --json')
    .action(
      runAction(async (opts: KeyOptions) => {
        const keys = await listKeys(keyStoreOf(opts), homeOf(opts));
        if (opts.json) printJson(keyListJson(keys));
        else printKeys(keys);
      }),
    );
}

async function exportKey(ref: string, opts: ExportOptions): Promise<void> {
  const store = keyStoreOf(opts);
  if (opts.private === true) {
    // --private without -o is refused by the command's check (a usage error, exit 2)
    const output = opts.output ?? '';
    const info = await store.exportPrivate(ref, output, { force: opts.force === true });
    if (opts.json) printJson({ keyid: info.keyid, label: info.label, path: output, encrypted: true });
    else printLine(`wrote an encrypted backup of key ${info.keyid} to ${output}`);
    return;
  }
  const info = await store.info(ref);
  const text = opts.json
    ? JSON.stringify({ keyid: info.keyid, ...info.publicKey }, null, 2) + '\n'
    : publicKeyToPem(info.publicKey);
  if (opts.output === undefined) process.stdout.write(text);
  else await writeFileAtomic(opts.output, text);
}

function registerExport(key: Command): void {
  withCommon(key.command('export <keyid>'))
    .description(
      'print the public key as PEM (TUF JSON with --json); --private writes an encrypted backup of the private key',
    )
    .option('--private', 'write the private key, encrypted as stored (needs -o)')
    .option('-o, --output <file>', 'write to this file (mode 0600 with --private)')
    .option('--force', 'with --private: replace an existing output file')
    .example('cnabsec key export ab12cd34 > root.pub.pem')
    .example('cnabsec key export ab12cd34 --private -o ab12cd34.backup.key')
    .check(([ref], opts) =>
      opts.private === true && opts.output === undefined
        ? `key export --private needs -o <file>: the encrypted backup is written to a file (mode 0600), e.g. -o ${String(ref).slice(0, 8)}.backup.key`
        : undefined,
    )
    .action(runAction(exportKey));
}

async function readImportFile(file: string): Promise<string> {
  const bytes = await readUserFile(file, KEY_FILE_MAX_BYTES).catch((e: unknown) => {
    throw new CryptoError('KEY_INVALID', `cannot read key file ${quote(file)}: ${describeErrno(e)}`, {
      cause: e,
      details: { path: file.slice(0, 1024) },
      hint: `give a PEM private key or a backup from \`cnabsec key export --private\` (at most ${KEY_FILE_MAX_BYTES} bytes)`,
    });
  });
  return bytes.toString('utf8');
}

function registerImport(key: Command): void {
  withCommon(key.command('import <file>'))
    .description(
      'import a backup from `key export --private` (kept encrypted, same passphrase) or an unencrypted PEM private key (stored encrypted)',
    )
    .option('-l, --label <label>', 'what the key is for (default: the backup\'s label, else "default")')
    .example('cnabsec key import ab12cd34.backup.key')
    .example('cnabsec key import release.pem --label targets/releases')
    .action(
      runAction(async (file: string, opts: KeyOptions & { label?: string }) => {
        const info = await keyStoreOf(opts).importKey(
          await readImportFile(file),
          file,
          passphrasesOf(opts),
          opts.label,
        );
        if (opts.json) printJson({ ...keyJson(info), format: info.format });
        else printLine(info.keyid);
      }),
    );
}

function printRemoved(r: Awaited<ReturnType<typeof removeKey>>, json: boolean): void {
  for (const u of r.stillListedIn)
    warn(`--force: ${u.name} (${u.location}) still lists the removed key as ${u.roles.join(', ')}`);
  for (const u of r.unchecked)
    warn(`known repository ${u.name} at ${u.location} could not be checked (${u.state})`);
  if (json) printJson(removedKeyJson(r));
  else printLine(`removed key ${r.keyid} (${escapeControl(r.label)})`);
}

function registerRemove(key: Command): void {
  withCommon(key.command('remove <keyid>'))
    .description('delete a private key from the key store; refused while a known repository lists it')
    .option('--force', 'delete it even though a known repository still lists it')
    .example('cnabsec key remove ab12cd34')
    .example('cnabsec key remove ab12cd34 --force')
    .action(
      runAction(async (ref: string, opts: KeyOptions & { force?: boolean }) => {
        const removed = await removeKey(keyStoreOf(opts), homeOf(opts), ref, { force: opts.force === true });
        printRemoved(removed, opts.json === true);
      }),
    );
}

function registerPasswd(key: Command): void {
  withCommon(key.command('passwd <keyid>'))
    .description(
      'change the passphrase of a key (old: CNABSEC_PASSPHRASE_* or a prompt; new: CNABSEC_NEW_PASSPHRASE or a prompt)',
    )
    .example('cnabsec key passwd ab12cd34')
    .example('CI=true CNABSEC_PASSPHRASE_AB12CD34=old CNABSEC_NEW_PASSPHRASE=new cnabsec key passwd ab12cd34')
    .action(
      runAction(async (ref: string, opts: KeyOptions) => {
        const info = await keyStoreOf(opts).changePassphrase(
          ref,
          passphrasesOf(opts),
          newPassphraseSource({ noPrompt: opts.prompt === false }),
        );
        if (opts.json) printJson({ keyid: info.keyid, label: info.label });
        else printLine(`changed the passphrase of key ${info.keyid}`);
      }),
    );
}

export function register(program: Command): void {
  const key = program.command('key').description('manage signing keys in the encrypted key store');

  withCommon(key.command('generate'))
    .description('generate a key pair, encrypted at rest with a passphrase')
    .option('-t, --type <type>', `key type: ${KEY_TYPES.join(', ')}`, keyType, 'ed25519')
    .option('-l, --label <label>', 'what the key is for (selects CNABSEC_PASSPHRASE_<LABEL>)', 'default')
    .example('cnabsec key generate --label root')
    .example('cnabsec key generate --type ecdsa --label targets --json')
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

  registerList(key);
  registerExport(key);
  registerImport(key);
  registerRemove(key);
  registerPasswd(key);

  withCommon(key.command('sign <keyid> <payload>'))
    .description(
      'sign a payload file (from `cnabsec payload`) offline; writes {"keyid","sig"} for add-signature',
    )
    .option('-o, --output <file>', 'write the signature file here instead of stdout')
    .example('cnabsec key sign ab12cd34 targets.payload -o targets.sig')
    .example('cnabsec key sign ab12cd34 root.payload --no-prompt > root.sig')
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
          await writeOutputFile(opts.output, text);
          if (opts.json) printJson({ keyid: signer.keyid, path: opts.output });
        }
      }),
    );
}
