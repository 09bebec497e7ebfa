/**
 * `cnabsec trust reset`: re-pin a repository's root after a root key compromise recovery
 * (CNAB-Sec doc 302: "end-users update root metadata using a safe out-of-band mechanism").
 * The new root must be signed by a threshold of its own root keys; it replaces the pinned
 * root and the metadata cache is cleared, so the next update starts from it (TUF §5.2).
 * A lower version than the one trusted is refused unless asked for (`--allow-older`): it is
 * what a rollback looks like, but after a compromise an attacker holding the old keys may have
 * pushed clients to high root versions, so the owner's new root can be lower.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TufError } from '../errors.js';
import { parseJsonBounded, quote } from '../../util/json.js';
import { checkRootBytes, trustDir, type TrustEntry } from './trust.js';
import { checkMetadataUrl, withTrustLock, writeTrust, type TrustWriteOptions } from './trust-write.js';

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

export interface ResetOptions extends TrustWriteOptions {
  /** Accept a root of a lower version than the trusted one (TRUST_ROOT_OLDER otherwise). */
  allowOlder?: boolean;
}

function olderRoot(name: string, given: number, trusted: number): TufError {
  return new TufError(
    'TRUST_ROOT_OLDER',
    `the given root of ${quote(name)} is v${given}, older than the trusted root v${trusted}`,
    {
      details: { repository: name, version: given, trustedVersion: trusted },
      hint: `an older root is what a rollback looks like; re-pin it only if the owner confirms, out of band, that it restarted its root history (root key compromise recovery): add --allow-older`,
    },
  );
}

/**
 * Replace the pinned root of `name` by `rootBytes` (self-signed to threshold) under the trust
 * entry's lock; clears the cache. A root of a lower version than the trusted one is refused
 * (TRUST_ROOT_OLDER) unless `allowOlder`.
 */
export async function resetTrust(
  home: string,
  name: string,
  rootBytes: Uint8Array,
  url?: string,
  options: ResetOptions = {},
): Promise<TrustReset> {
  await readTrustEntry(home, name); // TRUST_NOT_FOUND before anything is written
  const current = summary(rootBytes, 'the given root');
  if (url !== undefined) checkMetadataUrl(url);
  return withTrustLock(
    home,
    name,
    async (dir) => {
      const entry = await readTrustEntry(home, name);
      let previous: RootSummary | null = null;
      try {
        previous = summary(await fsp.readFile(path.join(dir, 'metadata', 'root.json')), 'the pinned root');
      } catch {
        previous = null; // no readable pinned root: nothing to compare
      }
      if (previous !== null && current.version < previous.version && options.allowOlder !== true)
        throw olderRoot(name, current.version, previous.version);
      const updated: TrustEntry = {
        name,
        url: (url ?? entry.url).replace(/\/+$/, ''),
        added: new Date().toISOString(),
      };
      await writeTrust(dir, updated, rootBytes);
      return {
        entry: updated,
        previous,
        current: { ...current, sha256: createHash('sha256').update(rootBytes).digest('hex') },
      };
    },
    options,
  );
}
