// The `--json` contract of docs/cli-json.md for tests: its schemas (one ```json schema block per
// `### \`cnabsec <command>\`` section), the command tree of the built CLI, and the glossary
// rules every document must keep.
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { runCli } from './cli.js';
import { groupSubcommands } from './command-tree.js';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;

export const DOC = new URL('../../docs/cli-json.md', import.meta.url);

/** The schemas of docs/cli-json.md: {defs, error, sections: Map(command path -> schema)}. */
export async function loadContract() {
  const text = await readFile(DOC, 'utf8');
  const block = (info, where) => {
    const m = new RegExp('```json ' + info + '\\n([\\s\\S]*?)\\n```').exec(where);
    return m === null ? undefined : JSON.parse(m[1]);
  };
  const defs = block('schema-defs', text);
  const error = block('schema-error', text);
  const sections = new Map();
  const parts = text.split(/^### `cnabsec ([^`]+)`[ \t]*$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const body = parts[i + 1].split(/^##? /m)[0];
    if (sections.has(parts[i])) throw new Error(`docs/cli-json.md: two sections for ${parts[i]}`);
    sections.set(parts[i], block('schema', body));
  }
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  ajv.addSchema(defs);
  const compiled = new Map();
  let n = 0;
  const compile = (schema) => ajv.compile({ $id: `s${n++}.json`, ...schema });
  return {
    defs,
    error: compile(error),
    warnings: ajv.getSchema('defs.json#/$defs/warnings'),
    sections,
    validator(command) {
      if (!compiled.has(command)) compiled.set(command, compile(sections.get(command)));
      return compiled.get(command);
    },
  };
}

/** `$comment` kind of a section's schema: 'passthrough', 'no-json' or undefined. */
export function kindOf(schema) {
  const c = schema?.$comment ?? '';
  return c.startsWith('passthrough') ? 'passthrough' : c.startsWith('no-json') ? 'no-json' : undefined;
}

/**
 * The glossary problems of `doc` that the section's schema does not exempt: a `$comment`
 * `glossary-exempt <path>: why` exempts that one path (e.g. `$.version` of `cnabsec version`).
 */
export function sectionGlossaryProblems(schema, doc) {
  const m = /^glossary-exempt (\$\S*):/.exec(schema?.$comment ?? '');
  return glossaryProblems(doc).filter((p) => m === null || !p.startsWith(`${m[1]}: `));
}

function leaves(cmd, prefix, out) {
  for (const c of cmd.commands) {
    const p = prefix === '' ? c.name() : `${prefix} ${c.name()}`;
    if (c.commands.length === 0) out.add(p);
    else leaves(c, p, out);
  }
  return out;
}

/** The commands `cnabsec <args> --help` lists ([] for a leaf command). */
const helpCommands = (args) => new Set(groupSubcommands(runCli([...args, '--help']).stdout));

/**
 * Every runnable (leaf) command path of the CLI: the command tree of every module in
 * dist/cli/commands, plus any command `cnabsec --help` lists that no module registers
 * (followed down through `<group> --help`).
 */
export async function cliCommands() {
  const { Command } = await import('../../dist/cli/args.js');
  const program = new Command('cnabsec');
  const dir = new URL('../../dist/cli/commands/', import.meta.url);
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.js')).sort()) {
    const m = await import(new URL(f, dir).href);
    if (typeof m.register === 'function') m.register(program);
  }
  const out = leaves(program, '', new Set());
  const walk = (path) => {
    const subs = helpCommands(path);
    if (subs.size === 0) out.add(path.join(' '));
    for (const s of subs)
      if (![...out].some((c) => `${c} `.startsWith(`${[...path, s].join(' ')} `))) walk([...path, s]);
  };
  for (const top of helpCommands([])) if (![...out].some((c) => `${c} `.startsWith(`${top} `))) walk([top]);
  return [...out].sort();
}

const FORBIDDEN = new Map([
  ['digest', 'hashes.sha256'],
  ['hash', 'hashes'],
  ['keyId', 'keyid'],
  ['keyID', 'keyid'],
  ['key_id', 'keyid'],
  ['keyIds', 'keyids'],
  ['keyIDs', 'keyids'],
  ['key_ids', 'keyids'],
  ['target', 'name'],
  ['repository', 'name'],
  ['file', 'path'],
  ['expiry', 'expires'],
  ['expiration', 'expires'],
  ['size', 'length'],
]);
/** Free-form members the glossary does not reach into (user data, TUF keys, error facts). */
const OPAQUE = new Set(['custom', 'bundle', 'details', 'newKeys', 'publicKey']);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Glossary violations in `doc` (docs/cli-json.md "Field glossary"), as "where: what" lines. */
export function glossaryProblems(doc) {
  const out = [];
  const walk = (v, where, parent) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${where}[${i}]`, parent));
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const at = `${where}.${k}`;
      if (FORBIDDEN.has(k)) out.push(`${at}: use ${FORBIDDEN.get(k)}`);
      if (k === 'sha256' && parent !== 'hashes') out.push(`${at}: sha256 belongs in hashes`);
      if (k === 'keyid' && !(typeof x === 'string' && HEX64.test(x))) out.push(`${at}: not a key id`);
      if (
        k === 'keyids' ||
        ((k === 'added' || k === 'removed' || k === 'valid' || k === 'missing') && Array.isArray(x))
      ) {
        const sorted = Array.isArray(x) ? [...new Set(x)].sort() : undefined;
        if (JSON.stringify(sorted) !== JSON.stringify(x)) out.push(`${at}: key ids not sorted and unique`);
      }
      if (k === 'expires' && x !== null && !(typeof x === 'string' && ISO.test(x)))
        out.push(`${at}: not ISO 8601`);
      if (k === 'hashes' && !(x !== null && typeof x === 'object' && HEX64.test(x.sha256 ?? '')))
        out.push(`${at}: no sha256`);
      if (k === 'length' && !(Number.isSafeInteger(x) && x >= 0)) out.push(`${at}: not a length`);
      if ((k === 'version' || k === 'threshold') && !(Number.isSafeInteger(x) && x >= 1))
        out.push(`${at}: not >= 1`);
      if (!OPAQUE.has(k)) walk(x, at, k);
    }
  };
  walk(doc, '$', '');
  return out;
}

/**
 * Internals that must never reach a user, in stdout or stderr: a JS class name, a stack frame,
 * `[object Object]`, an internal error, or a temporary path outside `ownTemp` (the test's own).
 */
export function leakProblems(text, ownTemp) {
  const out = [];
  const cls = /\b(?:[A-Z][A-Za-z]*Error|Cnabsec[A-Z][A-Za-z]*)\b/.exec(text);
  if (cls !== null) out.push(`class name ${cls[0]}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(text)) out.push('a stack trace');
  if (text.includes('[object Object]')) out.push('[object Object]');
  if (/internal error/i.test(text)) out.push('an internal error');
  const tmp = tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const m of text.matchAll(new RegExp(`${tmp}/[^\\s"'\`,)]+`, 'g')))
    if (!m[0].startsWith(ownTemp)) out.push(`a temporary path it made: ${m[0]}`);
  return out;
}
