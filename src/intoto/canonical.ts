/**
 * The two JSON encodings python in-toto 1.3.1 uses, reproduced byte for byte:
 *
 * - `encodeCanonical`: securesystemslib `encode_canonical` (OLPC canonical JSON), the bytes
 *   that are signed: keys sorted by code point, no whitespace, only `\` and `"` escaped,
 *   strings otherwise raw (UTF-8 on output), integers only.
 * - `pyJsonDumps`: `json.dumps(obj, indent=1, separators=(",", ": "), sort_keys=True)` as
 *   `Metablock.dump` writes files (ASCII only, `\uXXXX` escapes, no trailing newline).
 *
 * `@tufjs/canonical-json` sorts keys by UTF-16 code unit, which differs from Python's code
 * point order for keys mixing astral characters and U+E000..U+FFFF; hence this own encoder.
 */
import { JSON_SHORT_ESCAPES, MAX_JSON_DEPTH, compareCodePoints, isWellFormedString } from '../util/json.js';
import { FormatError } from './errors.js';

/** Python str ordering (by code point) for two JS strings (kept exported here for users). */
export { compareCodePoints };

const NEEDS_CODEPOINT_SORT = /[\ud800-\uffff]/;

/** Object keys in Python's sorted() order. */
export function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  for (const k of keys) if (NEEDS_CODEPOINT_SORT.test(k)) return keys.sort(compareCodePoints);
  // Without such characters UTF-16 order is code point order. Files written by python (and
  // by us) already have sorted keys: one linear check then saves sorting large artifact maps.
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  return keys;
}

