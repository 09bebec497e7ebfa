/**
 * Publishing to a metadata repository server (issue 13 item 5, ADR 0025): sign locally what
 * the developer holds keys of (../tuf/publish.ts `signForUpload`), leave the roles the server
 * holds to the server, upload every changed role and in-toto target file in ONE request, and
 * only when the server accepted it (HTTP 200) write its new state — verified by the TUF
 * client, with the timestamp (and snapshot) the server signed — as published here. Nothing is
 * written as published before; a stale publish is PUBLISH_CONFLICT with the local state
 * unchanged (checked before the upload, and by the server's 409 when two race).
 */
import { isCnabsecError, messageOf } from '../errors.js';
import type { AnyMetadata } from '../tuf/authority.js';
import { clearStagedFiles } from '../tuf/files.js';
import { metadataFileName } from '../tuf/policy.js';
import { signForUpload, type PublishOptions } from '../tuf/publish.js';
import { METADATA_DIR, parseMetadata, type LocalRepository } from '../tuf/repository.js';
import { WorkflowError } from './errors.js';
import { publishConflict, type RemoteRepository, type UploadResult } from './remote.js';
import { applyPull, fetchCurrent, type RemoteState } from './remote-sync.js';

export interface RemotePublishResult {
  /** What the server stored, in its commit order (roles it signed itself marked). */
  published: { role: string; version: number; signedByServer: boolean }[];
  targetFiles: UploadResult['targetFiles'];
  warnings: string[];
}

/** The repository's server, or REMOTE_NOT_CONFIGURED. */
export function serverOf(repo: LocalRepository): NonNullable<LocalRepository['config']['server']> {
  const server = repo.config.server;
  if (server === undefined) {
    throw new WorkflowError(
      'REMOTE_NOT_CONFIGURED',
      `${repo.store.location} has no metadata repository server`,
      {
        details: { path: repo.store.location },
        hint: 'it publishes as files (`cnabsec publish`, `cnabsec serve`); a repository with a server is made by `cnabsec init <dir> --server <url>` or `cnabsec clone`',
      },
    );
  }
  return server;
}

type SnapshotMeta = Record<string, { version: number }>;

function metaOf(md: AnyMetadata | undefined): SnapshotMeta {
  return (md?.signed as { meta?: SnapshotMeta } | undefined)?.meta ?? {};
}

/**
 * PUBLISH_CONFLICT when the server's state is not the one this repository last published or
 * pulled: a newer root, or another version of a targets role in its snapshot. Read unverified:
 * a server lying here can only refuse the publish; the upload is validated by the server.
 */
export async function checkNotStale(repo: LocalRepository, remote: RemoteRepository): Promise<void> {
  const ts = await remote.metadataFile('timestamp.json');
  const local = repo.published.get('snapshot');
  if (ts === undefined) return; // nothing on the server: a first publish (the server checks the rest)
  const details = { server: remote.server, repository: remote.repo };
  if (local === undefined) throw publishConflict(remote.repo, { ...details, reason: 'server-has-state' });
  const where = `${remote.metadataUrl}/timestamp.json`;
  const snapVersion = (parseMetadata('timestamp', ts, where).signed as { snapshotMeta: { version: number } })
    .snapshotMeta.version;
  const snapBytes = await remote.metadataFile(metadataFileName('snapshot', snapVersion));
  const theirs = metaOf(
    snapBytes === undefined ? undefined : parseMetadata('snapshot', snapBytes, 'snapshot'),
  );
  const mine = metaOf(local);
  for (const file of new Set([...Object.keys(theirs), ...Object.keys(mine)])) {
    if (theirs[file]?.version !== mine[file]?.version)
      throw publishConflict(remote.repo, {
        ...details,
        role: file.replace(/\.json$/, ''),
        serverVersion: theirs[file]?.version,
        localVersion: mine[file]?.version,
      });
  }
  const root = repo.published.get('root')?.signed.version ?? 0;
  if ((await remote.metadataFile(metadataFileName('root', root + 1))) !== undefined)
    throw publishConflict(remote.repo, {
      ...details,
      role: 'root',
      serverVersion: root + 1,
      localVersion: root,
    });
}

