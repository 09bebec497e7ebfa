/**
 * `cnabsec intoto run|record|sign|verify|layout|keygen`: in-toto supply chain metadata,
 * interoperable with python in-toto 1.3.1. Registering the commands loads nothing but
 * the parser; each action imports only the in-toto modules it needs, so that `intoto verify`
 * starts fast.
 */
import type { Command } from '../args.js';
import type { KeyOptions } from '../common.js';
import { FormatError } from '../../intoto/errors.js';
import { quote } from '../../util/json.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { readMetadataFile } from '../../intoto/files.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * --home, --no-prompt and --json, as common.ts `withCommon` adds them; repeated here so that
 * registering this group does not load the key store modules (startup time of `verify`).
 */
function withCommon(cmd: Command): Command {
  return cmd
    .option('--home <dir>', 'key store and client state directory (default $CNABSEC_HOME or ~/.cnabsec)')
    .option('--no-prompt', 'never prompt for a passphrase (also when CI=true)')
    .option('--json', 'print machine-readable JSON');
}

async function passphrasesOf(opts: KeyOptions) {
  return (await import('../common.js')).passphrasesOf(opts);
}

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
  timeout?: string;
}

/** A time limit option in seconds (or its default in seconds), as milliseconds. */
function seconds(v: string | undefined, name: string, dfltSeconds: number): number {
  const n = v === undefined ? dfltSeconds : Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new FormatError(
      'INTOTO_BAD_FORMAT',
      `${name} must be a positive number of seconds, got ${quote(v ?? '')}`,
    );
  return n * 1000;
}

/** A byte count option: a non-negative integer. */
function bytes(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new FormatError('INTOTO_BAD_FORMAT', `${name} must be a number of bytes, got ${quote(v)}`);
  return n;
}

/** A day count option (positive, at most 100 years), as milliseconds. */
function days(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 36_525)
    throw new FormatError(
      'INTOTO_BAD_FORMAT',
      `${name} must be a positive number of days up to 36525, got ${quote(v)}`,
    );
  return n * 86_400_000;
}

