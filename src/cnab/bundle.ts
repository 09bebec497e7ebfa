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
import { quote } from '../util/json.js';

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

async function readBundleFile(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw new CnabError('BUNDLE_NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'check the path of the bundle.json and that it is readable',
    });
  }
}

/**
 * Check that `bytes` are a CNAB `bundle.json` valid against the CNAB schema, in canonical form and return the parsed bundle
 * with its digest. Not canonical → BUNDLE_NOT_CANONICAL (the digest would not be reproducible).
 */
export function checkThinBundle(
  bytes: Uint8Array,
  where: string,
): { bundle: Record<string, unknown>; digest: Digest } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new CnabError('BUNDLE_INVALID_JSON', `${where} is not JSON: ${messageOf(e)}`, {
      cause: e,
      details: { path: where },
      hint: 'the file is truncated or not a bundle.json; a CNAB bundle.json is a canonical JSON object (doc 101)',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CnabError('BUNDLE_INVALID', `${where} is not a JSON object`, {
      details: { path: where },
      hint: 'a bundle.json is a JSON object with schemaVersion, name, version and invocationImages (CNAB doc 101)',
    });
  }
  const bundle = parsed as Record<string, unknown>;
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
  const bytes = await readBundleFile(file);
  try {
    return Buffer.from(canonicalize(JSON.parse(bytes.toString('utf8'))));
  } catch (e) {
    throw new CnabError('BUNDLE_INVALID_JSON', `${file} is not JSON: ${messageOf(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'only a JSON file can be canonicalized; the file may be truncated',
    });
  }
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
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const buf = chunk as Buffer;
      hash.update(buf);
      length += buf.length;
      onProgress?.(length);
      if (onChunk !== undefined) await onChunk(buf);
    }
  } catch (e) {
    throw new CnabError('BUNDLE_NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`, {
      cause: e,
      details: { path: file },
      hint: 'check the path of the bundle archive and that it is readable',
    });
  }
  return { length, sha256: hash.digest('hex') };
}
