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
 *  - integers only, within ±(2^53 − 1), no `-0` (canonical writes such integers only and
 *    refuses other numbers, ADR 0007; `-0` is written `0`);
 *  - object keys strictly increasing in every object (sorted, no duplicates), compared by
 *    their decoded contents without the quotes (UTF-8 byte order is code point order,
 *    python's `sorted`; with the closing quote, `"x "` would pass before `"x"`), and no `"`
 *    or `\` in a key (canonical escapes them, which would break that order).
 * Escapes become what canonical JSON writes: `\"` and `\\` stay, `\n` is a raw newline,
 * `\u00e9` the UTF-8 of é, and so on.
 */
import { isUtf8 } from 'node:buffer';
import { isObj, parseJson, readMetablock, type Metablock } from './models.js';
import { BACKSLASH, QUOTE, escapedString, safeIntegerEnd } from './signable-tokens.js';

/** Byte-wise comparison of two ranges of `b`: <0, 0, >0. */
function compareRanges(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = (b[s1 + i] as number) - (b[s2 + i] as number);
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/** Where `signed` lies in the canonical output, and whether its artifact maps are valid. */
interface Canonicalized {
  start: number;
  end: number;
  /** Every value of signed.materials and signed.products is an object of hex strings. */
  artifactsValid: boolean;
}

/**
 * One pass over a JSON text writing its canonical form to `out` (see the module comment);
 * returns where the top-level `signed` object lies in `out`, or undefined when the text
 * cannot be used. Keeps per open container (index = depth - 1): object or array, where (in
 * `out`) the previous key of an object lies, and whether its next string is a key.
 * One flat loop over every byte of links listing up to hundreds of thousands of artifacts,
 * kept in one function so that V8 optimizes it as a whole; the rare paths (escapes, hex
 * checks, key names) are functions of their own.
 */
function canonicalize(text: Buffer, out: Buffer): Canonicalized | undefined {
  const isObject: boolean[] = [];
  const expectKey: boolean[] = [];
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  let depth = 0;
  let o = 0;
  let signedStart = -1;
  let signedEnd = -1;
  let signedNext = false; // the last top-level key was "signed"
  // Artifact maps (signed.materials and signed.products, at depth 3; hash objects at 4):
  // whether the last key of signed named one, whether one is open, and what was seen.
  let artifactsNext = false;
  let inArtifacts = false;
  let artifactsValid = true;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text[i] as number;
    if (c === QUOTE) {
      const start = o;
      out[o++] = c;
      while ((c = text[++i] as number) !== QUOTE && c !== BACKSLASH) out[o++] = c;
      if (c === BACKSLASH) {
        // The rare string with escapes (stdout, non-ASCII paths): decoded off the hot loop.
        const rest = escapedString(text, i, out, o);
        if (rest === undefined) return undefined;
        i = rest.i;
        o = rest.o;
        if (rest.quoted && expectKey[depth - 1] === true) return undefined;
      }
      out[o++] = QUOTE;
      const d = depth - 1;
      if (expectKey[d] === true) {
        // Keys compare without their quotes: `"x"` sorts before `"x "` (the closing quote
        // 0x22 is above " " and "!", and must not take part in the comparison).
        const prevEnd = keyEnd[d] as number;
        if (
          prevEnd > 0 &&
          compareRanges(out, (keyStart[d] as number) + 1, prevEnd - 1, start + 1, o - 1) >= 0
        )
          return undefined;
        keyStart[d] = start;
        keyEnd[d] = o;
        expectKey[d] = false;
        if (depth === 1) signedNext = isSignedKey(out, start, o);
        else if (depth === 2 && signedStart >= 0 && signedEnd < 0)
          artifactsNext = isArtifactsKey(out, start, o);
      } else if (inArtifacts) {
        // a hash value: a hex digest (python: securesystemslib HASHDICT_SCHEMA)
        artifactsValid &&= depth === 4 && isHex(out, start + 1, o - 1);
      } else if (artifactsNext) {
        artifactsValid = artifactsNext = false; // materials or products is not an object
      }
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (inArtifacts || artifactsNext) {
      // only objects down to the hash objects, whose values are strings
      if (c === 0x7b) artifactsValid &&= depth < 4;
      else if (c !== 0x7d && c !== 0x2c && c !== 0x3a) artifactsValid = false;
      if (artifactsNext && c !== 0x3a) {
        inArtifacts = c === 0x7b;
        artifactsNext = false;
      }
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
      if (depth === 2) inArtifacts = false;
    } else if (c === 0x2c) {
      // ,
      if (isObject[depth - 1] === true) expectKey[depth - 1] = true;
      if (depth === 1) signedNext = false;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // A number token, copied whole (numbers are rare in links: off the per-byte path).
      const end = safeIntegerEnd(text, i);
      if (end < 0) return undefined;
      while (i < end) out[o++] = text[i++] as number;
      i--;
      continue;
    }
    out[o++] = c;
  }
  if (signedStart < 0 || signedEnd < 0) return undefined;
  return { start: signedStart, end: signedEnd, artifactsValid };
}

/**
 * Canonical bytes of the top-level `signed` object of `text` (a JSON object), or undefined
 * when they cannot be taken from the text (see the module comment), or when it is not JSON.
 */
export function signableFromText(bytes: Uint8Array): Buffer | undefined {
  return scanSignedText(bytes)?.signable;
}

/** The signed bytes taken from a text, and whether its artifact maps are valid. */
export interface SignedTextScan {
  signable: Buffer;
  artifactsValid: boolean;
}

/**
 * `signableFromText`, and whether every value of `signed.materials` and `signed.products`
 * is an object of hex digests (what reading a link checks of them).
 */
export function scanSignedText(bytes: Uint8Array): SignedTextScan | undefined {
  const text = asBuffer(bytes);
  try {
    JSON.parse(text.toString('utf8'));
  } catch {
    return undefined;
  }
  return scanJsonText(text);
}

/**
 * `signableFromText` for a text known to be JSON (the scan relies on it to end: strings are
 * closed), with whether the artifact maps are valid.
 */
function scanJsonText(text: Buffer): SignedTextScan | undefined {
  if (!isUtf8(text)) return undefined;
  warmUp();
  const out = Buffer.allocUnsafe(text.length);
  const signed = canonicalize(text, out);
  if (signed === undefined) return undefined;
  return { signable: out.subarray(signed.start, signed.end), artifactsValid: signed.artifactsValid };
}

/**
 * Run the scan once over a small text that takes every branch, so that the optimized code
 * V8 compiles in the middle of the first large scan has type feedback for them all: without
 * it, that code is thrown away at the first branch it had not seen (the end of `signed`)
 * and the second large link runs unoptimized again (~2x slower).
 */
let warmedUp = false;
function warmUp(): void {
  if (warmedUp) return;
  warmedUp = true;
  const sample = Buffer.from(
    '{"signatures": [{"keyid": "ab", "sig": "cd"}],\n "signed": {"a": [1, -2, true, false, null, {}, []],' +
      ' "b": "x\\n\\u00e9\\"\\ud83d\\ude00", "c": {"d": {"e": "f"}}}}',
  );
  canonicalize(sample, Buffer.alloc(sample.length));
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

const SIGNED = Buffer.from('"signed"');
const MATERIALS = Buffer.from('"materials"');
const PRODUCTS = Buffer.from('"products"');

/** Is `b[start..end)` (quotes included) the key `"materials"` or `"products"`? */
function isArtifactsKey(b: Buffer, start: number, end: number): boolean {
  const len = end - start;
  if (len === MATERIALS.length) return b.compare(MATERIALS, 0, len, start, end) === 0;
  return len === PRODUCTS.length && b.compare(PRODUCTS, 0, len, start, end) === 0;
}

/** 1 at the hex digits' byte values. */
const HEX_DIGIT = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/**
 * Is `b[start..end)` a non-empty run of hex digits? A table and no branch in the loop: this
 * runs over every digest of a link, and with range comparisons it took half the scan's time.
 */
function isHex(b: Buffer, start: number, end: number): boolean {
  if (start >= end) return false;
  let all = 1;
  for (let i = start; i < end; i++) all &= HEX_DIGIT[b[i] as number] as number;
  return all === 1;
}

/** Is `b[start..end)` (quotes included) the key `"signed"`? */
function isSignedKey(b: Buffer, start: number, end: number): boolean {
  return end - start === SIGNED.length && b.compare(SIGNED, 0, SIGNED.length, start, end) === 0;
}

/** The link fields python `Link.read` fills when absent (the signed bytes then differ from the text). */
const LINK_FIELDS = ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'];

/**
 * From this size on a link's signable bytes are taken from its text. The scan wins once the
 * JIT has optimized it; over smaller files it runs mostly unoptimized and canonicalizing the
 * parsed object is faster (bench/intoto-verify, whole process: links of 70 kB (M = 300) 3 ms
 * slower with the scan, of 230 kB (M = 1 000) 4 ms faster, of 2.3 MB (M = 10 000) ~40 % faster).
 */
export const SIGNABLE_TEXT_MIN_BYTES = 1 << 17;

/**
 * TEST ONLY: the environment variable that sets the threshold for a whole process (read once,
 * when this module loads), so that tests can send every link, however small, through the
 * fast path (`=0`), including in a spawned CLI. Not a tuning knob: the verdict is the same at
 * every threshold (the fast path yields the canonical bytes or nothing), only speed changes.
 */
export const SIGNABLE_TEXT_MIN_BYTES_ENV = 'CNABSEC_TEST_SIGNABLE_TEXT_MIN_BYTES';

function thresholdFromEnv(): number {
  const v = process.env[SIGNABLE_TEXT_MIN_BYTES_ENV];
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : SIGNABLE_TEXT_MIN_BYTES;
}

let minBytesDefault = thresholdFromEnv();

/**
 * TEST ONLY: set the default threshold of `parseMetablockWithSignable` (and so of `verifyLayout`)
 * for this process; without an argument, back to `SIGNABLE_TEXT_MIN_BYTES`. Returns the
 * previous value.
 */
export function setSignableTextMinBytes(bytes: number = SIGNABLE_TEXT_MIN_BYTES): number {
  const previous = minBytesDefault;
  minBytesDefault = Math.max(0, Math.floor(bytes));
  return previous;
}

/**
 * Parse a metadata file (as `parseMetablock`) and, for a link of at least `minBytes` whose
 * text is canonical up to whitespace and escapes, also return its signable bytes from the
 * text: for large links this replaces canonicalizing the parsed artifact maps, and the same
 * pass checks the artifact maps, which reading then need not walk again.
 */
export function parseMetablockWithSignable(
  bytes: Uint8Array,
  where = 'metadata',
  minBytes = minBytesDefault,
): { mb: Metablock; signable: Buffer | undefined } {
  const data = parseJson(bytes, where);
  const raw = isObj(data) ? data.signed : undefined;
  const complete = isObj(raw) && raw._type === 'link' && LINK_FIELDS.every((f) => f in raw);
  const scan = complete && bytes.length >= minBytes ? scanJsonText(asBuffer(bytes)) : undefined;
  const mb = readMetablock(data, where, { artifactsChecked: scan?.artifactsValid === true });
  return { mb, signable: scan?.signable };
}
