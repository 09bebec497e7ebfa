/**
 * Bounded JSON: every JSON document cnabsec reads from a file, an archive or the network goes
 * through `parseJsonBounded`, which refuses, before `JSON.parse` and before anything walks the
 * result, a document that is larger than a limit or nested deeper than `MAX_JSON_DEPTH`
 * (recursive walkers would otherwise end in `RangeError: Maximum call stack size exceeded`).
 *
 * The same linear pass classifies number tokens, because JavaScript cannot carry them all
 * exactly: `JSON.parse` rounds integers beyond 2^53 and turns `1.0` into `1`. cnabsec signs
 * and verifies only integers in the safe range (ADR 0007): a token with a fraction or exponent,
 * or an integer outside ±(2^53 − 1), is reported so that signed-metadata readers refuse it.
 */
import { CnabsecError } from '../errors.js';

/** Deepest nesting of arrays and objects accepted anywhere (TUF, in-toto, bundle.json, keys). */
export const MAX_JSON_DEPTH = 64;

export type JsonInputErrorCode = 'JSON_SYNTAX' | 'JSON_TOO_DEEP' | 'JSON_TOO_LARGE' | 'JSON_NUMBER_UNSAFE';

/** A JSON document that cannot be read safely. `details.source` names the document. */
export class JsonInputError extends CnabsecError<JsonInputErrorCode> {}

export interface JsonScan {
  /** Deepest nesting seen (stops counting once past the limit). */
  depth: number;
  /** Offset of the first bracket past the limit, or -1. */
  tooDeepAt: number;
  /** First number token with a fraction or exponent (`1.0`, `1e3`), or undefined. */
  nonInteger: string | undefined;
  /** First integer token outside ±(2^53 − 1), or undefined. */
  unsafeInteger: string | undefined;
}

const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER).length; // 16

function isUnsafeIntegerToken(tok: string): boolean {
  const digits = tok[0] === '-' ? tok.slice(1) : tok;
  if (digits.length < MAX_SAFE_DIGITS) return false;
  if (digits.length > MAX_SAFE_DIGITS) return true;
  return digits > String(Number.MAX_SAFE_INTEGER);
}

/**
 * Index of the quote that closes the string opened at `open` (or the text's length): the next
 * quote not escaped by an odd run of backslashes. `indexOf` skips the string's body far faster
 * than a loop per character (links are mostly strings: paths and hashes).
 */
function stringEnd(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q !== -1; q = text.indexOf('"', q + 1)) {
    let b = q - 1;
    while (b > open && text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
  }
  return text.length;
}

/**
 * One pass over JSON text (need not be valid: `JSON.parse` judges that): nesting depth outside
 * strings, and the shape of number tokens. Linear in the length, no allocation per character.
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonScan {
  const out: JsonScan = { depth: 0, tooDeepAt: -1, nonInteger: undefined, unsafeInteger: undefined };
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > out.depth) out.depth = depth;
      if (depth > maxDepth) {
        out.tooDeepAt = i;
        return out;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let integer = true;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          integer = false;
          continue;
        }
        break;
      }
      const tok = text.slice(i, j);
      if (!integer) out.nonInteger ??= tok;
      else if (isUnsafeIntegerToken(tok)) out.unsafeInteger ??= tok;
      i = j - 1;
    }
  }
  return out;
}

export interface ParseJsonOptions {
  /** What the document is, for messages: a path, a role, a URL. */
  source: string;
  /** Largest accepted size in bytes (UTF-8), default unlimited. */
  maxBytes?: number;
  /** Deepest accepted nesting, default `MAX_JSON_DEPTH`. */
  maxDepth?: number;
  /**
   * Refuse numbers JavaScript cannot carry exactly (fractions, exponents, integers beyond
   * 2^53): for documents whose bytes are signed or verified. Default false.
   */
  integersOnly?: boolean;
}

/**
 * What every refusal of a number that is not a safe integer says (issue 12): the file is not
 * truncated, it holds a value signed metadata cannot carry (ADR 0007).
 */
/** The two-character escapes of a JSON string (RFC 8259 §7) that Python's json and Go's encoding/json both write. */
export const JSON_SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

export const ONLY_INTEGERS = 'CNAB and TUF allow only integers (between -(2^53-1) and 2^53-1)';
export const ONLY_INTEGERS_HINT =
  'write the number as an integer without fraction or exponent (1000, not 1e3 or 1000.0), or as a string: every TUF, in-toto and CNAB peer reads only those the same way';

