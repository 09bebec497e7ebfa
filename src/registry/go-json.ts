/**
 * JSON exactly as Go's `encoding/json` writes it, so that the manifests and the index we build
 * hash to the digests cnab-to-oci computes for the same bundle (its `json.Marshal` of the
 * image-spec v1.1.1 structs). What Go does and JavaScript's `JSON.stringify` does not:
 * - struct fields come in declaration order (callers build a `Map` in that order);
 * - map keys are sorted by their bytes (callers pass `goMap(record)`);
 * - strings escape `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026` (HTML-safe, the default of
 *   `json.Marshal`), and U+2028 / U+2029 as `\u2028` / `\u2029`;
 * - control characters use `\b \f \n \r \t` (Go ≥ 1.22) or `\u00XX` with lowercase hex.
 * `MarshalIndent` (used by docker/distribution's schema2 manifest) is `goJson(v, '   ')`.
 */
import { JSON_SHORT_ESCAPES } from '../util/json.js';

/** A value to encode: a `Map` is an object whose entries are written in insertion order. */
export type GoValue = null | boolean | number | string | readonly GoValue[] | GoObject;
export type GoObject = ReadonlyMap<string, GoValue>;

/** A Go-encoded JSON string literal (escapeHTML on, as `json.Marshal`). */
export function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = JSON_SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (ch < ' ' || ch === '<' || ch === '>' || ch === '&' || ch === '\u2028' || ch === '\u2029')
      out += '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
    else if (ch.length === 1 && ch >= '\ud800' && ch <= '\udfff')
      out += '\\ufffd'; // lone surrogate: Go writes U+FFFD
    else out += ch;
  }
  return out + '"';
}

/** A Go map[string]…: entries sorted by the UTF-8 bytes of their keys, as Go does. */
export function goMap(record: Readonly<Record<string, GoValue>>): GoObject {
  const keys = Object.keys(record).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return new Map(keys.map((k) => [k, record[k] as GoValue]));
}

/** Go's encoding of `value`: compact (`json.Marshal`) or `json.MarshalIndent(v, "", indent)`. */
export function goJson(value: GoValue, indent = ''): string {
  return encode(value, indent, '');
}

function encode(value: GoValue, indent: string, prefix: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`goJson: only safe integers, got ${value}`);
    return String(value);
  }
  const inner = prefix + indent;
  const open = indent === '' ? '' : '\n' + inner;
  const sep = indent === '' ? ',' : ',\n' + inner;
  const close = indent === '' ? '' : '\n' + prefix;
  if (isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + open + value.map((v) => encode(v, indent, inner)).join(sep) + close + ']';
  }
  if (value.size === 0) return '{}';
  const colon = indent === '' ? ':' : ': ';
  const parts = [...value].map(([k, v]) => goString(k) + colon + encode(v, indent, inner));
  return '{' + open + parts.join(sep) + close + '}';
}

function isArray(value: readonly GoValue[] | GoObject): value is readonly GoValue[] {
  return Array.isArray(value);
}
