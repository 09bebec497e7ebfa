/**
 * A server's current state, verified, into a local repository (issue 13 item 5): `fetchCurrent`
 * runs the TUF client (../tuf/client/trust.ts, the real tuf-js Updater, spec §5) from the
 * repository's newest published root — or, for `clone`, from the server's `1.root.json`,
 * trusted on first use — so the root chain, timestamp, snapshot, targets and every reachable
 * delegated role are verified before they are kept; in-toto target files come through the
 * same client (length and hashes checked, §5.7). `applyPull` writes that state as the
 * repository's published metadata in the publish write order (../tuf/publish-write.ts).
 */
import { canonicalize } from '@tufjs/canonical-json';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AnyMetadata } from '../tuf/authority.js';
import { checkRootBytes, TrustClient } from '../tuf/client/trust.js';
import type { VerifiedTarget } from '../tuf/client/list.js';
import { targetFilePath } from '../tuf/files.js';
import { metadataFileName } from '../tuf/policy.js';
import { writePublish, type Pending } from '../tuf/publish-write.js';
import { METADATA_DIR, parseMetadata, type LocalRepository } from '../tuf/repository.js';
import { WorkflowError } from './errors.js';
import { replayTargetChanges, targetChanges } from './remote-rebase.js';
import type { RemoteRepository } from './remote.js';

/** The server's verified state of one repository. */
export interface RemoteState {
  /** Root versions above the one verification started from, oldest first (for a clone, from v1). */
  roots: { version: number; bytes: Uint8Array }[];
  /** timestamp, snapshot, targets and delegated roles: the current bytes. */
  roles: Map<string, Uint8Array>;
  /** In-toto target files (`<repo>/…`) with their bytes, verified against the signed targets. */
  targetFiles: { name: string; sha256: string; bytes: Uint8Array }[];
}

function empty(remote: RemoteRepository): WorkflowError {
  return new WorkflowError('REMOTE_EMPTY', `${remote.repo} has not been published to ${remote.server} yet`, {
    details: { server: remote.server, repository: remote.repo },
    hint: 'publish it first from the repository made with `cnabsec init <dir> --server <url>`; check the repository name',
  });
}

const ROOT_FILE = /\/(\d+)\.root\.json$/;

/** The roots tuf-js fetched and accepted in its root walk (§5.3), above `from`, oldest first. */
function walkedRoots(client: TrustClient, from: number): { version: number; bytes: Uint8Array }[] {
  const byVersion = new Map<number, Uint8Array>();
  for (const f of client.fetcher.fetched) {
    const m = ROOT_FILE.exec(f.url);
    if (m !== null && f.bytes !== undefined && Number(m[1]) > from) byVersion.set(Number(m[1]), f.bytes);
  }
  return [...byVersion].sort(([a], [b]) => a - b).map(([version, bytes]) => ({ version, bytes }));
}

/**
 * Fetch and verify the server's current state. `trustedRoot`: the bytes of the newest root
 * this repository already trusts; undefined for a clone (trust on first use of `1.root.json`,
 * which must be signed by a threshold of its own keys).
 */
