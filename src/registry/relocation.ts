/**
 * Relocation maps (CNAB doc 103 "Relocation Mapping"): a JSON object from an image reference
 * as bundle.json names it to the reference it was copied to (`"example/app@sha256:…":
 * "my.registry/app@sha256:…"`). A map comes from a file the user gives (`readRelocationMap`)
 * or from a caller (bundleToOci's `relocationMap`); either way it is checked here first, so
 * that a number, null or object value, a huge map or a huge key is a REGISTRY_BAD_RELOCATION
 * naming the key, not a TypeError deep inside the layout code.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { errnoOf } from '../util/errno.js';
import { parseJsonBounded, quote } from '../util/json.js';
import { RegistryError } from './errors.js';

/** More images than any bundle has (doc 101 `images` + the invocation images). */
export const MAX_RELOCATION_ENTRIES = 4096;
/** Longer than the longest docker reference (255 + tag 128 + digest 71 + separators). */
export const MAX_RELOCATION_REF = 1024;
export const MAX_RELOCATION_FILE_BYTES = 4 * 1024 * 1024;

export type RelocationMap = Readonly<Record<string, string>>;

function badRelocation(source: string, why: string, details: Record<string, unknown> = {}): RegistryError {
  return new RegistryError('REGISTRY_BAD_RELOCATION', `${source}: ${why}`, {
    details: { source, ...details },
    hint: 'a relocation map is a JSON object {"<original image>": "<relocated image>"} of strings (CNAB doc 103)',
  });
}

/** "null", "an array", "an object", "a number"… for messages. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' || typeof v === 'undefined' ? `an ${typeof v}` : `a ${typeof v}`;
}

function checkRef(source: string, key: string, value: string, what: 'key' | 'value'): void {
  const shownKey = quote(key, 120);
  if (value.length === 0) throw badRelocation(source, `the ${what} of entry ${shownKey} is empty`, { key });
  if (value.length > MAX_RELOCATION_REF) {
    throw badRelocation(
      source,
      `the ${what} of entry ${shownKey} is ${value.length} characters, more than ${MAX_RELOCATION_REF}`,
      { key: key.slice(0, MAX_RELOCATION_REF) },
    );
  }
  // image references never hold whitespace or control characters
  if (/[\s\p{Cc}]/u.test(value))
    throw badRelocation(source, `the ${what} of entry ${shownKey} holds whitespace or a control character`, {
      key,
    });
}

/**
 * `value` as a relocation map: a plain object (not an array, not null) of at most
 * MAX_RELOCATION_ENTRIES entries, string keys and string values each 1..MAX_RELOCATION_REF
 * characters. The result is a fresh object with only those own entries (a `__proto__` key of a
 * parsed file is kept as an ordinary entry, never a prototype).
 */
export function checkRelocationMap(value: unknown, source = 'relocation map'): RelocationMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRelocation(source, `is ${kindOf(value)}, not a JSON object`);
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_RELOCATION_ENTRIES) {
    throw badRelocation(source, `has ${keys.length} entries, more than ${MAX_RELOCATION_ENTRIES}`, {
      entries: keys.length,
    });
  }
  const entries: [string, string][] = [];
  for (const key of keys) {
    checkRef(source, key, key, 'key');
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== 'string') {
      throw badRelocation(source, `entry ${quote(key, 120)} maps to ${kindOf(v)}, not a string`, { key });
    }
    checkRef(source, key, v, 'value');
    entries.push([key, v]);
  }
  return Object.fromEntries(entries);
}

/** Read at most `max` bytes of `file` (one more to tell that it is longer). */
function readAtMost(file: string, max: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw badRelocation(file, `is ${size} bytes, more than the limit of ${max}`, { size });
    const buf = Buffer.alloc(max + 1);
    let got = 0;
    for (let n = 1; n > 0 && got <= max; got += n) n = readSync(fd, buf, got, max + 1 - got, null);
    if (got > max) throw badRelocation(file, `is more than the limit of ${max} bytes`);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** A relocation map file (doc 103 JSON), bounded in size and checked by checkRelocationMap. */
export function readRelocationMap(file: string): RelocationMap {
  let bytes: Buffer;
  try {
    bytes = readAtMost(file, MAX_RELOCATION_FILE_BYTES);
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    const errno = errnoOf(e) ?? 'error';
    throw new RegistryError('REGISTRY_BAD_RELOCATION', `${file}: cannot be read (${errno})`, {
      cause: e,
      details: { source: file, errno },
      hint: 'give the path of a relocation map JSON file',
    });
  }
  let doc: unknown;
  try {
    doc = parseJsonBounded(bytes, { source: file, maxBytes: MAX_RELOCATION_FILE_BYTES });
  } catch (e) {
    throw new RegistryError('REGISTRY_BAD_RELOCATION', `${file}: is not valid JSON`, {
      cause: e,
      details: { source: file },
      hint: 'a relocation map is a JSON object {"<original image>": "<relocated image>"} (CNAB doc 103)',
    });
  }
  return checkRelocationMap(doc, file);
}
