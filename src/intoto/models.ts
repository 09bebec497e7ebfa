/**
 * in-toto metadata models (in-toto spec 0.9 §4; python in-toto 1.3.1 `models/`): the signed
 * envelope (`Metablock`), `Link`, `Layout`, `Step`, `Inspection`.
 *
 * Documents are plain JSON objects. Reading checks them as python in-toto does and fills
 * the fields python fills when absent (e.g. `readme: ""`, `threshold: 1`), so the signed bytes
 * are the same python computes; unknown fields are kept and serialized back unchanged, so
 * parse → serialize round-trips the canonical bytes of any complete document.
 */
import { isUtf8 } from 'node:buffer';
import { JsonInputError, parseJsonBounded, quote } from '../util/json.js';
import { pyJsonDumps } from './canonical.js';
import { FormatError, preview } from './errors.js';
import { unpackRule } from './rules.js';

export type HashDict = Record<string, string>;
export type ArtifactMap = Record<string, HashDict>;
export type Rule = string[];

export interface Signature {
  keyid: string;
  sig: string;
  [extra: string]: unknown;
}

/** A functionary key as a layout lists it (securesystemslib public key form). */
export interface LayoutKey {
  keytype: string;
  scheme: string;
  keyid: string;
  keyid_hash_algorithms?: string[];
  keyval: { public: string; private?: string };
  subkeys?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** in-toto spec §4.2: link metadata, the evidence of a performed step. */
export interface Link {
  _type: 'link';
  name: string;
  command: unknown[];
  materials: ArtifactMap;
  products: ArtifactMap;
  byproducts: Record<string, unknown>;
  environment: Record<string, unknown>;
  [extra: string]: unknown;
}

interface SupplyChainItem {
  name: string;
  expected_materials: Rule[];
  expected_products: Rule[];
  [extra: string]: unknown;
}

/** in-toto spec §4.3.1: a step of the supply chain. */
export interface Step extends SupplyChainItem {
  _type: 'step';
  pubkeys: string[];
  expected_command: unknown[];
  threshold: number;
}

/** in-toto spec §4.3.2: a command the verifier runs. */
export interface Inspection extends SupplyChainItem {
  _type: 'inspection';
  run: unknown[];
}

/** in-toto spec §4.3: the supply chain layout. */
export interface Layout {
  _type: 'layout';
  expires: string;
  readme: string;
  keys: Record<string, LayoutKey>;
  steps: Step[];
  inspect: Inspection[];
  [extra: string]: unknown;
}

/** in-toto spec §4.1: the signed envelope. */
export interface Metablock<T extends Link | Layout = Link | Layout> {
  signed: T;
  signatures: Signature[];
  [extra: string]: unknown;
}

type Obj = Record<string, unknown>;

const HEX = /^[a-fA-F0-9]+$/;
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

function fail(where: string, message: string): FormatError {
  return new FormatError('INTOTO_BAD_FORMAT', `${where}: ${message}`, {
    details: { source: where },
    hint: 'the file is not in-toto metadata as python in-toto 1.3.1 reads it',
  });
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Obj, key: string, dflt: unknown): unknown {
  return key in o ? o[key] : dflt;
}

function expectType(o: Obj, want: string, where: string): void {
  if (!('_type' in o)) return;
  if (o._type !== want) throw fail(where, `_type must be "${want}", got ${preview(o._type)}`);
}

function readArtifacts(v: unknown, where: string, what: string, checked: boolean): ArtifactMap {
  if (!isObj(v)) throw fail(where, `${what} must be an object`);
  if (checked) return v as ArtifactMap;
  for (const path of Object.keys(v)) {
    const h = v[path];
    if (!isObj(h)) throw fail(where, `${what}[${quote(path)}] must be a hash object`);
    for (const alg in h) {
      const d = h[alg];
      if (typeof d !== 'string' || !HEX.test(d)) {
        throw fail(where, `${what}[${quote(path)}].${quote(alg)} must be a hex digest`);
      }
    }
  }
  return v as ArtifactMap;
}

/** How much of a document is already known to be valid (from a scan of its text). */
export interface ReadOptions {
  /** Every value of materials and products is an object of hex strings. */
  artifactsChecked?: boolean;
}

/** Check a link and fill python's defaults (python `Link.read`). */
export function readLink(data: unknown, where = 'link', opts: ReadOptions = {}): Link {
  const checked = opts.artifactsChecked === true;
  if (!isObj(data)) throw fail(where, 'link must be an object');
  expectType(data, 'link', where);
  const l: Obj = { ...data, _type: 'link' };
  l.name = field(data, 'name', null);
  l.materials = readArtifacts(field(data, 'materials', {}), where, 'materials', checked);
  l.products = readArtifacts(field(data, 'products', {}), where, 'products', checked);
  l.byproducts = field(data, 'byproducts', {});
  l.command = field(data, 'command', []);
  l.environment = field(data, 'environment', {});
  if (!isObj(l.byproducts)) throw fail(where, 'byproducts must be an object');
  if (!Array.isArray(l.command)) throw fail(where, 'command must be a list');
  if (!isObj(l.environment)) throw fail(where, 'environment must be an object');
  return l as Link;
}

function readRules(v: unknown, where: string, what: string): Rule[] {
  if (!Array.isArray(v)) throw fail(where, `${what} must be a list of rules`);
  for (const r of v) {
    try {
      unpackRule(r);
    } catch (e) {
      if (e instanceof FormatError) {
        throw new FormatError('INTOTO_BAD_RULE', `${where}: ${what}: ${e.message}`, {
          details: { source: where, rule: r },
          ...(e.hint === undefined ? {} : { hint: e.hint }),
        });
      }
      throw e;
    }
  }
  return v as Rule[];
}

function readItem(data: unknown, type: 'step' | 'inspection', where: string): Obj {
  if (!isObj(data)) throw fail(where, `${type} must be an object`);
  expectType(data, type, where);
  const name = field(data, 'name', null);
  if (typeof name !== 'string') throw fail(where, `${type} name must be a string`);
  const w = `${where}: ${type} ${quote(name)}`;
  return {
    ...data,
    _type: type,
    name,
    expected_materials: readRules(field(data, 'expected_materials', []), w, 'expected_materials'),
    expected_products: readRules(field(data, 'expected_products', []), w, 'expected_products'),
  };
}

/** Check a step and fill python's defaults (python `Step.read`). */
export function readStep(data: unknown, where = 'step'): Step {
  const s = readItem(data, 'step', where);
  const w = `${where}: step ${quote(s.name as string)}`;
  s.pubkeys = field(s, 'pubkeys', []);
  s.expected_command = field(s, 'expected_command', []);
  s.threshold = field(s, 'threshold', 1);
  if (!Array.isArray(s.pubkeys) || !s.pubkeys.every((k) => typeof k === 'string' && HEX.test(k))) {
    throw fail(w, 'pubkeys must be a list of hex key ids');
  }
  if (!Array.isArray(s.expected_command)) throw fail(w, 'expected_command must be a list');
  if (typeof s.threshold !== 'number' || !Number.isInteger(s.threshold)) {
    throw fail(w, 'threshold must be an integer');
  }
  return s as Step;
}

/** Check an inspection and fill python's defaults (python `Inspection.read`). */
export function readInspection(data: unknown, where = 'inspection'): Inspection {
  const s = readItem(data, 'inspection', where);
  s.run = field(s, 'run', []);
  if (!Array.isArray(s.run))
    throw fail(`${where}: inspection ${quote(s.name as string)}`, 'run must be a list');
  return s as Inspection;
}

/** Parse an `expires` value (ISO 8601, `YYYY-MM-DDTHH:MM:SSZ`) to epoch milliseconds. */
export function parseExpires(value: unknown, where = 'layout'): number {
  const m = typeof value === 'string' ? ISO8601.exec(value) : null;
  if (m === null) throw fail(where, `expires must look like 2030-01-01T00:00:00Z, got ${preview(value)}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw fail(where, `expires is not a valid date: ${preview(value)}`);
  }
  return t;
}

function readKeys(v: unknown, where: string): Record<string, LayoutKey> {
  if (!isObj(v)) throw fail(where, 'keys must be an object of key id → public key');
  for (const id in v) {
    const k = v[id];
    if (!HEX.test(id)) throw fail(where, `key id ${quote(id)} is not hex`);
    if (!isObj(k) || typeof k.keytype !== 'string' || !isObj(k.keyval) || !('public' in k.keyval)) {
      throw fail(where, `keys[${quote(id)}] is not a public key {keytype, scheme, keyval: {public}}`);
    }
    if ('private' in k.keyval && k.keyval.private !== '') {
      throw fail(where, `keys[${quote(id)}] contains a private key`);
    }
  }
  return v as Record<string, LayoutKey>;
}

/** Check a layout and fill python's defaults (python `Layout.read`). */
export function readLayout(data: unknown, where = 'layout'): Layout {
  if (!isObj(data)) throw fail(where, 'layout must be an object');
  expectType(data, 'layout', where);
  if (!Array.isArray(data.steps)) throw fail(where, 'steps must be a list');
  if (!Array.isArray(data.inspect)) throw fail(where, 'inspect must be a list');
  const l: Obj = { ...data, _type: 'layout' };
  l.steps = data.steps.map((s) => readStep(s, where));
  l.inspect = data.inspect.map((s) => readInspection(s, where));
  l.keys = readKeys(field(data, 'keys', {}), where);
  l.readme = field(data, 'readme', '');
  if (typeof l.readme !== 'string') throw fail(where, 'readme must be a string');
  parseExpires(data.expires, where);
  const seen = new Set<string>();
  for (const item of [...(l.steps as Step[]), ...(l.inspect as Inspection[])]) {
    if (seen.has(item.name))
      throw fail(where, `step and inspection names must be unique: ${quote(item.name)}`);
    seen.add(item.name);
  }
  return l as Layout;
}

function readSignatures(v: unknown, where: string): Signature[] {
  if (!Array.isArray(v)) throw fail(where, 'signatures must be a list');
  for (const s of v) {
    const ok =
      isObj(s) &&
      typeof s.keyid === 'string' &&
      HEX.test(s.keyid) &&
      ((typeof s.sig === 'string' && HEX.test(s.sig)) ||
        (typeof s.signature === 'string' && HEX.test(s.signature) && typeof s.other_headers === 'string'));
    if (!ok) throw fail(where, `malformed signature ${preview(s)}`);
  }
  return v as Signature[];
}

/** Check an envelope (python `Metablock.load`): `signed._type` selects link or layout. */
export function readMetablock(data: unknown, where = 'metadata', opts: ReadOptions = {}): Metablock {
  if (!isObj(data)) throw fail(where, 'metadata must be a JSON object {signed, signatures}');
  const signed = field(data, 'signed', {});
  const type = isObj(signed) ? signed._type : undefined;
  let out: Link | Layout;
  if (type === 'link') out = readLink(signed, where, opts);
  else if (type === 'layout') out = readLayout(signed, where);
  else throw fail(where, `signed._type must be "link" or "layout", got ${preview(type)}`);
  return { ...data, signed: out, signatures: readSignatures(field(data, 'signatures', []), where) };
}

/** Parse metadata file contents. */
export function parseMetablock(text: string | Uint8Array, where = 'metadata'): Metablock {
  return readMetablock(parseJson(text, where), where);
}

/**
 * Parse in-toto metadata text (a link, a layout): bounded (ADR 0007) before `JSON.parse`, so
 * a document nested deeper than `MAX_JSON_DEPTH` is refused before anything walks it, and
 * integers only, within ±(2^53 − 1), since those are all that canonicalize to what a python
 * peer signs (python in-toto accepts floats and big integers: a documented deviation,
 * docs/intoto.md). A refusal is an `INTOTO_BAD_FORMAT` naming the file, the
 * `JsonInputError` (`JSON_SYNTAX`, `JSON_TOO_DEEP`, `JSON_NUMBER_UNSAFE`) as its cause.
 */
export function parseJson(text: string | Uint8Array, where: string): unknown {
  if (typeof text !== 'string' && !isUtf8(text)) {
    // python reads metadata files as UTF-8 and fails; decoding with U+FFFD would verify.
    throw new FormatError('INTOTO_BAD_FORMAT', `${where}: not valid UTF-8`, {
      details: { source: where },
      hint: 'in-toto metadata files are UTF-8 JSON',
    });
  }
  try {
    return parseJsonBounded(text, { source: where, integersOnly: true });
  } catch (e) {
    if (!(e instanceof JsonInputError)) throw e;
    throw new FormatError('INTOTO_BAD_FORMAT', e.message, {
      cause: e,
      details: { source: where, json: e.code },
      ...(e.hint === undefined ? {} : { hint: e.hint }),
    });
  }
}

/** The file contents python's `Metablock.dump` writes (indent 1, sorted keys, ASCII). */
export function serializeMetablock(mb: Metablock, compact = false): string {
  return pyJsonDumps(mb, compact ? null : 1);
}

export function isLayoutBlock(mb: Metablock): mb is Metablock<Layout> {
  return mb.signed._type === 'layout';
}

export function isLinkBlock(mb: Metablock): mb is Metablock<Link> {
  return mb.signed._type === 'link';
}

/**
 * A step name that can name a link file in its directory: not empty, `.` or `..`, no `/`, `\`
 * or control character (python in-toto joins it into the path unchecked, so `-n ../x` wrote
 * outside the metadata directory). FormatError otherwise.
 */
export function checkStepName(step: string): string {
  // eslint-disable-next-line no-control-regex
  if (step === '' || step === '.' || step === '..' || /[/\\\u0000-\u001f\u007f]/.test(step)) {
    throw new FormatError('INTOTO_BAD_FORMAT', `step name ${quote(step)} cannot name a link file`, {
      details: { step },
      hint: 'give the step name of the layout: not empty, no / or \\, not . or .., no control characters',
    });
  }
  return step;
}

/** `<step>.<keyid[:8]>.link` (python `FILENAME_FORMAT`). */
export function linkFileName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}.link`;
}

/** Directory of a sublayout's links: `<step>.<keyid[:8]>` (python `SUBLAYOUT_LINK_DIR_FORMAT`). */
export function sublayoutDirName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}`;
}

/** A new, unsigned link. */
export function newLink(name: string, init: Partial<Omit<Link, '_type' | 'name'>> = {}): Link {
  return {
    _type: 'link',
    name,
    command: init.command ?? [],
    materials: init.materials ?? {},
    products: init.products ?? {},
    byproducts: init.byproducts ?? {},
    environment: init.environment ?? {},
  } as Link;
}
