/**
 * Key-store workflows that look at repositories: which known repositories (./known-repos.ts)
 * and roles each key serves (`cnabsec key list`), removing a key only when no known
 * repository still lists it (`cnabsec key remove`), and signing a staged role with a stored
 * key only after the key is known to be one of the role's keys (`cnabsec sign --key`), so
 * that no passphrase is asked for a key that could not sign anyway.
 *
 * The registry is advisory: a repository that was moved or deleted is reported as
 * `not-found`, one that cannot be read as `unreadable` (with the reason), never as an error.
 */
import type { Metadata, Root } from '@tufjs/models';
import type { KeyInfo, KeyStore } from '../crypto/keystore.js';
import type { PassphraseSource } from '../crypto/passphrase.js';
import { LocalRepository } from '../tuf/repository.js';
import { FsMetadataStore } from '../tuf/store.js';
import { TufError } from '../tuf/errors.js';
import { assertAuthorized, keyPosition, signRole, stagedOrThrow } from '../tuf/signing.js';
import { isCnabsecError, messageOf } from '../errors.js';
import { WorkflowError } from './errors.js';
import { knownRepositories, type KnownRepository } from './known-repos.js';

/** One known repository as seen by one key. */
export interface KeyRepositoryUse {
  name: string;
  location: string;
  /** Roles whose key ids list the key (current or published root, delegating metadata). */
  roles: string[];
  /** Whether the current root (staged, else published) lists the key for a top-level role. */
  inRoot: boolean;
  /** `ok`, or the repository could not be looked at (then `roles` is empty, `problem` says why). */
  state: 'ok' | 'not-found' | 'unreadable';
  problem?: string;
}

/** A key of the store with the repositories and roles it serves (`key list --json`). */
export interface KeyListing {
  keyid: string;
  keytype: string;
  scheme: string;
  label: string;
  created: string;
  repositories: KeyRepositoryUse[];
}

interface OpenedRepository {
  known: KnownRepository;
  repo?: LocalRepository;
  state: KeyRepositoryUse['state'];
  problem?: string;
}

async function openKnown(known: KnownRepository): Promise<OpenedRepository> {
  try {
    return { known, repo: await LocalRepository.open(new FsMetadataStore(known.location)), state: 'ok' };
  } catch (e) {
    if (e instanceof TufError && e.code === 'REPO_NOT_FOUND') return { known, state: 'not-found' };
    if (!isCnabsecError(e)) throw e;
    return { known, state: 'unreadable', problem: `${e.code}: ${messageOf(e)}` };
  }
}

/** Open every known repository of `home` once. */
async function openAll(home: string): Promise<OpenedRepository[]> {
  const out: OpenedRepository[] = [];
  for (const known of await knownRepositories(home)) out.push(await openKnown(known));
  return out;
}

/** The roles of `repo` whose key ids list `keyid`, and whether its current root does. */
export function rolesOfKey(repo: LocalRepository, keyid: string): { roles: string[]; inRoot: boolean } {
  const roles = new Set<string>();
  let inRoot = false;
  const published = repo.published.get('root') as Metadata<Root> | undefined;
  for (const root of published === undefined ? [repo.root] : [repo.root, published]) {
    for (const [role, r] of Object.entries(root.signed.roles)) {
      if (!r.keyIDs.includes(keyid)) continue;
      roles.add(role);
      if (root === repo.root) inRoot = true;
    }
  }
  for (const role of repo.delegationParents().keys()) {
    if (repo.authoritiesFor(role).some((a) => a.keyIDs.includes(keyid))) roles.add(role);
  }
  return { roles: [...roles], inRoot };
}

function useOf(opened: OpenedRepository, keyid: string): KeyRepositoryUse | undefined {
  const { name, location } = opened.known;
  if (opened.repo === undefined) {
    return {
      name,
      location,
      roles: [],
      inRoot: false,
      state: opened.state,
      ...(opened.problem === undefined ? {} : { problem: opened.problem }),
    };
  }
  const { roles, inRoot } = rolesOfKey(opened.repo, keyid);
  return roles.length === 0 ? undefined : { name, location, roles, inRoot, state: 'ok' };
}

function listingOf(k: KeyInfo, opened: OpenedRepository[]): KeyListing {
  return {
    keyid: k.keyid,
    keytype: k.keytype,
    scheme: k.scheme,
    label: k.label,
    created: k.created,
    repositories: opened.flatMap((o) => useOf(o, k.keyid) ?? []),
  };
}

/**
 * Every key of `store` with the known repositories of `home` that list it; a repository that
 * cannot be opened appears under every key (with its state), as it might list any of them.
 */
export async function listKeys(store: KeyStore, home: string): Promise<KeyListing[]> {
  const keys = await store.list();
  const opened = keys.length === 0 ? [] : await openAll(home);
  return keys.map((k) => listingOf(k, opened));
}

export interface RemovedKey {
  keyid: string;
  label: string;
  /** Known repositories that still list the key (only with `force`). */
  stillListedIn: KeyRepositoryUse[];
  /** Known repositories that could not be checked (moved, deleted, unreadable). */
  unchecked: KeyRepositoryUse[];
}

/**
 * Delete the private key `ref` from `store`, nothing else. Refused (KEY_IN_USE, naming the
 * repository and roles) while a known repository of `home` lists the key, unless `force`.
 */
export async function removeKey(
  store: KeyStore,
  home: string,
  ref: string,
  options: { force?: boolean } = {},
): Promise<RemovedKey> {
  const key = await store.info(ref);
  const uses = (await openAll(home)).flatMap((o) => useOf(o, key.keyid) ?? []);
  const listed = uses.filter((u) => u.state === 'ok');
  const [first] = listed;
  if (first !== undefined && options.force !== true) {
    const where = listed.map((u) => `${u.name} (${u.location}) as ${u.roles.join(', ')}`).join('; ');
    throw new WorkflowError('KEY_IN_USE', `key ${key.keyid} is still a key of ${where}`, {
      details: { keyid: key.keyid, repositories: listed },
      hint: `rotate it out first (cnabsec key rotate ${first.location} ${first.roles[0] ?? 'root'} --remove-key ${key.keyid.slice(0, 8)}, then publish), or pass --force to delete it anyway`,
    });
  }
  await store.remove(key.keyid);
  return {
    keyid: key.keyid,
    label: key.label,
    stillListedIn: listed,
    unchecked: uses.filter((u) => u.state !== 'ok'),
  };
}

/**
 * Add one signature by the stored key `ref` to the staged `role` of `repo`. The role must be
 * staged and the key one of its keys (KEY_NOT_AUTHORIZED, hint listing the authorized key
 * ids) before the key's passphrase is asked; the prompt names the key's place among the
 * role's keys. Returns the full key id.
 */
export async function signRoleWithKey(
  repo: LocalRepository,
  role: string,
  store: KeyStore,
  ref: string,
  passphrases: PassphraseSource,
): Promise<string> {
  stagedOrThrow(repo, role);
  const keyid = await store.resolveId(ref);
  assertAuthorized(repo, role, keyid);
  await signRole(repo, role, await store.signer(keyid, passphrases, role, keyPosition(repo, role, keyid)));
  return keyid;
}
