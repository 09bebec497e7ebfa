/**
 * The signable bytes of a metadata file read straight from its text, without canonicalizing
 * the parsed object: `{"signatures": [...], "signed": {...}}` with the whitespace outside
 * strings removed and string escapes decoded as canonical JSON writes them is the canonical
 * JSON of `signed` (in-toto spec §4.1, securesystemslib encode_canonical) whenever the text
 * has sorted keys and integers only: what python in-toto (`Metablock.dump`) and cnabsec write.
 *
 * The result is only given when that equality holds for every input, so a signature check
 * over it is the check over `canonicalBytes(parsed.signed)`; otherwise `undefined`, and the
 * caller canonicalizes the parsed object. Conditions, each because canonical JSON would differ:
 *  - valid UTF-8, and no lone surrogate in a `\u` escape (canonical output is UTF-8);
 *  - integers only, no `-0` (canonical writes integers; securesystemslib refuses floats);
 *  - object keys strictly increasing in every object (sorted, no duplicates; UTF-8 byte
 *    order is code point order, python's `sorted`), and no `"` or `\` in a key (canonical
 *    escapes them, which would break that order).
 * Escapes become what canonical JSON writes: `\"` and `\\` stay, `\n` is a raw newline,
 * `\u00e9` the UTF-8 of é, and so on.
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

/** Value of the hex digit `c`, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** The code unit of the `\uXXXX` escape at `text[i]` (the backslash), or -1. */
function unicodeEscape(text: Uint8Array, i: number): number {
  if (text[i] !== BACKSLASH || text[i + 1] !== 0x75) return -1;
  let v = 0;
  for (let k = 2; k < 6; k++) {
    const d = hexDigit(text[i + k] as number);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

const SIMPLE_ESCAPES: Record<number, number> = { 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x2f: 0x2f };

/**
 * Decode the escape at `text[i]` (a backslash) into `out[o]` as canonical JSON writes the
 * character. Returns `consumed * 8 + written`, or -1 when the text cannot be used (a lone
 * surrogate), or -2 for a `"` or `\` (escaped in canonical JSON too).
 */
function decodeEscape(text: Uint8Array, i: number, out: Uint8Array, o: number): number {
  const e = text[i + 1] as number;
  if (e === QUOTE || e === BACKSLASH) {
    out[o] = BACKSLASH;
    out[o + 1] = e;
    return -2;
  }
  const simple = SIMPLE_ESCAPES[e];
  if (simple !== undefined) {
    out[o] = simple;
    return 2 * 8 + 1;
  }
  let cp = unicodeEscape(text, i);
  if (cp < 0) return -1; // not a JSON escape
  let consumed = 6;
  if (cp >= 0xd800 && cp <= 0xdfff) {
    const low = unicodeEscape(text, i + 6);
    if (cp > 0xdbff || low < 0xdc00 || low > 0xdfff) return -1;
    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    consumed = 12;
  }
  if (cp === QUOTE || cp === BACKSLASH) {
    out[o] = BACKSLASH;
    out[o + 1] = cp;
    return consumed * 8 + 2 + 0x10000; // flagged: the key check must refuse it
  }
  return consumed * 8 + writeUtf8(cp, out, o);
}

/** UTF-8 of code point `cp` (not a surrogate) at `out[o]`; returns the byte count. */
function writeUtf8(cp: number, out: Uint8Array, o: number): number {
  if (cp < 0x80) {
    out[o] = cp;
    return 1;
  }
  if (cp < 0x800) {
    out[o] = 0xc0 | (cp >> 6);
    out[o + 1] = 0x80 | (cp & 0x3f);
    return 2;
  }
  if (cp < 0x10000) {
    out[o] = 0xe0 | (cp >> 12);
    out[o + 1] = 0x80 | ((cp >> 6) & 0x3f);
    out[o + 2] = 0x80 | (cp & 0x3f);
    return 3;
  }
  out[o] = 0xf0 | (cp >> 18);
  out[o + 1] = 0x80 | ((cp >> 12) & 0x3f);
  out[o + 2] = 0x80 | ((cp >> 6) & 0x3f);
  out[o + 3] = 0x80 | (cp & 0x3f);
  return 4;
}

/**
 * One pass over a JSON text writing its canonical form to `out` (see the module comment);
 * each step returns false (or -1) when the text cannot be used. Holds per open container
 * (index = depth - 1): object or array, where (in `out`) the previous key of an object lies,
 * and whether the next string of an object is a key.
 */
class TextCanonicalizer {
  readonly out: Buffer;
  o = 0;
  signedStart = -1;
  signedEnd = -1;
  private depth = 0;
  private readonly isObject: boolean[] = [];
  private readonly expectKey: boolean[] = [];
  private readonly keyStart: number[] = [];
  private readonly keyEnd: number[] = [];
  private signedNext = false; // the last top-level key was "signed"
  private inNumber = false;

  constructor(private readonly text: Buffer) {
    this.out = Buffer.allocUnsafe(text.length);
  }

  run(): boolean {
    const { text, out } = this;
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as number;
      if (c === QUOTE) {
        i = this.string(i);
        if (i < 0) return false;
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        this.inNumber = false;
      } else {
        if (!this.token(c, text[i + 1])) return false;
        out[this.o++] = c;
      }
    }
    return this.signedStart >= 0 && this.signedEnd >= 0;
  }

  /** Copy the string whose opening quote is `text[i]`; returns the index of its closing quote. */
  private string(i: number): number {
    const { text, out } = this;
    const start = this.o;
    let o = start;
    let quoteInString = false;
    let c = QUOTE;
    out[o++] = c;
    while ((c = text[++i] as number) !== QUOTE) {
      if (c !== BACKSLASH) {
        out[o++] = c;
        continue;
      }
      const r = decodeEscape(text, i, out, o);
      if (r === -1) return -1;
      if (r === -2) {
        quoteInString = true;
        o += 2;
        i += 1;
      } else {
        quoteInString ||= r >= 0x10000;
        i += ((r & 0xffff) >> 3) - 1;
        o += r & 7;
      }
    }
    out[o++] = c;
    this.o = o;
    this.inNumber = false;
    const d = this.depth - 1;
    if (this.expectKey[d] === true && !this.key(d, start, quoteInString)) return -1;
    return i;
  }

  /** A key of the object at depth `d + 1` at `out[start..o)`: after the previous one? */
  private key(d: number, start: number, quoteInString: boolean): boolean {
    const prevEnd = this.keyEnd[d] as number;
    if (quoteInString) return false;
    if (prevEnd > 0 && compareRanges(this.out, this.keyStart[d] as number, prevEnd, start, this.o) >= 0) {
      return false;
    }
    this.keyStart[d] = start;
    this.keyEnd[d] = this.o;
    this.expectKey[d] = false;
    if (d === 0) this.signedNext = isSignedKey(this.out, start, this.o);
    return true;
  }

  /** A byte outside strings other than whitespace; `next` is the byte after it. */
  private token(c: number, next: number | undefined): boolean {
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (c === 0x2d && next === 0x30) return false; // -0, -0.x
      this.inNumber = true;
      return true;
    }
    // Outside strings "." "E" "+" occur only in non-integers, "e" also in true and false.
    if (c === 0x2e || c === 0x45 || c === 0x2b || (c === 0x65 && this.inNumber)) return false;
    this.inNumber = false;
    const depth = this.depth;
    if (c === 0x7b || c === 0x5b) {
      // { or [
      if (depth === 1 && this.signedNext && c === 0x7b) this.signedStart = this.o;
      this.isObject[depth] = c === 0x7b;
      this.expectKey[depth] = c === 0x7b;
      this.keyEnd[depth] = 0;
      this.depth++;
    } else if (c === 0x7d || c === 0x5d) {
      // } or ]
      this.depth--;
      if (depth === 2 && this.signedStart >= 0 && this.signedEnd < 0) this.signedEnd = this.o + 1;
    } else if (c === 0x2c) {
      // ,
      if (this.isObject[depth - 1] === true) this.expectKey[depth - 1] = true;
      if (depth === 1) this.signedNext = false;
    }
    return true;
  }
}

