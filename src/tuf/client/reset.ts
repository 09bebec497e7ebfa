/**
 * `cnabsec trust reset`: re-pin a repository's root after a root key compromise recovery
 * (CNAB-Sec doc 302: "end-users update root metadata using a safe out-of-band mechanism").
 * The new root must be signed by a threshold of its own root keys; it replaces the pinned
 * root and the metadata cache is cleared, so the next update starts from it (TUF §5.2).
 * A lower version than the one trusted is accepted on purpose: an attacker holding the old
 * keys may have pushed clients to high root versions.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TufError } from '../errors.js';
import { parseJsonBounded, quote } from '../../util/json.js';
import { addTrust, checkRootBytes, trustDir, type TrustEntry } from './trust.js';

export interface RootSummary {
  version: number;
  expires: string;
  keyids: string[];
  threshold: number;
}

export interface TrustReset {
  entry: TrustEntry;
  previous: RootSummary | null;
  current: RootSummary & { sha256: string };
}

function summary(bytes: Uint8Array, where: string): RootSummary {
  const root = checkRootBytes(bytes, where);
  const r = root.signed.roles.root;
  return {
    version: root.signed.version,
    expires: root.signed.expires,
    keyids: r?.keyIDs ?? [],
    threshold: r?.threshold ?? 0,
  };
}

export async function readTrustEntry(home: string, name: string): Promise<TrustEntry> {
  const dir = trustDir(home, name); // INVALID_NAME before any file is read
  try {
    const file = path.join(dir, 'trust.json');
    return parseJsonBounded(await fsp.readFile(file), { source: file, maxBytes: 64 * 1024 }) as TrustEntry;
  } catch (e) {
    throw new TufError('TRUST_NOT_FOUND', `${quote(name)} is not a trusted repository`, {
      cause: e,
      details: { repository: name },
      hint: `trust it first: \`cnabsec trust add ${name} --root root.json --url <metadata url>\``,
    });
  }
}

/** Replace the pinned root of `name` by `rootBytes` (self-signed to threshold); clears the cache. */
export async function resetTrust(
  home: string,
  name: string,
  rootBytes: Uint8Array,
  url?: string,
): Promise<TrustReset> {
  const entry = await readTrustEntry(home, name);
  const current = summary(rootBytes, 'the given root');
  let previous: RootSummary | null = null;
  try {
    const cached = await fsp.readFile(path.join(trustDir(home, name), 'metadata', 'root.json'));
    previous = summary(cached, 'the pinned root');
  } catch {
    previous = null; // no readable pinned root: nothing to compare
  }
  const updated = await addTrust(home, name, rootBytes, url ?? entry.url, true);
  return {
    entry: updated,
    previous,
    current: { ...current, sha256: createHash('sha256').update(rootBytes).digest('hex') },
  };
}
