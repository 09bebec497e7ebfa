/**
 * Target files that clients download through TUF (in-toto layouts, public keys and links,
 * CNAB-Sec doc 301): unlike bundle targets, whose bytes come from a registry or a file, these
 * are stored in the repository. Adding one stages its bytes (`staged/files/<sha256>`, listed in
^ * `staged/files/index.json`); publish copies them to `metadata/targets/<dir>/<sha256>.<basename>`,
 * the consistent-snapshot name TUF clients request (spec §5.7.3), before any metadata.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { TufError } from './errors.js';
import { parseJsonBounded, quote } from '../util/json.js';
import { addTarget } from './targets.js';
import { STAGED_DIR, type LocalRepository } from './repository.js';

export const TARGET_FILES_DIR = 'metadata/targets';
const BLOBS = `${STAGED_DIR}/files`;
const MANIFEST = `${BLOBS}/index.json`; // inside files/: staged/*.json are roles

export interface StagedFile {
  name: string;
  sha256: string;
}

/** Store path (under metadata/targets) of a target file: `<dir>/<sha256>.<basename>`. */
export function targetFilePath(name: string, sha256: string): string {
  const { dir, base } = path.posix.parse(name);
  return `${TARGET_FILES_DIR}/${dir === '' ? '' : `${dir}/`}${sha256}.${base}`;
}

/** Target names that become file paths must stay inside the repository. */
function checkFileName(name: string): void {
  const segments = name.split('/');
  if (
    name.startsWith('/') ||
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    name.includes('\\')
  ) {
    throw new TufError('INVALID_ARGUMENT', `target file name ${quote(name)} is not a clean relative path`, {
      details: { target: name },
      hint: 'use names like <repository>/in-toto-metadata/root.layout (no empty, . or .. segments)',
    });
  }
}

async function readManifest(repo: LocalRepository): Promise<StagedFile[]> {
  const raw = await repo.store.read(MANIFEST);
  if (raw === undefined) return [];
  try {
    return parseJsonBounded(raw, { source: `${repo.store.location}/${MANIFEST}` }) as StagedFile[];
  } catch (e) {
    throw new TufError('REPO_CORRUPT', `${repo.store.location}/${MANIFEST} is not valid JSON`, { cause: e });
  }
}

/**
 * Stage target `name` with `bytes` (signed by `role`, default: the role trusted for the
 * name) and keep the bytes for publication. Returns the signing role.
 */
export async function addTargetFile(
  repo: LocalRepository,
  name: string,
  bytes: Uint8Array,
  options: { role?: string; custom?: Record<string, unknown>; now?: Date } = {},
): Promise<string> {
  checkFileName(name);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const role = addTarget(
    repo,
    name,
    {
      length: bytes.length,
      hashes: { sha256 },
      ...(options.custom === undefined ? {} : { custom: options.custom }),
    },
    options.role,
    options.now,
  );
  await repo.store.write(`${BLOBS}/${sha256}`, bytes);
  const manifest = (await readManifest(repo)).filter((f) => f.name !== name);
  manifest.push({ name, sha256 });
  await repo.store.write(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
  return role;
}

/** The staged target files (name and sha256 of the bytes kept for publication). */
export function stagedFileList(repo: LocalRepository): Promise<StagedFile[]> {
  return readManifest(repo);
}

/**
 * The bytes of target file `name` with digest `sha256`: staged (not yet published) or
 * published; undefined when the repository holds neither.
 */
export async function targetFileBytes(
  repo: LocalRepository,
  name: string,
  sha256: string,
): Promise<Uint8Array | undefined> {
  const staged = (await readManifest(repo)).some((f) => f.name === name && f.sha256 === sha256);
  if (staged) {
    const bytes = await repo.store.read(`${BLOBS}/${sha256}`);
    if (bytes !== undefined) return bytes;
  }
  return repo.store.read(targetFilePath(name, sha256));
}

/** Staged files still listed by the metadata about to be published, with their bytes. */
export async function stagedFiles(
  repo: LocalRepository,
): Promise<{ name: string; file: string; data: Uint8Array }[]> {
  const listed = new Map<string, string>();
  for (const role of ['targets', ...repo.delegationParents().keys()]) {
    for (const [name, t] of Object.entries(repo.targetsOf(role).signed.targets)) {
      if (t.hashes.sha256 !== undefined) listed.set(name, t.hashes.sha256);
    }
  }
  const out: { name: string; file: string; data: Uint8Array }[] = [];
  for (const f of await readManifest(repo)) {
    if (listed.get(f.name) !== f.sha256) continue;
    const data = await repo.store.read(`${BLOBS}/${f.sha256}`);
    if (data === undefined) {
      throw new TufError('REPO_CORRUPT', `staged bytes of ${f.name} are missing`, {
        hint: 'add the file again',
      });
    }
    out.push({ name: f.name, file: targetFilePath(f.name, f.sha256), data });
  }
  return out;
}

/** Remove staged file bytes after a successful publish. */
export async function clearStagedFiles(repo: LocalRepository): Promise<void> {
  for (const f of await readManifest(repo)) await repo.store.remove(`${BLOBS}/${f.sha256}`);
  await repo.store.remove(MANIFEST);
}
