/**
 * The server's online keys as the service uses them (doc 302 server-managed timestamp and
 * snapshot keys; ADR 0021, ADR 0022): which held keys a root lists, the signers for them, and
 * the key endpoints (`GET|POST …/<role>.key`). The key life itself (pending → active →
 * retired) is ./online-keys.ts; this file only decides which key a request gets.
 */
import type { Metadata, Root } from '@tufjs/models';
import type { Signer } from '../crypto/index.js';
import { ServerError } from './errors.js';
import type { OnlineKeyInfo, OnlineKeys } from './online-keys.js';
import type { OnlinePublicKey, OnlineRole } from './service-types.js';
import { parseState, type RepositoryState } from './upload-parse.js';

export const ONLINE_ROLES: readonly OnlineRole[] = ['snapshot', 'timestamp'];

/** ONLINE_ROLE_INVALID unless `role` is one the server may hold (timestamp, snapshot). */
export function checkOnlineRole(repo: string, role: string): asserts role is OnlineRole {
  if (role === 'timestamp' || role === 'snapshot') return;
  throw new ServerError(
    'ONLINE_ROLE_INVALID',
    `${repo}: the server holds no ${role} key (only timestamp and snapshot)`,
    {
      details: { repo, role },
      hint: 'ask for timestamp.key or snapshot.key; root, targets and delegated roles are signed by their owners',
    },
  );
}

/** ONLINE_KEYS_DISABLED: this service was started without online keys. */
export function keysDisabled(repo: string): ServerError {
  return new ServerError(
    'ONLINE_KEYS_DISABLED',
    `${repo}: this server holds no online keys (developer-managed repositories only)`,
    {
      details: { repo },
      hint: 'sign timestamp and snapshot yourself and upload them, or run the server with a master key (ADR 0021)',
    },
  );
}

/** The trusted root of `state`, or undefined for a repository without one. */
export function rootOf(state: RepositoryState): Metadata<Root> | undefined {
  if (state.root === undefined) return undefined;
  return parseState({ root: state.root }).get('root')?.md as Metadata<Root> | undefined;
}

/** Keys of `role` the server can sign with (pending or active, never retired). */
export async function heldKeys(
  keys: OnlineKeys | undefined,
  repo: string,
  role: OnlineRole,
): Promise<OnlineKeyInfo[]> {
  if (keys === undefined) return [];
  return (await keys.list(repo, role)).filter((k) => k.state !== 'retired');
}

/** Key ids of every held key of both online roles (validateUpload's `serverKeyids`). */
export async function heldKeyids(keys: OnlineKeys | undefined, repo: string): Promise<string[]> {
  const out: string[] = [];
  for (const role of ONLINE_ROLES) for (const k of await heldKeys(keys, repo, role)) out.push(k.keyid);
  return out;
}

/**
 * Signers for `role` under `root`: every held key `root` lists for it, or undefined when they
 * are fewer than its threshold (TUF §5.4.2/§5.5.2: the client counts distinct listed keys).
 * Only listed keys sign: an old active key a new root dropped signs nothing.
 */
export async function rootSigners(
  keys: OnlineKeys | undefined,
  repo: string,
  root: Metadata<Root> | undefined,
  role: OnlineRole,
): Promise<Signer[] | undefined> {
  const spec = root?.signed.roles[role];
  if (keys === undefined || spec === undefined) return undefined;
  const listed = new Set(spec.keyIDs);
  const ids = (await heldKeys(keys, repo, role)).map((k) => k.keyid).filter((id) => listed.has(id));
  if (ids.length === 0 || ids.length < spec.threshold) return undefined;
  const signers: Signer[] = [];
  for (const id of ids) signers.push(await keys.signer(repo, role, id));
  return signers;
}

const publicOf = (k: OnlineKeyInfo, state: 'pending' | 'active'): OnlinePublicKey => ({
  keyid: k.keyid,
  public: k.public,
  state,
});

/**
 * Bring the key states in line with `root` when a publish's activation did not run (a crash
 * between commit and activate): a held key the root lists is active, an active one it does not
 * list retired. Returns the role's keys afterwards.
 */
async function synced(
  keys: OnlineKeys,
  repo: string,
  role: OnlineRole,
  root: Metadata<Root> | undefined,
): Promise<OnlineKeyInfo[]> {
  const all = await keys.list(repo, role);
  const listed = root?.signed.roles[role]?.keyIDs;
  if (listed === undefined) return all;
  const stale = all.some(
    (k) =>
      (k.state === 'pending' && listed.includes(k.keyid)) ||
      (k.state === 'active' && !listed.includes(k.keyid)),
  );
  return stale ? keys.activate(repo, role, listed) : all;
}

/**
 * `GET …/<role>.key`: the active key the current root lists for `role`, else the pending key
 * (created on the first call, ed25519), which the owner puts in the next root.
 */
export async function publicKeyFor(
  keys: OnlineKeys,
  repo: string,
  role: OnlineRole,
  root: Metadata<Root> | undefined,
): Promise<OnlinePublicKey> {
  const listed = root?.signed.roles[role]?.keyIDs ?? [];
  const active = (await synced(keys, repo, role, root)).find(
    (k) => k.state === 'active' && listed.includes(k.keyid),
  );
  if (active !== undefined) return publicOf(active, 'active');
  return publicOf(await keys.getOrCreatePending(repo, role, 'ed25519'), 'pending');
}

/**
 * `POST …/<role>.key`: a pending key that the current root does not list; the active key
 * keeps signing until a root listing the pending one is accepted (then it is retired). When a
 * rotation is already under way (a pending key exists) that key is returned again: the port
 * holds one pending key per role, and a retried POST must not orphan the key the owner may
 * already have put in a staged root (ADR 0022).
 */
export async function rotateKeyFor(
  keys: OnlineKeys,
  repo: string,
  role: OnlineRole,
  root: Metadata<Root> | undefined,
): Promise<OnlinePublicKey> {
  await synced(keys, repo, role, root);
  return publicOf(await keys.getOrCreatePending(repo, role, 'ed25519'), 'pending');
}
