/** `cnabsec intoto layout new|lint`: create and check in-toto layouts (split from ./commands/intoto.ts). */
import type { Command } from './args.js';
import type { KeyOptions } from './common.js';
import { FormatError } from '../intoto/errors.js';
import { readMetadataFile } from '../intoto/files.js';
import { printJson, printLine, runAction } from './output.js';
import { collect, keyValues, signerOf, withCommon } from './intoto-common.js';
import { TEMPLATE_NAMES } from '../intoto/templates.js';
import { expiryTime, integer, namedValues, oneOf, positiveInt } from './options.js';

interface LayoutNewOptions extends KeyOptions {
  template: string;
  output: string;
  functionary: string[];
  threshold: string[];
  expires: string;
  expiresInDays?: number;
  bundleFile?: string;
  archiveFile?: string;
  sign?: string[];
}

async function publicKeyOf(ref: string, opts: KeyOptions) {
  const { promises: fsp } = await import('node:fs');
  const keys = await import('../intoto/keys.js');
  if ((await fsp.stat(ref).catch(() => undefined))?.isFile() === true) return keys.loadPublicKeyFile(ref);
  const [{ KeyStore, defaultHome }, crypto] = await Promise.all([
    import('../crypto/keystore.js'),
    import('../crypto/index.js'),
  ]);
  const info = await new KeyStore(opts.home ?? defaultHome()).info(ref);
  return crypto.sslibPublicKeyOf(
    crypto.publicKeyObject(info.publicKey),
  ) as import('../intoto/models.js').LayoutKey;
}

export function registerLayout(intoto: Command): void {
  const layout = intoto.command('layout').description('create and check layouts');
  withCommon(layout.command('new'))
    .description('write a layout from a template (cnab: source → build → package + unpack inspection)')
    .option('-t, --template <name>', TEMPLATE_NAMES.join(' or '), oneOf(TEMPLATE_NAMES), 'cnab')
    .option('-o, --output <file>', 'layout file to write', 'root.layout')
    .option('-f, --functionary <step=key>', 'functionary public key (file or key id) for a step', collect, [])
    .option('--threshold <step=n>', 'threshold of a step (default 1)', namedValues(positiveInt), [])
    .option(
      '--expires <duration|time>',
      'expiry: a duration from now (180d) or a time (2030-01-01T00:00:00Z)',
      expiryTime,
      '365d',
    )
    .deprecatedOption('--expires-in-days <n>', '--expires <n>d', {
      parser: integer({ min: 1, max: 365_000 }, 'a positive number of days'),
    })
    .option('--bundle-file <name>', 'cnab template: bundle file name', 'bundle.json')
    .option('--archive-file <name>', 'cnab template: thick bundle archive name', 'bundle.tgz')
    .option('-s, --sign <keys...>', 'sign the new layout with these keys')
    .example('cnabsec intoto layout new -f source=dev.pub -f build=builder.pub -f package=packager.pub')
    .example('cnabsec intoto layout new -t minimal --expires 180d -o root.layout -s owner')
    .action(runAction(async (o: LayoutNewOptions) => layoutNew(o)));
  withCommon(layout.command('lint <file>'))
    .description('report problems of a layout (unknown steps, unreachable rules, missing keys, expiry)')
    .example('cnabsec intoto layout lint root.layout')
    .example('cnabsec intoto layout lint root.layout --json')
    .action(
      runAction(async (file: string, o: KeyOptions) => {
        const [{ parseMetablock, isLayoutBlock }, { lintLayout }] = await Promise.all([
          import('../intoto/models.js'),
          import('../intoto/lint.js'),
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
  const [{ layoutFromTemplate, TEMPLATE_NAMES }, models, { signMetablock }, { writeOutputFile }] =
    await Promise.all([
      import('../intoto/templates.js'),
      import('../intoto/models.js'),
      import('../intoto/signing.js'),
      import('./output-file.js'),
    ]);
  if (!(TEMPLATE_NAMES as readonly string[]).includes(o.template)) {
    throw new FormatError('INTOTO_BAD_FORMAT', `unknown template ${o.template}`, {
      hint: `use one of ${TEMPLATE_NAMES.join(', ')}`,
    });
  }
  const functionaries: Record<string, import('../intoto/models.js').LayoutKey[]> = {};
  for (const [step, ref] of Object.entries(keyValuesMulti(o.functionary))) {
    functionaries[step] = await Promise.all(ref.map((r) => publicKeyOf(r, o)));
  }
  const thresholds = Object.fromEntries(
    Object.entries(keyValues(o.threshold, '--threshold')).map(([k, v]) => [k, Number(v)]),
  );
  const expires =
    o.expiresInDays === undefined
      ? o.expires
      : new Date(Date.now() + o.expiresInDays * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
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
  await writeOutputFile(o.output, models.serializeMetablock(mb));
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
