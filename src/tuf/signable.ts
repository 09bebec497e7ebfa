/**
 * Only what every TUF peer reads the same way gets signed (ADR 0007): the signed part of a
 * role may hold only safe integers, valid Unicode, and objects whose keys sort the same by
 * UTF-16 unit (@tufjs/canonical-json) and by code point (python-tuf / securesystemslib).
 * Checked when a role is staged or edited, and again right before a signature is made, so a
 * value staged by hand or by an older cnabsec fails with a typed error, not a crash.
 */
import { findUnsignableValue, quote } from '../util/json.js';
import { TufError } from './errors.js';

export const SIGNABLE_HINT =
  'signed metadata may hold only integers between -(2^53-1) and 2^53-1 (no fractions or exponents), valid Unicode strings, and object keys that sort the same by UTF-16 unit and by code point';

/** Throw UNSIGNABLE_VALUE naming the path of the first value peers would read differently. */
export function assertSignable(role: string, signed: unknown, where = `/signed`): void {
  const bad = findUnsignableValue(signed, where);
  if (bad === undefined) return;
  throw new TufError(
    'UNSIGNABLE_VALUE',
    `${role}: value at ${quote(bad.path, 120)} cannot be signed: ${bad.reason}`,
    {
      details: { role, path: bad.path.slice(0, 240) },
      hint: `${SIGNABLE_HINT}; change the value (for a staged target: add it again or remove it, e.g. \`cnabsec bundle remove\`)`,
    },
  );
}
