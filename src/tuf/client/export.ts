/**
 * `cnabsec trust export` (ADR 0030): what an offline site needs to run the TUF client workflow
 * (§5.3-5.6) for some targets without the network — collected from a client that has just
 * updated: the root chain (`N.root.json`, as served), the timestamp, snapshot, targets and every
 * delegated targets role the lookups trusted (the bytes of the metadata cache, which tuf-js
 * writes as downloaded), and the target files asked for (downloaded through TUF: length and
 * hashes checked). Nothing here decides what a target means (the cnab layer picks them).
 */
import { Metadata, type Root, type TargetFile } from '@tufjs/models';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { kindOf } from '../policy.js';
import { TufError } from '../errors.js';
import { isNotFound } from '../../util/errno.js';
import { quote } from '../../util/json.js';
import { checkMetadataBytes, ROOT_MAX_BYTES } from './guard.js';
import { wrapClientError } from './errors.js';
import type { TrustClient } from './trust.js';

/** Most root versions exported below the current one. */
export const MAX_ROOT_CHAIN = 1024;

export interface ExportedMetadata {
  /** File name in a TUF metadata repository: `3.root.json`, `timestamp.json`, `targets%2Fx.json`. */
  file: string;
  role: string;
  version: number;
  bytes: Buffer;
}

export interface ExportedTarget {
  path: string;
  info: TargetFile;
  bytes: Buffer;
}

export interface ExportedTrust {
  metadata: ExportedMetadata[];
  targets: ExportedTarget[];
}

function rootOf(bytes: Uint8Array, where: string): Metadata<Root> {
  return Metadata.fromJSON(kindOf('root') as never, checkMetadataBytes(where, bytes, 'root') as never);
}

/**
 * The roots below the current one, newest first, as the metadata URL serves them: each must
 * sign the next one by a threshold of its root keys (TUF §5.3.4), so the chain an importer walks
 * is a chain; the walk down stops at the first version missing (or not linking).
 */
async function rootChain(client: TrustClient, current: Buffer): Promise<ExportedMetadata[]> {
  let newer = rootOf(current, 'root.json');
  const out: ExportedMetadata[] = [
    {
      file: `${newer.signed.version}.root.json`,
      role: 'root',
      version: newer.signed.version,
      bytes: current,
    },
  ];
  const base = client.metadataUrl.replace(/\/+$/, '');
  for (let v = newer.signed.version - 1; v >= 1 && out.length <= MAX_ROOT_CHAIN; v--) {
    let bytes: Buffer;
    try {
      bytes = await client.fetcher.downloadBytes(`${base}/${v}.root.json`, ROOT_MAX_BYTES);
    } catch (e) {
      if (e instanceof DownloadHTTPError || (e instanceof TufError && e.code === 'TUF_DOWNLOAD_FAILED'))
        break;
      throw wrapClientError(e, client.name, client.fetcher);
    }
    let older: Metadata<Root>;
    try {
      older = rootOf(bytes, `${v}.root.json`);
      if (older.signed.version !== v) break;
      older.verifyDelegate('root', newer);
    } catch {
      break; // not the predecessor of `newer`: an importer pinned below it cannot walk to it
    }
    out.push({ file: `${v}.root.json`, role: 'root', version: v, bytes });
    newer = older;
  }
  return out.reverse();
}

async function cached(client: TrustClient, role: string, version: number): Promise<ExportedMetadata> {
  const file = path.join(client.cacheDir, `${encodeURIComponent(role)}.json`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new TufError('TRUST_STORE_IO', `cannot read ${file}: ${isNotFound(e) ? 'missing' : String(e)}`, {
      cause: e,
      details: { path: file, role },
      hint: 'the metadata cache changed while the export ran; run the export again',
    });
  }
  const signed = (checkMetadataBytes(file, bytes, role) as { signed: { version?: unknown } }).signed;
  if (signed.version !== version) {
    throw new TufError('TRUST_STORE_IO', `${file} is not the ${role} v${version} this export trusted`, {
      details: { path: file, role, version },
      hint: 'another command updated the metadata cache while the export ran; run the export again',
    });
  }
  return { file: `${encodeURIComponent(role)}.json`, role, version, bytes };
}

/**
 * Look up `targets` (the first is the one the export is for: TARGET_NOT_FOUND when absent) with
 * `client` (updated by the first lookup, if not before), download each through TUF and collect the trusted metadata.
 */
export async function collectTrust(client: TrustClient, targets: readonly string[]): Promise<ExportedTrust> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'cnabsec-export-'));
  const files: ExportedTarget[] = [];
  try {
    for (const [i, name] of targets.entries()) {
      const info = await client.getTarget(name);
      if (i === 0) continue; // the bundle itself is not in the repository: only its metadata
      const dest = path.join(tmp, String(i));
      await client.downloadTarget(info, dest);
      files.push({ path: name, info, bytes: await readFile(dest) });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const metadata: ExportedMetadata[] = [];
  for (const { role, version } of client.trustedRoles()) {
    if (role === 'root') continue;
    metadata.push(await cached(client, role, version));
  }
  const rootFile = path.join(client.cacheDir, 'root.json');
  const root = await readFile(rootFile).catch((e: unknown) => {
    throw new TufError('TRUST_STORE_IO', `cannot read ${quote(rootFile)}`, { cause: e });
  });
  return { metadata: [...(await rootChain(client, root)), ...metadata], targets: files };
}
