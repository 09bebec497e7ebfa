/**
 * Trust archives for air-gapped sites (ADR 0030, CNAB doc 805): `cnabsec trust export` writes,
 * for one signed bundle `<repository>:<tag>`, everything an offline site needs to run doc 303
 * there — the TUF metadata (root chain, timestamp, snapshot, targets and the delegated roles of
 * the lookups), the in-toto files the target lists (layout, its keys, the links; through TUF),
 * and optionally the bundle itself, verified first (doc 303: an export never carries a bundle
 * that does not verify). The archive is a gzip'd ustar (./tar-write.ts) whose first entry is
 * the manifest `cnabsec-trust.json` (format, repository, target, created time, and the name,
 * length and sha256 of every other entry); ./trust-archive-read.ts reads it back strictly.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import type { TargetFile } from '@tufjs/models';
import { CnabError } from './errors.js';
import { MAX_BUNDLE_JSON_BYTES } from './bundle.js';
import { provenanceNames } from './provenance-verify.js';
import { verifyBundle, type ObtainThin, type VerifiedBundle } from './verify.js';
import { writeTarGz, type TarSource } from './tar-write.js';
import { checkManifest, TRUST_ARCHIVE_LIMITS } from './trust-archive-manifest.js';
import { clientFor, trustFor } from '../tuf/client/trust.js';
import { collectTrust, type ExportedTrust } from '../tuf/client/export.js';
import type { GraceAccepted } from '../tuf/client/grace.js';
import { BUNDLE_FILE, type BundleKind } from '../tuf/client/offline.js';
import { checkBundleReference } from '../tuf/names.js';

export const TRUST_ARCHIVE_FORMAT = 'cnabsec-trust-archive/1';
export const MANIFEST_NAME = 'cnabsec-trust.json';

export interface ManifestFile {
  /** Entry name: `metadata/<TUF file name>`, `targets/<n>`, `bundle/bundle.json|bundle.tgz`. */
  name: string;
  length: number;
  sha256: string;
  /** For `targets/<n>`: the target path. */
  target?: string;
}

export interface TrustManifest {
  format: typeof TRUST_ARCHIVE_FORMAT;
  repository: string;
  target: string;
  created: string;
  /** Metadata URL of the exporting site (informative). */
  exportedFrom: string;
  files: ManifestFile[];
}

export interface ExportOptions {
  home: string;
  /** `<repository>:<tag>` */
  target: string;
  output: string;
  /** `--with-bundle`: the bundle to carry, verified first. */
  thin?: string;
  thick?: string;
  /**
   * A thin bundle obtained elsewhere (pulled from a registry), after the TUF update and
   * bounded by the signed length (doc 303 steps 1-2, as verify --registry).
   */
  obtainThin?: ObtainThin;
  graceMs?: number;
  warn?: (message: string) => void;
  now?: Date;
}

export interface ExportResult {
  manifest: TrustManifest;
  output: string;
  bundle?: { kind: BundleKind; length: number; sha256: string };
  graceAccepted: GraceAccepted[];
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The in-toto files the target lists (doc 303 step 4): the layout, its keys, the links. */
async function provenanceTargets(
  info: TargetFile,
  target: string,
  lookup: (n: string) => Promise<TargetFile>,
): Promise<string[]> {
  if (info.custom['in-toto'] === undefined) return [];
  const { layout, links, repo } = provenanceNames(target, info);
  const keys = (await lookup(layout)).custom['in-toto'];
  const keyNames = Array.isArray(keys)
    ? keys.filter((k): k is string => typeof k === 'string' && k.startsWith(`${repo}/`))
    : [];
  return [layout, ...keyNames, ...links];
}

/** A thin bundle obtained after the TUF update (a registry pull), verified; the bytes verified are the ones archived. */
async function verifiedObtained(
  options: ExportOptions,
  obtain: ObtainThin,
): Promise<{ bundle?: VerifiedBundle; source?: TarSource; kind?: BundleKind }> {
  let bytes: Uint8Array | undefined;
  try {
    const bundle = await verifyBundle({
      target: options.target,
      home: options.home,
      obtainThin: { source: obtain.source, fetch: async (max) => (bytes = await obtain.fetch(max)) },
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.warn === undefined ? {} : { warn: options.warn }),
    });
    if (bytes === undefined || sha256(bytes) !== bundle.sha256) throw changed(obtain.source); // unreachable
    return { bundle, kind: 'thin', source: { name: `bundle/${BUNDLE_FILE.thin}`, data: Buffer.from(bytes) } };
  } catch (e) {
    if (e instanceof CnabError && e.code === 'BUNDLE_HASH_MISMATCH')
      throw new CnabError(e.code, `${obtain.source}: ${e.message}`, {
        cause: e,
        details: e.details,
        hint: 'the registry serves another bundle than the one signed for this tag: do not use it',
      });
    throw e;
  }
}