export async function fetchCurrent(
  remote: RemoteRepository,
  trustedRoot: Uint8Array | undefined,
): Promise<RemoteState> {
  if ((await remote.metadataFile('timestamp.json')) === undefined) throw empty(remote);
  const roots: RemoteState['roots'] = [];
  let start = trustedRoot;
  if (start === undefined) {
    start = await remote.metadataFile('1.root.json');
    if (start === undefined) throw empty(remote);
    checkRootBytes(start, `${remote.metadataUrl}/1.root.json`);
    roots.push({ version: 1, bytes: start });
  }
  const from = checkRootBytes(start, 'the trusted root').signed.version;
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'cnabsec-pull-'));
  try {
    await writeFile(path.join(cacheDir, 'root.json'), start);
    const client = new TrustClient({
      name: remote.repo,
      metadataUrl: remote.metadataUrl,
      cacheDir,
      fetcher: remote.fetcher(),
    });
    await client.refresh();
    // every targets role reachable from targets, loaded and verified by the Updater
    const files = await client.listTargets((n) => n.startsWith(`${remote.repo}/`));
    const read = (role: string): Promise<Buffer> =>
      readFile(path.join(cacheDir, `${encodeURIComponent(role)}.json`));
    roots.push(...walkedRoots(client, from));
    // the newest root is the one the Updater ended with (what it verified last)
    const newest = await read('root');
    if (roots.length > 0 && !newest.equals(Buffer.from(roots.at(-1)?.bytes ?? []))) {
      throw new WorkflowError(
        'REMOTE_BAD_RESPONSE',
        `${remote.server} served ${remote.repo}'s roots inconsistently`,
        {
          details: { server: remote.server, repository: remote.repo },
          hint: 'the server answered the same root version with different bytes; pull again, or tell its operator',
        },
      );
    }
    const roles = new Map<string, Uint8Array>();
    for (const role of ['timestamp', 'snapshot', 'targets']) roles.set(role, await read(role));
    const snapshot = parseMetadata('snapshot', roles.get('snapshot') ?? new Uint8Array(), 'snapshot.json');
    const meta = (snapshot.signed as { meta: Record<string, { version: number }> }).meta;
    for (const file of Object.keys(meta)) {
      const role = file.replace(/\.json$/, '');
      if (!roles.has(role)) roles.set(role, await read(role).catch(() => unreachableRole(remote, role)));
    }
    return { roots, roles, targetFiles: await download(client, files, cacheDir) };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** The target files through the TUF client (length and hashes checked, spec §5.7). */
async function download(
  client: TrustClient,
  files: VerifiedTarget[],
  cacheDir: string,
): Promise<RemoteState['targetFiles']> {
  const out: RemoteState['targetFiles'] = [];
  await mkdir(path.join(cacheDir, 'targets'), { recursive: true });
  for (const { info } of files) {
    const sha256 = info.hashes.sha256;
    if (sha256 === undefined) continue;
    const dest = path.join(cacheDir, 'targets', sha256);
    await client.downloadTarget(info, dest);
    out.push({ name: info.path, sha256, bytes: await readFile(dest) });
  }
  return out;
}

/**
 * A role the snapshot lists that no delegation reaches any more (kept so clients never see a
 * file vanish, TUF §5.5.5): clients never load it, so it is fetched as listed, unverified.
 */
async function unreachableRole(remote: RemoteRepository, role: string): Promise<Uint8Array> {
  const bytes = await remote.metadataFile(`${encodeURIComponent(role)}.json`);
  if (bytes === undefined) {
    throw new WorkflowError(
      'REMOTE_BAD_RESPONSE',
      `${remote.server} lists ${role} in snapshot but does not serve it`,
      {
        details: { server: remote.server, repository: remote.repo, role },
        hint: 'the server state is incomplete; tell its operator',
      },
    );
  }
  return bytes;
}

export interface PullResult {
  /** Roles now published locally with their versions (those that changed). */
  updated: { role: string; version: number }[];
  /** Staged roles dropped because the server already has that version or a newer one. */
  /** Staged targets roles whose own target changes were replayed on the pulled version (./remote-rebase.ts). */
  rebased: string[];
  dropped: string[];
}

/**
 * Write `state` as `repo`'s published metadata (under the caller's repository lock). Versioned
 * files already there with the same bytes are kept; other bytes are PUBLISHED_FILE_EXISTS (the
 * server and this repository forked). Staged roles not above the pulled version are replayed
 * on it when they only changed target entries, else dropped (./remote-rebase.ts).
 */
export async function applyPull(repo: LocalRepository, state: RemoteState): Promise<PullResult> {
  const where = (role: string): string => `${repo.store.location}: pulled ${role}`;
  const pending: Pending[] = [];
  // newest root first: writePublish copies the first root it gets to root.json
  for (const { version, bytes } of [...state.roots].reverse())
    pending.push({ role: 'root', md: parseMetadata('root', bytes, where(`root v${version}`)), bytes });
  for (const [role, bytes] of state.roles)
    pending.push({ role, md: parseMetadata(role, bytes, where(role)), bytes });
  refuseOlder(repo, pending);
  const targetFiles = state.targetFiles.map((f) => ({
    file: targetFilePath(f.name, f.sha256),
    data: f.bytes,
  }));
  // the newest root only (the first), then the other roles
  const current = pending.filter((p, i) => p.role !== 'root' || i === 0);
  const updated = current.filter(({ role, md }) => changed(repo.published.get(role), md));
  await writePublish(repo, pending, targetFiles);
  const [rebased, dropped]: [string[], string[]] = [[], []];
  for (const { role, md } of current) {
    const base = repo.published.get(role);
    repo.published.set(role, md);
    const staged = repo.staged.get(role);
    if (staged === undefined || staged.signed.version > md.signed.version) continue;
    await repo.discardStaged(role);
    if (samePayload(staged, md)) continue; // what this repository published (publishRemote)
    const changes = targetChanges(role, base, staged);
    if (changes === undefined) dropped.push(role);
    else if (changes.removed.length > 0 || Object.keys(changes.set).length > 0) {
      replayTargetChanges(repo, role, changes);
      rebased.push(role);
    }
  }
  await repo.saveStaged();
  return {
    updated: updated.map(({ role, md }) => ({ role, version: md.signed.version })),
    rebased,
    dropped,
  };
}

/** The same signed content (signatures aside). */
function samePayload(a: AnyMetadata, b: AnyMetadata): boolean {
  return canonicalize(a.signed.toJSON()) === canonicalize(b.signed.toJSON());
}

function changed(before: AnyMetadata | undefined, after: AnyMetadata): boolean {
  return before === undefined || before.signed.version !== after.signed.version;
}

/** The server's roles may not be older than what this repository published (a rollback). */
function refuseOlder(repo: LocalRepository, pending: Pending[]): void {
  for (const { role, md } of pending) {
    const mine = repo.published.get(role);
    if (mine !== undefined && md.signed.version < mine.signed.version) {
      throw new WorkflowError(
        'REMOTE_BAD_RESPONSE',
        `the server's ${role} v${md.signed.version} is older than the published v${mine.signed.version} of ${repo.store.location}`,
        {
          details: {
            role,
            server: md.signed.version,
            local: mine.signed.version,
            file: `${METADATA_DIR}/${metadataFileName(role, mine.signed.version)}`,
          },
          hint: 'the server lost state or rolled it back: tell its operator; publishing from here would restore it',
        },
      );
    }
  }
}