/** Whether `e`, or an error in its `cause` chain, refused a number that is not a safe integer. */
export function isNonIntegerRefusal(e: unknown): boolean {
  for (let c: unknown = e, i = 0; c instanceof Error && i < 16; c = c.cause, i++)
    if (c instanceof JsonInputError && c.code === 'JSON_NUMBER_UNSAFE') return true;
  return false;
}

/** Printable, bounded form of a value quoted into a message. */
export function quote(value: string, max = 80): string {
  const s = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(s);
}

function toText(input: string | Uint8Array): string {
  if (typeof input === 'string') return input;
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

function byteLength(input: string | Uint8Array): number {
  return typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
}

/** Check a scanned document against the options; throws `JsonInputError`. */
export function checkJsonScan(scan: JsonScan, options: ParseJsonOptions): void {
  const details = { source: options.source };
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (scan.tooDeepAt >= 0) {
    throw new JsonInputError(
      'JSON_TOO_DEEP',
      `${options.source}: JSON nested deeper than ${maxDepth} levels (at offset ${scan.tooDeepAt})`,
      {
        hint: 'no metadata, link, layout or bundle.json nests that deep: the file is corrupt or hostile',
        details,
      },
    );
  }
  if (options.integersOnly === true) {
    const bad = scan.nonInteger ?? scan.unsafeInteger;
    if (bad !== undefined) {
      throw new JsonInputError(
        'JSON_NUMBER_UNSAFE',
        `${options.source}: number ${quote(bad, 40)} is not an integer: ${ONLY_INTEGERS}`,
        {
          hint: ONLY_INTEGERS_HINT,
          details: { ...details, number: bad.slice(0, 40) },
        },
      );
    }
  }
}

/** `JSON.parse` behind the size, depth and (optionally) number bounds. */
export function parseJsonBounded(input: string | Uint8Array, options: ParseJsonOptions): unknown {
  const size = byteLength(input);
  if (options.maxBytes !== undefined && size > options.maxBytes) {
    throw new JsonInputError(
      'JSON_TOO_LARGE',
      `${options.source}: ${size} bytes, more than the limit of ${options.maxBytes}`,
      { hint: 'the file is not one cnabsec wrote or accepts', details: { source: options.source, size } },
    );
  }
  const text = toText(input);
  checkJsonScan(scanJson(text, options.maxDepth ?? MAX_JSON_DEPTH), options);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonInputError(
      'JSON_SYNTAX',
      `${options.source}: malformed JSON (${(e as Error).message.slice(0, 120)})`,
      {
        cause: e,
        details: { source: options.source },
      },
    );
  }
}

/** Where a value is not one every peer signs the same way, and why. */
export interface UnsignableValue {
  /** JSON pointer-like path: `/custom/x`. */
  path: string;
  reason: string;
}

/** Python str ordering (by code point) of two JS strings. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800-DFFF) encode code points above FFFF: move them above E000-FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function keysOrderDiffers(keys: string[]): boolean {
  // UTF-16 order (what @tufjs/canonical-json sorts by) versus code point order (securesystemslib).
  const utf16 = [...keys].sort();
  const cp = [...keys].sort(compareCodePoints);
  return utf16.some((k, i) => k !== cp[i]);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `s` is valid Unicode (no unpaired surrogate). */
export function isWellFormedString(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

const ASTRAL_OR_HIGH = /[\ud800-\uffff]/;

/**
 * The first place in `value` that peers would canonicalize differently, or undefined: a
 * number that is not a safe integer, a non-JSON value, a lone surrogate in a string, or an
 * object whose keys sort differently by UTF-16 unit and by code point. Iterative (no stack
 * limit), so call it on values parsed through `parseJsonBounded` or built in memory.
 */
export function findUnsignableValue(value: unknown, root = ''): UnsignableValue | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, p] = stack.pop() as [unknown, string];
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'string') {
      if (!isWellFormedString(v))
        return { path: p, reason: 'string holds a lone surrogate (not valid Unicode)' };
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v))
        return { path: p, reason: `number ${v} is not an integer: ${ONLY_INTEGERS}` };
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([x, `${p}/${i}`]));
      continue;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.some((k) => ASTRAL_OR_HIGH.test(k))) {
        if (keys.some((k) => !isWellFormedString(k)))
          return { path: p, reason: 'key holds a lone surrogate (not valid Unicode)' };
        if (keysOrderDiffers(keys)) {
          return {
            path: p,
            reason:
              'keys sort differently by UTF-16 unit and by code point (python-tuf would reject the signature)',
          };
        }
      }
      for (const k of keys) stack.push([(v as Record<string, unknown>)[k], `${p}/${k}`]);
      continue;
    }
    return { path: p, reason: `${typeof v} is not a JSON value` };
  }
  return undefined;
}
