/**
 * Rotating a key the metadata repository server holds (doc 302: the server may hold the
 * timestamp and snapshot keys; issue 13 item 4, ADR 0022): the server makes a new pending key
 * (POST `…/<role>.key`), which is staged in root in place of the role's current keys. The
 * server signs with it only once that root is published (uploaded and accepted); until then
 * its current key goes on signing, so clients never see a gap.
 */
import { generateKeyPair, toPublicKeyJson } from '../crypto/keys.js';
import type { LocalRepository } from '../tuf/repository.js';
import type { ServerRole } from '../tuf/repository-io.js';
import { rotateKeys, type RotationPlan } from '../tuf/rotation.js';
import { WorkflowError } from './errors.js';
import { remoteOf, type RemoteAccess } from './remote-clone.js';

export interface ServerKeyRotationOptions extends RemoteAccess {
  /** Validate the change with a stand-in key; the server is not asked for a new key, nothing is staged. */
  dryRun?: boolean;
  now?: Date;
}

/** Whether the server of `repo` holds `role`'s key. */
export function isServerHeld(repo: LocalRepository, role: string): role is ServerRole {
  return repo.config.server?.managed.includes(role as ServerRole) === true;
}

/** Stage a root listing a new server-made key for `role` instead of its current keys (run under the repository lock). */
export async function rotateServerKey(
  repo: LocalRepository,
  role: string,
  options: ServerKeyRotationOptions = {},
): Promise<RotationPlan> {
  if (!isServerHeld(repo, role))
    throw new WorkflowError(
      'WORKFLOW_INVALID_PLAN',
      `${role} of ${repo.config.name} is not held by a server`,
      {
        details: { role },
        hint: 'rotate it with --add-key/--remove-key: its keys are yours',
      },
    );
  const current = repo.authoritiesFor(role)[0]?.keyIDs ?? [];
  const key =
    options.dryRun === true
      ? toPublicKeyJson(generateKeyPair('ed25519').privateKey) // a stand-in, never stored or listed
      : (await remoteOf(repo, options).rotateKey(role)).public;
  const plan = rotateKeys(
    repo,
    role,
    { add: [key], remove: [...current] },
    { dryRun: options.dryRun === true, ...(options.now === undefined ? {} : { now: options.now }) },
  );
  if (options.dryRun !== true) await repo.saveStaged();
  return plan;
}
