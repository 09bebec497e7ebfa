/**
 * Fast-forward attack recovery, TUF spec §5.3.11: "if the timestamp and / or snapshot keys
 * have been rotated, then delete the trusted timestamp and snapshot metadata files". An
 * attacker holding a timestamp or snapshot key can push clients to a huge version number;
 * after the repository rotates that key, clients must forget those versions or they would
 * reject every later (lower) version as a rollback.
 *
 * The tuf-js 5 Updater drops a cached timestamp or snapshot only when it no longer verifies
 * under the new root. After a snapshot-only rotation the cached timestamp still verifies and
 * still lists the attacker's snapshot version, so the update fails as a rollback. Our client
 * therefore compares the timestamp and snapshot keys of the root it trusted before the update
 * with the root it trusts after it and, when they differ, deletes both cached files and
 * updates once more.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parseJsonBounded } from '../../util/json.js';
import { ROOT_MAX_BYTES } from './guard.js';

type RoleKeys = Record<string, { keyids?: string[]; threshold?: number } | undefined>;

async function readRoles(cacheDir: string): Promise<RoleKeys | undefined> {
  try {
    const file = path.join(cacheDir, 'root.json');
    const json = parseJsonBounded(await fsp.readFile(file), { source: file, maxBytes: ROOT_MAX_BYTES }) as {
      signed?: { roles?: RoleKeys };
    };
    return json.signed?.roles;
  } catch {
    return undefined;
  }
}

function fingerprint(roles: RoleKeys | undefined, role: string): string {
  const r = roles?.[role];
  return JSON.stringify([[...(r?.keyids ?? [])].sort(), r?.threshold]);
}

/** The keys of timestamp and snapshot in the cached trusted root, to compare after an update. */
export async function trustedKeysSnapshot(cacheDir: string): Promise<string> {
  const roles = await readRoles(cacheDir);
  return fingerprint(roles, 'timestamp') + fingerprint(roles, 'snapshot');
}

/**
 * Apply §5.3.11 if the trusted root changed timestamp or snapshot keys since `before`:
 * delete the cached timestamp and snapshot. Returns whether anything was discarded.
 */
export async function discardIfRotated(cacheDir: string, before: string): Promise<boolean> {
  if ((await trustedKeysSnapshot(cacheDir)) === before) return false;
  let removed = false;
  for (const file of ['timestamp.json', 'snapshot.json']) {
    try {
      await fsp.rm(path.join(cacheDir, file));
      removed = true;
    } catch {
      /* not cached */
    }
  }
  return removed;
}
