/**
 * CNAB bundles as TUF targets (CNAB-Sec doc 301/303): the digest of a thin bundle is the
 * SHA-256 of its canonical `bundle.json` (CNAB doc 101 requires OLPC canonical JSON); the
 * digest of a thick bundle is the SHA-256 of the archive bytes, computed by streaming.
 * Target names are `<bundle repository>:<tag>`.
 */
import { canonicalize } from '@tufjs/canonical-json';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { CnabError } from './errors.js';
import { messageOf } from '../errors.js';
import { validateBundle } from './schema.js';
import { isTag, TAG_GRAMMAR } from '../tuf/names.js';
import {
  findUnsignableValue,
  JsonInputError,
  ONLY_INTEGERS_HINT,
  parseJsonBounded,
  quote,
} from '../util/json.js';
import { readUserFile } from '../util/fs.js';

export interface Digest {
  length: number;
  sha256: string;
}

/** The TUF target name of a bundle version: `<repository>:<tag>` (doc 301). */
export function bundleTargetName(repository: string, tag: string): string {
  if (!isTag(tag)) {
    throw new CnabError('INVALID_TAG', `tag ${quote(tag)} is refused: not in the OCI tag grammar`, {
      details: { tag: tag.slice(0, 129) },
      hint: TAG_GRAMMAR,
    });
  }
  return `${repository}:${tag}`;
}

/** Size of `file`, refusing anything but a regular file (a FIFO or /dev/zero never ends). */
async function regularFile(file: string): Promise<number> {
  const st = await fsp.stat(file);
  if (!st.isFile()) {
    throw new CnabError('BUNDLE_NOT_FOUND', `${file} is not a regular file`, {
      details: { path: file },
      hint: 'give the path of a bundle file, not a directory, device or pipe',
    });
  }
  return st.size;
}

async function readBundleFile(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    const size = await regularFile(file);
    if (size > MAX_BUNDLE_JSON_BYTES) {
      throw new CnabError(
        'BUNDLE_INVALID',
        `${file} is ${size} bytes, over the bundle.json limit of 16 MiB`,
        {
          details: { path: file, size },
          hint: 'a bundle.json is a small JSON document: give the bundle.json, not an archive or image',
        },
      );
    }
    bytes = await readUserFile(file, MAX_BUNDLE_JSON_BYTES); // traced with -v
  } catch (e) {
    if (e instanceof CnabError) throw e;
    throw new CnabError('BUNDLE_NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'check the path of the bundle.json and that it is readable',
    });
  }
  return bytes;
}

/** Largest bundle.json read (thin, or in an archive: see `TarLimits.maxBundleJsonBytes`). */
export const MAX_BUNDLE_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Parse a bundle.json behind the size and depth bounds (ADR 0007); JSON errors become
 * BUNDLE_INVALID_JSON (syntax) or BUNDLE_INVALID (too large, too deep), with the JSON code.
 */
function parseBundleJson(bytes: Uint8Array | string, where: string, integersOnly = false): unknown {
  try {
    return parseJsonBounded(bytes, { source: where, maxBytes: MAX_BUNDLE_JSON_BYTES, integersOnly });
  } catch (e) {
    if (!(e instanceof JsonInputError)) throw e;
    // 1e3, 1.0: JSON.parse would make integers of them, but canonical JSON has no such token
    const code =
      e.code === 'JSON_SYNTAX'
        ? 'BUNDLE_INVALID_JSON'
        : e.code === 'JSON_NUMBER_UNSAFE'
          ? 'BUNDLE_NOT_CANONICAL'
          : 'BUNDLE_INVALID';
    throw new CnabError(code, e.message, {
      cause: e,
      details: { path: where, jsonCode: e.code },
      hint:
        e.code === 'JSON_SYNTAX'
          ? 'the file is truncated or not a bundle.json; a CNAB bundle.json is a canonical JSON object (doc 101)'
          : (e.hint ?? 'the file is not a bundle.json'),
    });
  }
}

