/**
 * `cnabsec intoto run|record|sign|verify|layout|keygen`: in-toto supply chain metadata,
 * interoperable with python in-toto 1.3.1. Registering the commands loads nothing but
 * the parser; each action imports only the in-toto modules it needs, so that `intoto verify`
 * starts fast.
 */
import type { Command } from '../args.js';
import type { KeyOptions } from '../common.js';
import { FormatError, IntotoError } from '../../intoto/errors.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { readMetadataFile } from '../../intoto/files.js';
import { registerLayout } from '../intoto-layout.js';
import { collect, keyValues, passphrasesOf, signerOf, withCommon } from '../intoto-common.js';
import { byteCount, keyType, seconds } from '../options.js';

interface RecordCliOptions extends KeyOptions {
  step: string;
  key: string;
  materials?: string[];
  products?: string[];
  exclude?: string[];
  basePath?: string;
  normalizeLineEndings?: boolean;
  lstripPaths?: string[];
  metadataDirectory?: string;
  recordEnvironment?: boolean;
  timeout?: number;
}

function recordOptions(o: RecordCliOptions) {
  return {
    ...(o.exclude === undefined ? {} : { excludePatterns: o.exclude }),
    ...(o.basePath === undefined ? {} : { basePath: o.basePath }),
    normalizeLineEndings: o.normalizeLineEndings === true,
    ...(o.lstripPaths === undefined ? {} : { lstripPaths: o.lstripPaths }),
  };
}

function withRecording(cmd: Command): Command {
  return withCommon(cmd)
    .requiredOption('-n, --step <name>', 'step name (as in the layout)')
    .requiredOption('-k, --key <key>', 'signing key: in-toto-keygen private key file or cnabsec key id')
    .option(
      '--exclude <patterns...>',
      'gitignore-style patterns to leave out (default *.link*, .git, *.pyc, *~)',
    )
    .option('--base-path <dir>', 'record artifact paths relative to this directory')
    .option('--normalize-line-endings', 'hash text with CRLF/CR line endings as LF')
    .option('--lstrip-paths <prefixes...>', 'strip these prefixes from recorded paths');
}

function registerRun(intoto: Command): void {
  withRecording(intoto.command('run'))
    .description('record materials, run a command, record products, write <step>.<keyid>.link')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-m, --materials <paths...>', 'files or directories recorded before the command')
    .option('-p, --products <paths...>', 'files or directories recorded after the command')
    .option('-d, --metadata-directory <dir>', 'write the link here (default: current directory)')
    .option('--timeout <seconds>', 'time limit of the command (default 3600)', seconds)
    .option('--record-environment', 'record the working directory in the link')
    .option('--fail-on-error', 'a command that fails (non-zero exit, signal) fails the step: exit 1, no link')
    .example('cnabsec intoto run -n build -k build.key -m src -p bundle.json -- make bundle')
    .example('cnabsec intoto run -n build -k build.key --fail-on-error -p out -- ./build.sh')
    .action(
      runAction(async (command: string[], o: RecordCliOptions & { failOnError?: boolean }) => {
        const { runStep, describeReturnValue } = await import('../../intoto/runlib.js');
        const signer = await signerOf(o.key, o);
        const r = await runStep(o.step, command, signer, {
          ...recordOptions(o),
          materials: o.materials ?? [],
          products: o.products ?? [],
          ...(o.metadataDirectory === undefined ? {} : { metadataDirectory: o.metadataDirectory }),
          timeoutMs: (o.timeout ?? 3600) * 1000,
          recordEnvironment: o.recordEnvironment === true,
          tee: o.json !== true,
          failOnError: o.failOnError === true,
        });
        const rv = r.link.signed.byproducts['return-value'];
        // python in-toto records a failed command silently; say it, the link is still signed
        if (typeof rv === 'number' && rv !== 0)
          warn(
            `step ${o.step}: command ${describeReturnValue(rv)}; the link records the failure (byproducts return-value ${rv}); use --fail-on-error to fail the step instead`,
          );
        if (o.json) printJson({ path: r.file, keyid: signer.keyid, returnValue: rv });
        else printLine(r.file);
      }),
    );
}

