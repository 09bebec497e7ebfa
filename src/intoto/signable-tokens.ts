/**
 * The rare tokens of the signable-text scan (signable-text.ts), off its per-byte loop: string
 * escapes decoded as canonical JSON writes the character, and number tokens checked to be
 * what canonical JSON writes for their value.
 */

export const QUOTE = 0x22;
/** Added to decodeEscape's result for a `"` or `\\` (see there). */
const QUOTED = 128;
export const BACKSLASH = 0x5c;

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
 * character. Returns `consumed * 8 + written`, plus QUOTED when that is `\"` or `\\` (which
 * canonical JSON escapes too), or -1 when the text cannot be used (a lone surrogate).
 */
function decodeEscape(text: Uint8Array, i: number, out: Uint8Array, o: number): number {
  const e = text[i + 1] as number;
  if (e === QUOTE || e === BACKSLASH) {
    out[o] = BACKSLASH;
    out[o + 1] = e;
    return QUOTED + 2 * 8 + 2;
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
    return QUOTED + consumed * 8 + 2;
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

const MAX_SAFE_DIGITS = Buffer.from(String(Number.MAX_SAFE_INTEGER));

/**
 * End of the number token at `text[i]` when it is what canonical JSON writes for its value:
 * an integer within ±(2^53 − 1) (ADR 0007; `canonNumber` refuses others) and not `-0`
 * (written `0`). Otherwise -1. The text is JSON, so the token has no leading zero.
 */
export function safeIntegerEnd(text: Buffer, i: number): number {
  const digits = text[i] === 0x2d ? i + 1 : i;
  let j = digits;
  let c = text[j] as number;
  while (c >= 0x30 && c <= 0x39) c = text[++j] as number;
  if (c === 0x2e || c === 0x65 || c === 0x45) return -1; // fraction or exponent
  if (digits > i && text[digits] === 0x30) return -1; // -0
  const n = j - digits;
  if (n < MAX_SAFE_DIGITS.length) return j;
  if (n > MAX_SAFE_DIGITS.length) return -1;
  return text.compare(MAX_SAFE_DIGITS, 0, n, digits, j) <= 0 ? j : -1;
}

/**
 * The rest of a string from its first escape at `text[i]`, written to `out[o]`: where its
 * closing quote is, the output end, and whether it has a quote or backslash.
 */
export function escapedString(text: Buffer, i: number, out: Buffer, o: number) {
  let quoted = false;
  let c = BACKSLASH;
  for (; c !== QUOTE; c = text[++i] as number) {
    if (c !== BACKSLASH) {
      out[o++] = c;
      continue;
    }
    const r = decodeEscape(text, i, out, o);
    if (r < 0) return undefined;
    if (r >= QUOTED) quoted = true;
    i += ((r & (QUOTED - 1)) >> 3) - 1;
    o += r & 7;
  }
  return { i, o, quoted };
}