/**
 * Refuse what canonical JSON (OLPC, CNAB doc 101) cannot represent or what peers would
 * canonicalize differently: non-integer or unsafe numbers (`0.5`, `1e309`), lone surrogates,
 * keys whose UTF-16 and code-point orders differ (cnab-go sorts by bytes).
 */
function checkCanonicalizable(value: unknown, where: string): void {
  const bad = findUnsignableValue(value);
  if (bad === undefined) return;
  throw new CnabError('BUNDLE_NOT_CANONICAL', `${where}: ${bad.path || '/'}: ${bad.reason}`, {
    details: { path: where, pointer: bad.path },
    hint: bad.reason.startsWith('number')
      ? ONLY_INTEGERS_HINT
      : 'canonical JSON (CNAB doc 101) holds only integers and valid Unicode: change the value, e.g. to a string',
  });
}

/**
 * Check that `bytes` are a CNAB `bundle.json` valid against the CNAB schema, in canonical form and return the parsed bundle
 * with its digest. Not canonical → BUNDLE_NOT_CANONICAL (the digest would not be reproducible).
 */
export function checkThinBundle(
  bytes: Uint8Array,
  where: string,
): { bundle: Record<string, unknown>; digest: Digest } {
  const parsed = parseBundleJson(bytes, where, true);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CnabError('BUNDLE_INVALID', `${where} is not a JSON object`, {
      details: { path: where },
      hint: 'a bundle.json is a JSON object with schemaVersion, name, version and invocationImages (CNAB doc 101)',
    });
  }
  const bundle = parsed as Record<string, unknown>;
  checkCanonicalizable(bundle, where);
  validateBundle(bundle, where);
  const canonical = Buffer.from(canonicalize(bundle));
  if (!canonical.equals(Buffer.from(bytes))) {
    throw new CnabError('BUNDLE_NOT_CANONICAL', `${where} is not in canonical JSON form`, {
      details: { path: where },
      hint: 'CNAB requires canonical JSON (doc 101); rewrite it with `cnabsec bundle canonicalize <file>`',
    });
  }
  return {
    bundle,
    digest: { length: canonical.length, sha256: createHash('sha256').update(canonical).digest('hex') },
  };
}

export async function thinBundleDigest(file: string): Promise<Digest> {
  return checkThinBundle(await readBundleFile(file), file).digest;
}

/** The canonical form of any JSON bundle file (for `bundle canonicalize`). */
export async function canonicalizeBundleFile(file: string): Promise<Buffer> {
  const value = parseBundleJson(await readBundleFile(file), file);
  checkCanonicalizable(value, file);
  return Buffer.from(canonicalize(value));
}

/**
 * The canonical form of a bundle given as bytes or as a parsed value (for pushing to a
 * registry, doc 201: the config blob is the canonical bundle.json), after the same refusals
 * as `canonicalizeBundleFile`; the result is then checked with `checkThinBundle` by callers.
 */
export function canonicalBundleBytes(input: Uint8Array | object, where: string): Buffer {
  const value = input instanceof Uint8Array ? parseBundleJson(input, where) : input;
  checkCanonicalizable(value, where);
  return Buffer.from(canonicalize(value));
}

/** Streamed SHA-256 and length of a file (thick bundle archive): constant memory. */
export async function fileDigest(
  file: string,
  onProgress?: (bytes: number) => void,
  /** Also sees every chunk, in order (e.g. to decompress while hashing). */
  onChunk?: (chunk: Buffer) => Promise<void> | void,
): Promise<Digest> {
  const hash = createHash('sha256');
  let length = 0;
  try {
    await regularFile(file);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const buf = chunk as Buffer;
      hash.update(buf);
      length += buf.length;
      onProgress?.(length);
      if (onChunk !== undefined) await onChunk(buf);
    }
  } catch (e) {
    if (e instanceof CnabError) throw e; // from onChunk
    throw new CnabError('BUNDLE_NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'check the path of the bundle archive and that it is readable',
    });
  }
  return { length, sha256: hash.digest('hex') };
}