function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new FormatError('INTOTO_BAD_FORMAT', `${what} must look like NAME=VALUE, got ${kv}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

async function signerOf(ref: string, opts: KeyOptions) {
  const [{ loadSigner }, { KeyStore, defaultHome }] = await Promise.all([
    import('../../intoto/keys.js'),
    import('../../crypto/keystore.js'),
  ]);
  return loadSigner(ref, {
    passphrases: await passphrasesOf(opts),
    keyStore: new KeyStore(opts.home ?? defaultHome()),
  });
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
    .option('--timeout <seconds>', 'time limit of the command (default 3600)')
    .option('--record-environment', 'record the working directory in the link')
    .action(
      runAction(async (command: string[], o: RecordCliOptions) => {
        const { runStep } = await import('../../intoto/runlib.js');
        const signer = await signerOf(o.key, o);
        const r = await runStep(o.step, command, signer, {
          ...recordOptions(o),
          materials: o.materials ?? [],
          products: o.products ?? [],
          ...(o.metadataDirectory === undefined ? {} : { metadataDirectory: o.metadataDirectory }),
          timeoutMs: seconds(o.timeout, '--timeout', 3600),
          recordEnvironment: o.recordEnvironment === true,
          tee: o.json !== true,
        });
        const rv = r.link.signed.byproducts['return-value'];
        if (o.json) printJson({ path: r.file, keyid: signer.keyid, returnValue: rv });
        else printLine(r.file);
      }),
    );

  const record = intoto.command('record').description('record a step that is not one command');
  withRecording(record.command('start'))
    .description('record materials into a signed preliminary link')
    .option('-m, --materials <paths...>', 'files or directories to record')
    .option('--record-environment', 'record the working directory in the link')
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
    .action(
      runAction(async (file: string, o: SignCliOptions) => {
        const [models, { signMetablock }, { writeFileAtomic }] = await Promise.all([
          import('../../intoto/models.js'),
          import('../../intoto/signing.js'),
          import('../../util/fs.js'),
        ]);
        const mb = models.parseMetablock(await readMetadataFile(file, 'metadata'), file);
        if (o.append !== true) mb.signatures = [];
        let keyid = '';
        for (const ref of o.key) keyid = (await signMetablock(mb, await signerOf(ref, o))).keyid;
        const out = o.output ?? (models.isLinkBlock(mb) ? models.linkFileName(mb.signed.name, keyid) : file);
        await writeFileAtomic(out, models.serializeMetablock(mb));
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
  inspectionTimeout?: string;
  inspectionDir?: string;
  maxInspectionOutput?: string;
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
    .option('--inspection-timeout <seconds>', 'time limit per inspection (default 60)')
    .option('--inspection-dir <dir>', 'directory whose files inspections see (default: current directory)')
    .option('--max-inspection-output <bytes>', 'stdout/stderr bytes kept per inspection (default 1 MiB)')
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
        const maxOut = bytes(o.maxInspectionOutput, '--max-inspection-output');
        await verifyLayout(mb, keys, {
          linkDir: o.linkDir,
          ...(params === undefined ? {} : { params }),
          inspections: {
            timeoutMs: seconds(o.inspectionTimeout, '--inspection-timeout', 60),
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

interface LayoutNewOptions extends KeyOptions {
  template: string;
  output: string;
  functionary: string[];
  threshold: string[];
  expires?: string;
  expiresInDays: string;
  bundleFile?: string;
  archiveFile?: string;
  sign?: string[];
}

async function publicKeyOf(ref: string, opts: KeyOptions) {
  const { promises: fsp } = await import('node:fs');
  const keys = await import('../../intoto/keys.js');
  if ((await fsp.stat(ref).catch(() => undefined))?.isFile() === true) return keys.loadPublicKeyFile(ref);
  const [{ KeyStore, defaultHome }, crypto] = await Promise.all([
    import('../../crypto/keystore.js'),
    import('../../crypto/index.js'),
  ]);
  const info = await new KeyStore(opts.home ?? defaultHome()).info(ref);
  return crypto.sslibPublicKeyOf(
    crypto.publicKeyObject(info.publicKey),
  ) as import('../../intoto/models.js').LayoutKey;
}

function registerLayout(intoto: Command): void {
  const layout = intoto.command('layout').description('create and check layouts');
  withCommon(layout.command('new'))
    .description('write a layout from a template (cnab: source → build → package + unpack inspection)')
    .option('-t, --template <name>', 'cnab or minimal', 'cnab')
    .option('-o, --output <file>', 'layout file to write', 'root.layout')
    .option('-f, --functionary <step=key>', 'functionary public key (file or key id) for a step', collect, [])
    .option('--threshold <step=n>', 'threshold of a step (default 1)', collect, [])
    .option('--expires <date>', 'expiry, e.g. 2030-01-01T00:00:00Z')
    .option('--expires-in-days <n>', 'expiry in days from now', '365')
    .option('--bundle-file <name>', 'cnab template: bundle file name', 'bundle.json')
    .option('--archive-file <name>', 'cnab template: thick bundle archive name', 'bundle.tgz')
    .option('-s, --sign <keys...>', 'sign the new layout with these keys')
    .action(runAction(async (o: LayoutNewOptions) => layoutNew(o)));
  withCommon(layout.command('lint <file>'))
    .description('report problems of a layout (unknown steps, unreachable rules, missing keys, expiry)')
    .action(
      runAction(async (file: string, o: KeyOptions) => {
        const [{ parseMetablock, isLayoutBlock }, { lintLayout }] = await Promise.all([
          import('../../intoto/models.js'),
          import('../../intoto/lint.js'),
        ]);
        const mb = parseMetablock(await readMetadataFile(file, 'layout'), file);
        if (!isLayoutBlock(mb)) throw new FormatError('INTOTO_BAD_FORMAT', `${file} is not a layout`);
        const issues = lintLayout(mb.signed);
        if (o.json) printJson({ path: file, issues });
        else for (const i of issues) printLine(`${i.severity}: ${i.where}: ${i.message}`);
        if (issues.some((i) => i.severity === 'error')) process.exitCode = 1;
        else if (o.json !== true) printLine(`${file}: no errors`);
      }),
    );
}

async function layoutNew(o: LayoutNewOptions): Promise<void> {
  const [{ layoutFromTemplate, TEMPLATE_NAMES }, models, { signMetablock }, { writeFileAtomic }] =
    await Promise.all([
      import('../../intoto/templates.js'),
      import('../../intoto/models.js'),
      import('../../intoto/signing.js'),
      import('../../util/fs.js'),
    ]);
  if (!(TEMPLATE_NAMES as readonly string[]).includes(o.template)) {
    throw new FormatError('INTOTO_BAD_FORMAT', `unknown template ${o.template}`, {
      hint: `use one of ${TEMPLATE_NAMES.join(', ')}`,
    });
  }
  const functionaries: Record<string, import('../../intoto/models.js').LayoutKey[]> = {};
  for (const [step, ref] of Object.entries(keyValuesMulti(o.functionary))) {
    functionaries[step] = await Promise.all(ref.map((r) => publicKeyOf(r, o)));
  }
  const thresholds = Object.fromEntries(
    Object.entries(keyValues(o.threshold, '--threshold')).map(([k, v]) => [k, Number(v)]),
  );
  const expires =
    o.expires ??
    new Date(Date.now() + days(o.expiresInDays, '--expires-in-days')).toISOString().replace(/\.\d{3}Z$/, 'Z');
  models.parseExpires(expires, '--expires');
  const layout = layoutFromTemplate(o.template as 'cnab' | 'minimal', {
    functionaries,
    thresholds,
    expires,
    ...(o.bundleFile === undefined ? {} : { bundleFile: o.bundleFile }),
    ...(o.archiveFile === undefined ? {} : { archiveFile: o.archiveFile }),
  });
  const mb = models.readMetablock({ signed: layout, signatures: [] }, o.output);
  for (const ref of o.sign ?? []) await signMetablock(mb, await signerOf(ref, o));
  await writeFileAtomic(o.output, models.serializeMetablock(mb));
  if (o.json)
    printJson({
      path: o.output,
      steps: layout.steps.map((s) => s.name),
      keyids: [...new Set(mb.signatures.map((s) => s.keyid))].sort(),
    });
  else printLine(o.output);
}

function keyValuesMulti(list: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of list.map(
    (kv) => Object.entries(keyValues([kv], '--functionary'))[0] as [string, string],
  )) {
    (out[k] ??= []).push(v);
  }
  return out;
}

function registerKeygen(intoto: Command): void {
  withCommon(intoto.command('keygen <name>'))
    .description('write <name> and <name>.pub in the in-toto-keygen format')
    .option('-t, --type <type>', 'ed25519, ecdsa or rsa', 'ed25519')
    .option('-p, --password', 'encrypt the private key (password from CNABSEC_PASSPHRASE_<NAME> or a prompt)')
    .action(
      runAction(async (name: string, o: KeyOptions & { type: string; password?: boolean }) => {
        const [crypto, { writeFileAtomic }, path] = await Promise.all([
          import('../../crypto/index.js'),
          import('../../util/fs.js'),
          import('node:path'),
        ]);
        if (!crypto.isKeyType(o.type)) throw new FormatError('INTOTO_BAD_KEY', `unknown key type ${o.type}`);
        const { privateKey } = crypto.generateKeyPair(o.type);
        const ask = await passphrasesOf(o);
        const password = o.password === true ? await ask(path.basename(name), undefined, true) : undefined;
        const files = crypto.sslibKeyFiles(privateKey, password);
        await writeFileAtomic(name, files.private, { mode: 0o600 });
        await writeFileAtomic(`${name}.pub`, files.public);
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
  registerSign(intoto);
  registerVerify(intoto);
  registerLayout(intoto);
  registerKeygen(intoto);
}