function registerRecord(intoto: Command): void {
  const record = intoto.command('record').description('record a step that is not one command');
  withRecording(record.command('start'))
    .description('record materials into a signed preliminary link')
    .option('-m, --materials <paths...>', 'files or directories to record')
    .option('--record-environment', 'record the working directory in the link')
    .example('cnabsec intoto record start -n review -k reviewer -m src')
    .example('cnabsec intoto record start -n build -k ab12cd34 -m . --exclude "*.log"')
    .action(
      runAction(async (o: RecordCliOptions) => {
        const { recordStart } = await import('../../intoto/runlib.js');
        const file = await recordStart(o.step, await signerOf(o.key, o), {
          ...recordOptions(o),
          materials: o.materials ?? [],
          recordEnvironment: o.recordEnvironment === true,
        });
        if (o.json) printJson({ path: file });
        else printLine(file);
      }),
    );
  withRecording(record.command('stop'))
    .description('record products and write the signed link')
    .option('-p, --products <paths...>', 'files or directories to record')
    .option('-d, --metadata-directory <dir>', 'write the link here (default: current directory)')
    .example('cnabsec intoto record stop -n review -k reviewer -p src')
    .example('cnabsec intoto record stop -n build -k ab12cd34 -p bundle.json -d ./links')
    .action(
      runAction(async (o: RecordCliOptions) => {
        const { recordStop } = await import('../../intoto/runlib.js');
        const r = await recordStop(o.step, await signerOf(o.key, o), {
          ...recordOptions(o),
          products: o.products ?? [],
          ...(o.metadataDirectory === undefined ? {} : { metadataDirectory: o.metadataDirectory }),
        });
        if (o.json) printJson({ path: r.file });
        else printLine(r.file);
      }),
    );
}

interface SignCliOptions extends KeyOptions {
  key: string[];
  append?: boolean;
  output?: string;
}

function registerSign(intoto: Command): void {
  withCommon(intoto.command('sign <file>'))
    .description('sign a layout or link (replacing its signatures unless --append)')
    .requiredOption(
      '-k, --key <keys...>',
      'signing keys: in-toto-keygen private key files or cnabsec key ids',
    )
    .option('-a, --append', 'add the signatures to the existing ones (multi-signed layouts)')
    .option('-o, --output <file>', 'write here (default: the layout file; <step>.<keyid>.link for links)')
    .example('cnabsec intoto sign root.layout -k owner')
    .example('cnabsec intoto sign root.layout -k owner2 --append')
    .example('cnabsec intoto sign build.link -k builder -o build.ab12cd34.link')
    .action(
      runAction(async (file: string, o: SignCliOptions) => {
        const [models, { signMetablock }, { writeOutputFile }] = await Promise.all([
          import('../../intoto/models.js'),
          import('../../intoto/signing.js'),
          import('../output-file.js'),
        ]);
        const mb = models.parseMetablock(await readMetadataFile(file, 'metadata'), file);
        if (o.append !== true) mb.signatures = [];
        let keyid = '';
        for (const ref of o.key) keyid = (await signMetablock(mb, await signerOf(ref, o))).keyid;
        const out = o.output ?? (models.isLinkBlock(mb) ? models.linkFileName(mb.signed.name, keyid) : file);
        await writeOutputFile(out, models.serializeMetablock(mb));
        if (o.json) printJson({ path: out, keyids: [...new Set(mb.signatures.map((s) => s.keyid))].sort() });
        else printLine(out);
      }),
    );
}

interface VerifyCliOptions extends KeyOptions {
  layout: string;
  layoutKey: string[];
  linkDir: string;
  param: string[];
  inspectionTimeout?: number;
  inspectionDir?: string;
  maxInspectionOutput?: number;
}

