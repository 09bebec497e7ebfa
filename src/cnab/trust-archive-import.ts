/**
 * `cnabsec trust import` (ADR 0030): read a trust archive strictly (./trust-archive-read.ts),
 * then import its metadata with the TUF checks of ../tuf/client/import.ts (the trust decision
 * is there: the site's pinned root, or `--root` for a repository it does not trust yet; never
 * the archive's root). The bundle, when the archive carries one, is stored in the trust store
 * only after the TUF update said it is the signed target; offline `verify` runs doc 303 on it.
 */
import { readTrustArchive, type TrustArchiveLimits } from './trust-archive-read.js';
import type { TrustManifest } from './trust-archive.js';
import { importTrust, type ImportResult } from '../tuf/client/import.js';

export interface ImportArchiveOptions {
  home: string;
  file: string;
  root?: Uint8Array;
  graceMs?: number;
  waitMs?: number;
  limits?: TrustArchiveLimits;
}

export interface ImportArchiveResult extends ImportResult {
  manifest: TrustManifest;
}

export async function importTrustArchive(options: ImportArchiveOptions): Promise<ImportArchiveResult> {
  const archive = await readTrustArchive(options.file, options.limits);
  try {
    const { manifest } = archive;
    const r = await importTrust(options.home, {
      repository: manifest.repository,
      target: manifest.target,
      metadata: archive.metadata,
      targets: archive.targets,
      exportedFrom: manifest.exportedFrom,
      ...(options.root === undefined ? {} : { root: options.root }),
      ...(archive.bundle === undefined ? {} : { bundle: archive.bundle }),
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
    });
    return { ...r, manifest };
  } finally {
    await archive.dispose();
  }
}