/** What canonString must look at: characters it escapes, and surrogates (to refuse lone ones). */
const CANON_SPECIAL = /[\\"\ud800-\udfff]/;

function canonString(s: string): string {
  if (!CANON_SPECIAL.test(s)) return `"${s}"`;
  if (!isWellFormedString(s)) {
    // UTF-8 has no lone surrogates: python's encode fails, Buffer would write U+FFFD.
    throw new FormatError('INTOTO_BAD_FORMAT', `cannot canonicalize a string with a lone surrogate`, {
      details: { string: s.slice(0, 80) },
    });
  }
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Integers within ±(2^53 − 1) only (ADR 0007): a double outside that range is not the integer
 * a python peer read from the same text, and floats are refused by securesystemslib.
 */
function canonNumber(v: number): string {
  if (!Number.isSafeInteger(v)) {
    throw new FormatError(
      'INTOTO_BAD_FORMAT',
      `cannot canonicalize number ${v}: not an integer between -(2^53-1) and 2^53-1`,
      { hint: 'in-toto metadata signed by cnabsec holds only such integers (ADR 0007)' },
    );
  }
  return String(v);
}

/** A value nested deeper than `MAX_JSON_DEPTH` (what no in-toto file parsed by cnabsec holds). */
function tooDeep(what: string): FormatError {
  return new FormatError(
    'INTOTO_BAD_FORMAT',
    `cannot ${what} a value nested deeper than ${MAX_JSON_DEPTH} levels`,
    {
      hint: 'in-toto metadata nests a few levels; a deeper (or circular) value is corrupt or hostile',
    },
  );
}

/** Appends UTF-8 text to a growing buffer (cheaper than building one huge string). */
class Writer {
  buf = Buffer.allocUnsafe(1 << 16);
  len = 0;
  write(s: string): void {
    // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit.
    if (this.len + s.length * 3 > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + s.length * 3));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.write(s, this.len, 'utf8');
  }
}

/** `obj` is at nesting level `depth` (1 for a top-level object). */
function canonObject(obj: Record<string, unknown>, w: Writer, depth: number): void {
  // Entries are gathered in a short string and written in pieces of a few KiB: one buffer
  // write per entry would dominate for links with many artifacts.
  let chunk = '{';
  let first = true;
  for (const k of sortedKeys(obj)) {
    const v = obj[k];
    chunk += first ? canonString(k) : `,${canonString(k)}`;
    first = false;
    const leaf = typeof v === 'string' ? canonString(v) : depth < MAX_JSON_DEPTH ? smallObject(v) : undefined;
    if (leaf !== undefined) {
      chunk += `:${leaf}`;
      if (chunk.length > 8192) {
        w.write(chunk);
        chunk = '';
      }
    } else {
      w.write(`${chunk}:`);
      chunk = '';
      canon(v, w, depth);
    }
  }
  w.write(`${chunk}}`);
}

/** Canonical text of a one-entry string object (a hash object), else undefined. */
function smallObject(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  let only: string | undefined;
  for (const k in v) {
    if (only !== undefined) return undefined;
    only = k;
  }
  if (only === undefined) return undefined;
  const x = (v as Record<string, unknown>)[only];
  return typeof x === 'string' ? `{${canonString(only)}:${canonString(x)}}` : undefined;
}

/** `v` is inside `outer` containers; recursion is bounded by `MAX_JSON_DEPTH`. */
function canon(v: unknown, w: Writer, outer: number): void {
  if (typeof v === 'string') w.write(canonString(v));
  else if (v === true) w.write('true');
  else if (v === false) w.write('false');
  else if (v === null) w.write('null');
  else if (typeof v === 'number') w.write(canonNumber(v));
  else if (typeof v === 'object' && outer >= MAX_JSON_DEPTH) throw tooDeep('canonicalize');
  else if (Array.isArray(v)) {
    w.write('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) w.write(',');
      canon(v[i], w, outer + 1);
    }
    w.write(']');
  } else if (typeof v === 'object') canonObject(v as Record<string, unknown>, w, outer + 1);
  else throw new FormatError('INTOTO_BAD_FORMAT', `cannot canonicalize a value of type ${typeof v}`);
}

/** The UTF-8 bytes that in-toto signs for `value` (securesystemslib encode_canonical). */
export function canonicalBytes(value: unknown): Buffer {
  const w = new Writer();
  canon(value, w, 0);
  return w.buf.subarray(0, w.len);
}

/** securesystemslib encode_canonical, as a string. */
export function encodeCanonical(value: unknown): string {
  return canonicalBytes(value).toString('utf8');
}

const ASCII_SAFE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
/** Python json's ensure_ascii string encoder. */
export function pyJsonString(s: string): string {
  if (ASCII_SAFE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i);
    const code = s.charCodeAt(i);
    const short = JSON_SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

function pyNumber(v: number): string {
  if (Number.isInteger(v)) return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return String(v);
}

function dumpInto(v: unknown, indent: string, step: string, out: string[], outer = 0): void {
  if (typeof v === 'object' && v !== null && outer >= MAX_JSON_DEPTH) throw tooDeep('serialize');
  if (typeof v === 'string') out.push(pyJsonString(v));
  else if (typeof v === 'number') out.push(pyNumber(v));
  else if (v === true) out.push('true');
  else if (v === false) out.push('false');
  else if (v === null || v === undefined) out.push('null');
  else if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push('[]');
      return;
    }
    const inner = indent + step;
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      out.push(i === 0 ? '\n' : ',\n', inner);
      dumpInto(v[i], inner, step, out, outer + 1);
    }
    out.push('\n', indent, ']');
  } else {
    const obj = v as Record<string, unknown>;
    const keys = sortedKeys(obj);
    if (keys.length === 0) {
      out.push('{}');
      return;
    }
    const inner = indent + step;
    out.push('{');
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      out.push(i === 0 ? '\n' : ',\n', inner, pyJsonString(k), ': ');
      dumpInto(obj[k], inner, step, out, outer + 1);
    }
    out.push('\n', indent, '}');
  }
}

/**
 * `json.dumps(value, indent=indent, separators=(",", ": "), sort_keys=True)`; with
 * `indent` null, the compact `separators=(",", ":")` form.
 */
export function pyJsonDumps(value: unknown, indent: number | null = 1): string {
  if (indent === null) {
    // Compact form: canonical layout but with ASCII escapes.
    return compactDump(value);
  }
  const out: string[] = [];
  dumpInto(value, '', ' '.repeat(indent), out);
  return out.join('');
}

function compactDump(v: unknown, outer = 0): string {
  if (typeof v === 'object' && v !== null && outer >= MAX_JSON_DEPTH) throw tooDeep('serialize');
  if (Array.isArray(v)) return `[${v.map((x) => compactDump(x, outer + 1)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    return `{${sortedKeys(obj)
      .map((k) => `${pyJsonString(k)}:${compactDump(obj[k], outer + 1)}`)
      .join(',')}}`;
  }
  if (typeof v === 'string') return pyJsonString(v);
  if (typeof v === 'number') return pyNumber(v);
  return v === undefined ? 'null' : JSON.stringify(v);
}