async function verifiedBundle(
  options: ExportOptions,
): Promise<{ bundle?: VerifiedBundle; source?: TarSource; kind?: BundleKind }> {
  if (options.obtainThin !== undefined) return verifiedObtained(options, options.obtainThin);
  const file = options.thin ?? options.thick;
  if (file === undefined) return {};
  const kind: BundleKind = options.thin !== undefined ? 'thin' : 'thick';
  const bundle = await verifyBundle({
    target: options.target,
    home: options.home,
    ...(kind === 'thin' ? { thin: file } : { thick: file }),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    ...(options.warn === undefined ? {} : { warn: options.warn }),
  });
  const name = `bundle/${BUNDLE_FILE[kind]}`;
  if (kind === 'thin') {
    const bytes = await readFile(file);
    if (bytes.length > MAX_BUNDLE_JSON_BYTES || sha256(bytes) !== bundle.sha256) throw changed(file);
    return { bundle, kind, source: { name, data: bytes } };
  }
  const size = (await stat(file)).size;
  if (size !== bundle.length) throw changed(file);
  return { bundle, kind, source: { name, data: { file, size } } };
}

function changed(file: string): CnabError {
  return new CnabError('BUNDLE_HASH_MISMATCH', `${file} changed after it was verified`, {
    details: { path: file },
    hint: 'leave the bundle alone while the archive is written, then export again',
  });
}

function entries(collected: ExportedTrust): { sources: TarSource[]; files: ManifestFile[] } {
  const sources: TarSource[] = [];
  const files: ManifestFile[] = [];
  for (const m of collected.metadata) {
    const name = `metadata/${m.file}`;
    sources.push({ name, data: m.bytes });
    files.push({ name, length: m.bytes.length, sha256: sha256(m.bytes) });
  }
  for (const [i, t] of collected.targets.entries()) {
    const name = `targets/${i}`;
    sources.push({ name, data: t.bytes });
    files.push({ name, length: t.bytes.length, sha256: sha256(t.bytes), target: t.path });
  }
  return { sources, files };
}

/**
 * The checks `trust import` applies to the manifest (names, bounds, the repository being the
 * target's own), before anything is written: an export never writes an archive no site can import.
 */
function importable(manifest: TrustManifest, output: string): void {
  try {
    checkManifest(manifest, output, TRUST_ARCHIVE_LIMITS);
  } catch (e) {
    if (!(e instanceof CnabError)) throw e;
    throw new CnabError(e.code, `${e.message} (nothing was written)`, {
      cause: e,
      details: e.details,
      hint: `trust import would refuse this archive: a repository trusted under its own name (\`cnabsec trust add ${checkBundleReference(manifest.target).repository} ...\`) and in-toto files within the archive's bounds can be exported`,
    });
  }
}

/** `-o` must not be the bundle carried: the archive would replace it (renamed over it). */
async function notTheBundle(options: ExportOptions): Promise<void> {
  const file = options.thin ?? options.thick;
  if (file === undefined) return;
  const [a, b] = await Promise.all([
    stat(file).catch(() => undefined),
    stat(options.output).catch(() => undefined),
  ]);
  if (a === undefined || b === undefined || a.dev !== b.dev || a.ino !== b.ino) return;
  throw new CnabError(
    'ARCHIVE_WRITE_FAILED',
    `cannot write ${options.output}: it is the bundle ${file} itself`,
    {
      details: { path: options.output },
      hint: 'give the archive another name, e.g. -o trust.tgz',
    },
  );
}

/** `cnabsec trust export`: see the file comment. */
export async function exportTrustArchive(options: ExportOptions): Promise<ExportResult> {
  checkBundleReference(options.target);
  const entry = await trustFor(options.home, options.target);
  await notTheBundle(options);
  const { bundle, source, kind } = await verifiedBundle(options); // doc 303 first, when carried
  const client = clientFor(
    options.home,
    entry,
    options.graceMs === undefined ? {} : { graceMs: options.graceMs },
  );
  const info = await client.getTarget(options.target);
  const extra = await provenanceTargets(info, options.target, (n) => client.getTarget(n));
  const collected = await collectTrust(client, [options.target, ...extra]);
  const { sources, files } = entries(collected);
  if (source !== undefined && bundle !== undefined) {
    sources.push(source);
    files.push({ name: source.name, length: bundle.length, sha256: bundle.sha256 });
  }
  const now = options.now ?? new Date();
  const manifest: TrustManifest = {
    format: TRUST_ARCHIVE_FORMAT,
    repository: entry.name,
    target: options.target,
    created: now.toISOString(),
    exportedFrom: entry.url,
    files,
  };
  importable(manifest, options.output);
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  const written = await writeTarGz(
    options.output,
    [{ name: MANIFEST_NAME, data: manifestBytes }, ...sources],
    now,
  );
  if (source !== undefined && written.get(source.name) !== bundle?.sha256) {
    await rm(options.output, { force: true });
    throw changed(options.thin ?? options.thick ?? '');
  }
  const graceAccepted = client.graceAccepted();
  return {
    manifest,
    output: options.output,
    ...(bundle === undefined || kind === undefined
      ? {}
      : { bundle: { kind, length: bundle.length, sha256: bundle.sha256 } }),
    graceAccepted,
  };
}