/** The bytes of the newest published root, or (first publish) of the staged root being uploaded. */
async function startRoot(repo: LocalRepository, uploadedRoot: Uint8Array | undefined): Promise<Uint8Array> {
  const published = repo.published.get('root');
  if (published === undefined && uploadedRoot !== undefined) return uploadedRoot;
  const file = `${METADATA_DIR}/${metadataFileName('root', published?.signed.version ?? 1)}`;
  const bytes = await repo.store.read(file);
  if (bytes === undefined) {
    throw new WorkflowError('REMOTE_NOT_CONFIGURED', `${repo.store.location}/${file} is missing`, {
      hint: 'restore it, or clone the repository again with `cnabsec clone`',
    });
  }
  return bytes;
}

/**
 * REMOTE_BAD_RESPONSE when the server's verified state, fetched right after it accepted the
 * upload, holds an older version of a role than it said it stored: it does not serve what it
 * accepted, so nothing is kept as published (the staged roles and files stay for a retry).
 */
function checkServed(repo: LocalRepository, state: RemoteState, result: UploadResult): void {
  const root = state.roots.at(-1)?.version ?? repo.published.get('root')?.signed.version ?? 0;
  for (const { role, version } of result.stored) {
    const bytes = state.roles.get(role);
    const served =
      role === 'root'
        ? root
        : bytes === undefined
          ? 0
          : parseMetadata(role, bytes, `${role} served by the server`).signed.version;
    if (served < version) {
      throw new WorkflowError(
        'REMOTE_BAD_RESPONSE',
        `the server stored ${role} v${version} but serves v${served}`,
        { details: { role, stored: version, served } },
      );
    }
  }
}

export interface RemotePublishOptions extends PublishOptions {
  /** Test hook: runs after the staleness check, before the upload (another publish wins the race). */
  beforeUpload?: () => Promise<void>;
}

/** Publish `repo` to its server (run under the repository lock); see the module comment. */
export async function publishRemote(
  repo: LocalRepository,
  remote: RemoteRepository,
  options: RemotePublishOptions,
): Promise<RemotePublishResult> {
  const managed = new Set<string>(serverOf(repo).managed);
  await checkNotStale(repo, remote);
  const plan = await signForUpload(repo, options, managed);
  await options.beforeUpload?.();
  const result = await remote.upload({
    roles: plan.pending.map((p) => ({ role: p.role, bytes: p.bytes })),
    targetFiles: plan.targetFiles.map((f) => ({ path: f.name, bytes: f.data })),
  });
  // Accepted: from here on the server has it. Fetch its state back, verified, and keep it.
  const uploadedRoot = plan.pending.find((p) => p.role === 'root')?.bytes;
  const firstPublish = repo.published.get('root') === undefined;
  try {
    const state = await fetchCurrent(remote, await startRoot(repo, uploadedRoot));
    if (firstPublish && uploadedRoot !== undefined) state.roots.unshift({ version: 1, bytes: uploadedRoot });
    checkServed(repo, state, result);
    await applyPull(repo, state);
    await clearStagedFiles(repo);
  } catch (e) {
    throw new WorkflowError(
      'PUBLISHED_NOT_PULLED',
      `${remote.repo}: the server accepted the publish, but its new state was not fetched back: ${isCnabsecError(e) ? e.message : messageOf(e)}`,
      {
        cause: e,
        details: { server: remote.server, repository: remote.repo },
        hint: 'run `cnabsec pull <dir>` to bring this repository up to date (do not publish the same change again)',
      },
    );
  }
  return {
    published: result.stored.map((s) => ({
      role: s.role,
      version: s.version,
      signedByServer: s.signedByServer,
    })),
    targetFiles: result.targetFiles,
    warnings: plan.warnings,
  };
}