function registerVerify(intoto: Command): void {
  withCommon(intoto.command('verify'))
    .description('verify a supply chain: layout, links, rules and inspections (python in-toto-verify order)')
    .requiredOption('-l, --layout <file>', 'the signed root layout')
    .requiredOption(
      '-k, --layout-key <files...>',
      'public key files of the layout owners (JSON or PEM, any type)',
    )
    .option('--link-dir <dir>', 'directory of the link files', '.')
    .option('--param <name=value>', 'substitute {name} in the layout (repeatable)', collect, [])
    .option('--inspection-timeout <seconds>', 'time limit per inspection (default 60)', seconds)
    .option('--inspection-dir <dir>', 'directory whose files inspections see (default: current directory)')
    .option(
      '--max-inspection-output <bytes>',
      'stdout/stderr bytes kept per inspection (default 1 MiB)',
      byteCount,
    )
    .example('cnabsec intoto verify -l root.layout -k owner.pub --link-dir ./links')
    .example('cnabsec intoto verify -l root.layout -k owner.pub owner2.pub --param VERSION=1.0 --json')
    .action(
      runAction(async (o: VerifyCliOptions) => {
        const [{ parseMetablock, isLayoutBlock }, { loadPublicKeys }, { verifyLayout }] = await Promise.all([
          import('../../intoto/models.js'),
          import('../../intoto/keys.js'),
          import('../../intoto/verify.js'),
        ]);
        const [text, keys] = await Promise.all([
          readMetadataFile(o.layout, 'layout'),
          loadPublicKeys(o.layoutKey),
        ]);
        const mb = parseMetablock(text, o.layout);
        if (!isLayoutBlock(mb))
          throw new FormatError('INTOTO_BAD_FORMAT', `${o.layout} is a link, not a layout`);
        const params = o.param.length > 0 ? keyValues(o.param, '--param') : undefined;
        const maxOut = o.maxInspectionOutput;
        await verifyLayout(mb, keys, {
          linkDir: o.linkDir,
          ...(params === undefined ? {} : { params }),
          inspections: {
            timeoutMs: (o.inspectionTimeout ?? 60) * 1000,
            ...(o.inspectionDir === undefined ? {} : { sourceDir: o.inspectionDir }),
            ...(maxOut === undefined ? {} : { maxOutputBytes: maxOut }),
          },
          warn,
        });
        if (o.json) printJson({ verified: true, path: o.layout });
        else printLine(`in-toto verification passed: ${o.layout}`);
      }),
    );
}

function registerKeygen(intoto: Command): void {
  withCommon(intoto.command('keygen <name>'))
    .description('write <name> and <name>.pub in the in-toto-keygen format')
    .option('-t, --type <type>', 'ed25519, ecdsa or rsa', keyType, 'ed25519')
    .option('-p, --password', 'encrypt the private key (password from CNABSEC_PASSPHRASE_<NAME> or a prompt)')
    .example('cnabsec intoto keygen builder')
    .example('cnabsec intoto keygen owner --type rsa --password')
    .action(
      runAction(async (name: string, o: KeyOptions & { type: string; password?: boolean }) => {
        const [crypto, { writeFileAtomic }, path, { mkdir }] = await Promise.all([
          import('../../crypto/index.js'),
          import('../../util/fs.js'),
          import('node:path'),
          import('node:fs/promises'),
        ]);
        if (!crypto.isKeyType(o.type))
          throw new FormatError('INTOTO_BAD_KEY', `unknown key type ${o.type}`, {
            hint: 'use ed25519, ecdsa or rsa',
          });
        const { privateKey } = crypto.generateKeyPair(o.type);
        const ask = await passphrasesOf(o);
        const password = o.password === true ? await ask(path.basename(name), undefined, true) : undefined;
        const files = crypto.sslibKeyFiles(privateKey, password);
        try {
          // A missing parent (`keygen keys/builder`) is made private, as the key store's is.
          await mkdir(path.dirname(name), { recursive: true, mode: 0o700 });
          await writeFileAtomic(name, files.private, { mode: 0o600 });
          await writeFileAtomic(`${name}.pub`, files.public);
        } catch (e) {
          const { describeErrno, errnoOf } = await import('../../util/errno.js');
          // mkdir -p over a regular file fails with EEXIST: say what is wrong with it.
          const why =
            errnoOf(e) === 'EEXIST' ? 'ENOTDIR (a path component is not a directory)' : describeErrno(e);
          throw new IntotoError('INTOTO_IO', `cannot write the key files ${name}: ${why}`, {
            cause: e,
            hint: 'choose a writable directory for the key files',
          });
        }
        const keyid = crypto.sslibPublicKeyOf(privateKey).keyid;
        if (o.json) printJson({ keyid, keytype: o.type, path: name, publicPath: `${name}.pub` });
        else printLine(keyid);
      }),
    );
}

export function register(program: Command): void {
  const intoto = program
    .command('intoto')
    .description('in-toto supply chain metadata (python in-toto 1.3.1 compatible)');
  registerRun(intoto);
  registerRecord(intoto);
  registerSign(intoto);
  registerVerify(intoto);
  registerLayout(intoto);
  registerKeygen(intoto);
}
