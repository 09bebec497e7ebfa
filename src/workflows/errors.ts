import { CnabsecError } from '../errors.js';

/**
 * Codes of the repository-workflow layer (doc 302 workflows composed from crypto, tuf and
 * cnab). Errors of lower layers pass through unchanged; these are the workflow's own.
 */
export type WorkflowErrorCode =
  /** A plan's inputs contradict each other (threshold above keys, expiry under refresh...). */
  | 'WORKFLOW_INVALID_PLAN'
  /** `init` was given no repository name (and not told to take the directory's). */
  | 'NAME_REQUIRED'
  /** A role the workflow does not handle, e.g. `resign snapshot` (renewed by publish/refresh). */
  | 'WORKFLOW_ROLE_REFUSED'
  /** The known-repositories registry under $CNABSEC_HOME cannot be read or written. */
  | 'KNOWN_REPOSITORIES_IO'
  /** An apply was interrupted (its AbortSignal, e.g. Ctrl-C) and rolled back. */
  | 'WORKFLOW_INTERRUPTED'
  /** `key remove` of a key a known repository still lists (without --force). */
  | 'KEY_IN_USE'
  /** A publish based on a state the server no longer has (HTTP 409, or a version it already holds): pull and retry. */
  | 'PUBLISH_CONFLICT'
  /** The metadata repository server refused a request; `details.serverCode` is its error code. */
  | 'REMOTE_REFUSED'
  /** The server's answer is not what the HTTP contract says (not JSON, no key, too long). */
  | 'REMOTE_BAD_RESPONSE'
  /** A remote command on a repository that has no server (`init --server` sets one). */
  | 'REMOTE_NOT_CONFIGURED'
  /** The server holds no published state of the repository (clone or pull of nothing). */
  | 'REMOTE_EMPTY'
  /** The server accepted a publish, but its new state could not be fetched back: run `pull`. */
  | 'PUBLISHED_NOT_PULLED';

/** Errors of the workflows layer. */
export class WorkflowError extends CnabsecError<WorkflowErrorCode> {}
