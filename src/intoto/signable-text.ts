/**
 * The signable bytes of a metadata file read straight from its text, without canonicalizing
 * the parsed object: `{"signatures": [...], "signed": {...}}` with the whitespace outside
 * strings removed is the canonical JSON of `signed` (in-toto spec §4.1, securesystemslib
 * encode_canonical) whenever the text already is canonical up to whitespace, which is what
 * python in-toto (`Metablock.dump`: sorted keys, ASCII) and cnabsec write for links whose
 * strings need no escapes.
 *
 * The result is only given when that equality holds for every input, so a signature check
 * over it is the check over `canonicalBytes(parsed.signed)`; otherwise `undefined`, and the
 * caller canonicalizes the parsed object. The text is trusted to be valid JSON (callers run
 * `JSON.parse` on it first). Conditions, each because canonical JSON would differ:
 *  - no backslash anywhere (canonical writes `\u0041` as `A`, `\n` as a raw newline);
 *  - valid UTF-8 (canonical output is UTF-8 of the decoded text);
 *  - integers only, no `-0` (canonical writes integers; securesystemslib refuses floats);
 *  - object keys strictly increasing in every object (sorted, no duplicates; UTF-8 byte
 *    order is code point order, python's `sorted`).
 */
import { isUtf8 } from 'node:buffer';
import { isObj, parseJson, readMetablock, type Metablock } from './models.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Byte-wise comparison of two ranges of `b`: <0, 0, >0. */
function compareRanges(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = (b[s1 + i] as number) - (b[s2 + i] as number);
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/**
 * Canonical bytes of the top-level `signed` object of `text` (a JSON object), or undefined
 * when they cannot be taken from the text as is (see the module comment). One pass, no
 * allocation per token: this runs over links listing hundreds of thousands of artifacts.
 */
export function signableFromText(bytes: Uint8Array): Buffer | undefined {
  const text = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (text.indexOf(BACKSLASH) !== -1 || !isUtf8(text)) return undefined;
  const out = Buffer.allocUnsafe(text.length);
  // Per open container (index = depth - 1): object or array, and where (in `out`) the
  // previous key of an object lies; expectKey: the next string of this object is a key.
  const isObject: boolean[] = [];
  const expectKey: boolean[] = [];
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  let depth = 0;
  let o = 0;
  let signedStart = -1;
  let signedEnd = -1;
  let signedNext = false; // the last top-level key was "signed"
  let inNumber = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text[i] as number;
    if (c === QUOTE) {
      const start = o;
      out[o++] = c;
      while ((c = text[++i] as number) !== QUOTE) out[o++] = c;
      out[o++] = c;
      inNumber = false;
      const d = depth - 1;
      if (expectKey[d] === true) {
        const prevEnd = keyEnd[d] as number;
        if (prevEnd > 0 && compareRanges(out, keyStart[d] as number, prevEnd, start, o) >= 0)
          return undefined;
        keyStart[d] = start;
        keyEnd[d] = o;
        expectKey[d] = false;
        if (depth === 1) signedNext = isSignedKey(out, start, o);
      }
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      inNumber = false;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      // { or [
      if (depth === 1 && signedNext && c === 0x7b) signedStart = o;
      isObject[depth] = c === 0x7b;
      expectKey[depth] = c === 0x7b;
      keyEnd[depth] = 0;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      // } or ]
      depth--;
      if (depth === 1 && signedStart >= 0 && signedEnd < 0) signedEnd = o + 1;
    } else if (c === 0x2c) {
      // ,
      if (isObject[depth - 1] === true) expectKey[depth - 1] = true;
      if (depth === 1) signedNext = false;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (c === 0x2d && text[i + 1] === 0x30) return undefined; // -0, -0.x
      inNumber = true;
    } else if (inNumber && (c === 0x2e || c === 0x65 || c === 0x45)) {
      return undefined; // . e E: not an integer
    }
    out[o++] = c;
  }
  if (signedStart < 0 || signedEnd < 0) return undefined;
  return out.subarray(signedStart, signedEnd);
}

const SIGNED = Buffer.from('"signed"');

/** Is `b[start..end)` (quotes included) the key `"signed"`? */
function isSignedKey(b: Buffer, start: number, end: number): boolean {
  return end - start === SIGNED.length && b.compare(SIGNED, 0, SIGNED.length, start, end) === 0;
}

/** The link fields python `Link.read` fills when absent (the signed bytes then differ from the text). */
const LINK_FIELDS = ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'];

/**
 * Parse a metadata file (as `parseMetablock`) and, for a link whose text is canonical up to
 * whitespace, also return its signable bytes from the text: for large links this replaces
 * canonicalizing the parsed artifact maps when checking signatures.
 */
export function parseMetablockWithSignable(
  bytes: Uint8Array,
  where = 'metadata',
): { mb: Metablock; signable: Buffer | undefined } {
  const data = parseJson(bytes, where);
  const mb = readMetablock(data, where);
  const raw = (data as { signed?: unknown }).signed;
  const complete = isObj(raw) && raw._type === 'link' && LINK_FIELDS.every((f) => f in raw);
  return { mb, signable: complete ? signableFromText(bytes) : undefined };
}