/**
 * Canonical bytes of the top-level `signed` object of `text` (a JSON object), or undefined
 * when they cannot be taken from the text (see the module comment), or when it is not JSON.
 */
export function signableFromText(bytes: Uint8Array): Buffer | undefined {
  const text = asBuffer(bytes);
  try {
    JSON.parse(text.toString('utf8'));
  } catch {
    return undefined;
  }
  return signableFromJsonText(text);
}

/**
 * `signableFromText` for a text known to be JSON (the scan relies on it to end: strings are
 * closed). One pass, no allocation per token: this runs over links listing hundreds of
 * thousands of artifacts.
 */
function signableFromJsonText(text: Buffer): Buffer | undefined {
  if (!isUtf8(text)) return undefined;
  const scan = new TextCanonicalizer(text);
  return scan.run() ? scan.out.subarray(scan.signedStart, scan.signedEnd) : undefined;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

const SIGNED = Buffer.from('"signed"');

/** Is `b[start..end)` (quotes included) the key `"signed"`? */
function isSignedKey(b: Buffer, start: number, end: number): boolean {
  return end - start === SIGNED.length && b.compare(SIGNED, 0, SIGNED.length, start, end) === 0;
}

/** The link fields python `Link.read` fills when absent (the signed bytes then differ from the text). */
const LINK_FIELDS = ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'];

/**
 * From this size on a link's signable bytes are taken from its text. The scan wins once the
 * JIT has optimized it; over smaller files it runs mostly unoptimized and canonicalizing the
 * parsed object is as fast (bench/intoto-verify: M = 1 000 is 230 kB per link, 10 000 2.3 MB).
 */
export const SIGNABLE_TEXT_MIN_BYTES = 1 << 20;

/**
 * Parse a metadata file (as `parseMetablock`) and, for a link of at least `minBytes` whose
 * text is canonical up to whitespace and escapes, also return its signable bytes from the
 * text: for large links this replaces canonicalizing the parsed artifact maps.
 */
export function parseMetablockWithSignable(
  bytes: Uint8Array,
  where = 'metadata',
  minBytes = SIGNABLE_TEXT_MIN_BYTES,
): { mb: Metablock; signable: Buffer | undefined } {
  const data = parseJson(bytes, where);
  const mb = readMetablock(data, where);
  if (bytes.length < minBytes) return { mb, signable: undefined };
  const raw = (data as { signed?: unknown }).signed;
  const complete = isObj(raw) && raw._type === 'link' && LINK_FIELDS.every((f) => f in raw);
  return { mb, signable: complete ? signableFromJsonText(asBuffer(bytes)) : undefined };
}
