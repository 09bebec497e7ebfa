/**
 * Layout templates (`cnabsec intoto layout new`). The `cnab` template is a ready supply chain
 * for a CNAB bundle, as doc 301 asks implementations to ship:
 *
 *   source   — developers record the source tree (e.g. `intoto record start|stop` around a
 *              reviewed checkout); its products are the source files.
 *   build    — the bundle is built from exactly those sources (materials MATCH source
 *              products) and creates the bundle file (default `bundle.json`).
 *   package  — the bundle file of the build is packed into the thick bundle archive
 *              (default `bundle.tgz`).
 *   inspection `unpack-bundle` — at verification the archive is unpacked; the archive must be
 *              the one packaged and the bundle file inside must be the one built.
 *
 * Binding rules use MATCH followed by DISALLOW of the same name: MATCH consumes the file only
 * when its hash equals the referenced link's, so a different file is left to the DISALLOW.
 * The `minimal` template is one step whose products are allowed as they are.
 */
import { FormatError } from './errors.js';
import type { Inspection, Layout, LayoutKey, Step } from './models.js';
import { ruleFromString } from './rules.js';

export interface TemplateOptions {
  /** Functionary keys per step name. */
  functionaries: Readonly<Record<string, readonly LayoutKey[]>>;
  /** Threshold per step name (default 1). */
  thresholds?: Readonly<Record<string, number>>;
  /** Expiry, `YYYY-MM-DDTHH:MM:SSZ`. */
  expires: string;
  /** Bundle file name (default bundle.json). */
  bundleFile?: string;
  /** Thick bundle archive name (default bundle.tgz). */
  archiveFile?: string;
  readme?: string;
}

export const TEMPLATE_NAMES = ['cnab', 'minimal'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const rules = (lines: string[]): string[][] => lines.map(ruleFromString);

function quote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function step(name: string, materials: string[], products: string[], o: TemplateOptions): Step {
  const keys = o.functionaries[name] ?? [];
  return {
    _type: 'step',
    name,
    expected_materials: rules(materials),
    expected_products: rules(products),
    pubkeys: keys.map((k) => k.keyid),
    expected_command: [],
    threshold: o.thresholds?.[name] ?? 1,
  };
}

function cnabItems(o: TemplateOptions): { steps: Step[]; inspect: Inspection[] } {
  const b = quote(o.bundleFile ?? 'bundle.json');
  const a = quote(o.archiveFile ?? 'bundle.tgz');
  const steps = [
    step('source', [], [], o),
    step(
      'build',
      ['MATCH * WITH PRODUCTS FROM source', 'DISALLOW *'],
      [`CREATE ${b}`, 'MATCH * WITH PRODUCTS FROM source', 'CREATE *', 'DISALLOW *'],
      o,
    ),
    step(
      'package',
      [`MATCH ${b} WITH PRODUCTS FROM build`, `DISALLOW ${b}`, 'ALLOW *'],
      [
        `CREATE ${a}`,
        `MATCH ${b} WITH PRODUCTS FROM build`,
        `DISALLOW ${b}`,
        'MATCH * WITH MATERIALS FROM package',
        'CREATE *',
        'DISALLOW *',
      ],
      o,
    ),
  ];
  const inspect: Inspection[] = [
    {
      _type: 'inspection',
      name: 'unpack-bundle',
      expected_materials: rules([
        `REQUIRE ${a}`,
        `MATCH ${a} WITH PRODUCTS FROM package`,
        `DISALLOW ${a}`,
        'ALLOW *',
      ]),
      expected_products: rules([
        `REQUIRE ${b}`,
        `MATCH ${b} WITH PRODUCTS FROM build`,
        `DISALLOW ${b}`,
        `MATCH ${a} WITH PRODUCTS FROM package`,
        `DISALLOW ${a}`,
        'ALLOW *',
      ]),
      run: ['tar', 'xzf', o.archiveFile ?? 'bundle.tgz', o.bundleFile ?? 'bundle.json'],
    },
  ];
  return { steps, inspect };
}

/** A new unsigned layout from a template. */
export function layoutFromTemplate(name: TemplateName, o: TemplateOptions): Layout {
  const wanted = name === 'cnab' ? ['source', 'build', 'package'] : ['build'];
  for (const s of Object.keys(o.functionaries)) {
    if (!wanted.includes(s)) {
      throw new FormatError('INTOTO_BAD_FORMAT', `template ${name} has no step ${s}`, {
        hint: `the steps of ${name} are ${wanted.join(', ')}`,
      });
    }
  }
  const items =
    name === 'cnab'
      ? cnabItems(o)
      : { steps: [step('build', ['ALLOW *'], ['ALLOW *'], o)], inspect: [] as Inspection[] };
  const keys: Record<string, LayoutKey> = {};
  for (const list of Object.values(o.functionaries)) for (const k of list) keys[k.keyid] = k;
  return {
    _type: 'layout',
    expires: o.expires,
    readme: o.readme ?? `CNAB supply chain (${name} template, cnabsec)`,
    keys,
    steps: items.steps,
    inspect: items.inspect,
  };
}
