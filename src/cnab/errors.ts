import { CnabsecError } from '../errors.js';

export type CnabErrorCode =
  'BUNDLE_NOT_FOUND' | 'BUNDLE_INVALID_JSON' | 'BUNDLE_INVALID' | 'BUNDLE_NOT_CANONICAL' | 'INVALID_TAG';

/** Errors of the CNAB layer: bundle files, archives, target names. */
export class CnabError extends CnabsecError<CnabErrorCode> {}
