/**
 * The repositories this key store's owner set up: `$CNABSEC_HOME/repositories.json`, one
 * entry per local repository directory (`name`, absolute `location`, `added`). `init`
 * records a repository here so that `key list` can say which repository and role each key
 * serves and whether the repository's current root still lists it (Notary records the GUN
 * and role in each key file for the same purpose). The file is advisory: a moved or deleted
 * repository is simply reported as not found; it never grants trust.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { isNotFound } from '../util/errno.js';
import { readUserFile, writeFileAtomic } from '../util/fs.js';
import { parseJsonBounded } from '../util/json.js';
import { messageOf } from '../errors.js';
import { WorkflowError } from './errors.js';
import { withRepositoryLock } from '../tuf/lock.js';

export interface KnownRepository {
  name: string;
  /** Absolute path of the repository directory. */
  location: string;
  /** ISO time it was recorded. */
  added: string;
}

/** The registry file is small; a larger one is refused, not read. */
const MAX_BYTES = 4 * 1024 * 1024;

export function knownRepositoriesFile(home: string): string {
  return path.join(home, 'repositories.json');
}

function ioError(op: string, file: string, e: unknown): WorkflowError {
  return new WorkflowError('KNOWN_REPOSITORIES_IO', `cannot ${op} ${file}: ${messageOf(e)}`, {
    details: { path: file },
    cause: e,
    hint: `fix or remove ${file}; it only records which repositories this key store set up`,
  });
}

/** The recorded repositories ([] when none were recorded). */
export async function knownRepositories(home: string): Promise<KnownRepository[]> {
  const file = knownRepositoriesFile(home);
  let text: string;
  try {
    text = (await readUserFile(file, MAX_BYTES)).toString('utf8');
  } catch (e) {
    if (isNotFound(e)) return [];
    throw ioError('read', file, e);
  }
  let doc: unknown;
  try {
    doc = parseJsonBounded(text, { maxBytes: MAX_BYTES, source: file });
  } catch (e) {
    throw ioError('parse', file, e);
  }
  const list = (doc as { repositories?: unknown } | null)?.repositories;
  if (!Array.isArray(list)) throw ioError('parse', file, new Error('no "repositories" list'));
  return list.filter(
    (r): r is KnownRepository =>
      r !== null &&
      typeof r === 'object' &&
      typeof (r as KnownRepository).name === 'string' &&
      typeof (r as KnownRepository).location === 'string' &&
      typeof (r as KnownRepository).added === 'string',
  );
}

/** How long a writer waits for another one to finish with the registry. */
const REGISTRY_LOCK_WAIT_MS = 10_000;

/**
 * Record (or refresh) the repository at `location`; entries are unique by location. The
 * read-modify-write holds `$CNABSEC_HOME/.cnabsec.lock` (../tuf/lock.ts), so two `init`s at once
 * both stay recorded: a lost entry would let `key remove` delete a key that repository uses.
 */
export async function rememberRepository(
  home: string,
  repo: { name: string; location: string },
  now: Date = new Date(),
): Promise<void> {
  const location = path.resolve(repo.location);
  const file = knownRepositoriesFile(home);
  try {
    await mkdir(home, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError('write', file, e);
  }
  await withRepositoryLock(
    home,
    async () => {
      const others = (await knownRepositories(home)).filter((r) => r.location !== location);
      const repositories = [...others, { name: repo.name, location, added: now.toISOString() }];
      try {
        await writeFileAtomic(file, JSON.stringify({ repositories }, null, 2) + '\n', { mode: 0o600 });
      } catch (e) {
        throw ioError('write', file, e);
      }
    },
    { waitMs: REGISTRY_LOCK_WAIT_MS },
  );
}
