/**
 * The offline side of a trust entry (ADR 0030): `trust import` keeps, in the entry directory
 * `$CNABSEC_HOME/trust/<name>/`, a local TUF metadata repository `offline/` (the entry's URL
 * points at it, `file://`), laid out as a metadata server serves it, and the bundles imported
 * with it under `bundles/<url-encoded tag>/bundle.json|bundle.tgz`. Names written here come
 * from the checks below, never from an archive as they are.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { TufError } from '../errors.js';
import { quote } from '../../util/json.js';
import { isNotFound } from '../../util/errno.js';
import { listTrust, trustDir, type TrustEntry } from './trust.js';
import { checkBundleReference } from '../names.js';

export const OFFLINE_DIR = 'offline';
export const BUNDLES_DIR = 'bundles';
export type BundleKind = 'thin' | 'thick';
export const BUNDLE_FILE: Record<BundleKind, string> = { thin: 'bundle.json', thick: 'bundle.tgz' };

const SEGMENT = /^[A-Za-z0-9_@+:~-][A-Za-z0-9._@+:~-]{0,254}$/;

/** A target path safe to place under `targets/`: `/`-separated plain segments, no `.` or `..`. */
export function checkTargetPath(p: string): string[] {
  const segments = p.split('/');
  if (p.length > 1024 || segments.some((s) => !SEGMENT.test(s))) {
    throw new TufError('INVALID_NAME', `target path ${quote(p, 200)} cannot be stored offline`, {
      details: { path: p.slice(0, 1024) },
      hint: 'target paths of an offline mirror are /-separated names of letters, digits and ._@+:~- (no . or .. segments)',
    });
  }
  return segments;
}

/** The imported bundle of `target` (`<name>:<tag>`), if `trust import` stored one. */
export async function importedBundle(
  home: string,
  entry: TrustEntry,
  target: string,
): Promise<{ kind: BundleKind; file: string } | undefined> {
  if (entry.imported === undefined) return undefined;
  // only the entry's own `<name>:<tag>` (not `example.com:5000/...` for an entry `example.com`)
  const { repository, tag } = checkBundleReference(target);
  if (repository !== entry.name) return undefined;
  const dir = path.join(trustDir(home, entry.name), BUNDLES_DIR, encodeURIComponent(tag));
  for (const kind of ['thin', 'thick'] as const) {
    const file = path.join(dir, BUNDLE_FILE[kind]);
    try {
      if ((await fsp.lstat(file)).isFile()) return { kind, file };
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return undefined;
}

/** The trusted entry holding `target`, when the trust store has one (else undefined). */
export async function entryFor(home: string, target: string): Promise<TrustEntry | undefined> {
  const entries = (await listTrust(home)).sort((a, b) => b.name.length - a.name.length);
  return entries.find((e) => target.startsWith(`${e.name}:`));
}
