import { CnabsecError } from '../errors.js';

/** Codes of the CLI layer's own errors (lower layers' errors pass through unchanged). */
export type CliErrorCode =
  /** A file named by the user (`-o/--output`) cannot be written. */
  'OUTPUT_WRITE_FAILED';

/** Errors of the CLI layer. */
export class CliError extends CnabsecError<CliErrorCode> {}
