import { CnabsecError } from '../errors.js';

/** Codes of the server layer (`cnabsec serve`). */
export type ServerErrorCode =
  /** The directory to serve does not exist or cannot be opened. */
  | 'SERVER_DIRECTORY'
  /** The address cannot be listened on (in use, not local, not permitted). */
  | 'SERVER_LISTEN_FAILED';

/** Errors of the server layer. */
export class ServerError extends CnabsecError<ServerErrorCode> {}
