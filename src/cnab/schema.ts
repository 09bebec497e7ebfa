/**
 * Validation of `bundle.json` against the CNAB Core 1.0 JSON schema (draft-07), with ajv.
 * The validator is generated at build time, and loaded only by commands that read bundles.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CnabError } from './errors.js';

const require = createRequire(import.meta.url);
let validator: ValidateFunction | undefined;

/**
 * The validator compiled at build time from ./schema (scripts/build-schema.js, ajv standalone
 * code): no schema compilation at run time.
 */
function compiled(): ValidateFunction {
  return require('./schema/validate-bundle.cjs') as ValidateFunction;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? '(top level)' : e.instancePath;
  return `${at} ${e.message ?? 'is invalid'}`;
}

/** Throw BUNDLE_INVALID listing the schema violations (first 10) of a parsed bundle. */
export function validateBundle(bundle: unknown, where: string): void {
  validator ??= compiled();
  if (validator(bundle)) return;
  const errors = (validator.errors ?? []).map(describe);
  throw new CnabError(
    'BUNDLE_INVALID',
    `${where} does not conform to the CNAB bundle schema: ${errors.slice(0, 10).join('; ')}`,
    {
      details: { path: where, errors },
      hint: 'fix bundle.json (CNAB Core doc 101); the schema is in src/cnab/schema',
    },
  );
}
