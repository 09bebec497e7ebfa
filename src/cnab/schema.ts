/**
 * Validation of `bundle.json` against the CNAB Core 1.0 JSON schema (draft-07), with ajv.
 * The validator is compiled once per process and only by commands that read bundles.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CnabError } from './errors.js';

const require = createRequire(import.meta.url);
let validator: ValidateFunction | undefined;

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./schema/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
}

function compile(): ValidateFunction {
  // ajv and ajv-formats are CommonJS packages.
  const Ajv = (require('ajv') as { default: typeof import('ajv').default }).default;
  const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(load('definitions.schema.json'));
  return ajv.compile(load('bundle.schema.json'));
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? '(top level)' : e.instancePath;
  return `${at} ${e.message ?? 'is invalid'}`;
}

/** Throw BUNDLE_INVALID listing the schema violations (first 10) of a parsed bundle. */
export function validateBundle(bundle: unknown, where: string): void {
  validator ??= compile();
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
