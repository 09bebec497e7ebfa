/**
 * Workaround (ADR 0005) for quadratic targets (de)serialization in @tufjs/models 4.1.1 (also
 * present in 5.0.2): its `targetsToJSON` / `targetsFromJSON` build the targets map with
 * `{ ...acc, [path]: x }` for every entry, copying the map once per target — about 40 s to
 * parse 10 000 targets, hours for 100 000. The tuf-js client parses through the same code.
 *
 * This module replaces `Targets.fromJSON` and `Targets.prototype.toJSON` with linear versions
 * that build the same objects in the same key order, with the same validation and errors. It is
 * applied once, only to the exact version it was written against; with any other version the
 * library is left untouched and `modelsPatchStatus().applied` is false, which
 * test/tuf/models-patch.test.js asserts against: bumping @tufjs/models fails the tests instead
 * of bringing the quadratic parse back unnoticed (ADR 0005 names the upstream change that would
 * let this module go).
 *
 * The targets maps (parsed and serialized) have no prototype (`Object.create(null)`): a target
 * named `__proto__` is an own entry like any other (assigning it on a `{}` would set the
 * prototype and drop the target), and a lookup of an unsigned name such as `constructor` or
 * `toString` finds nothing instead of an `Object.prototype` member.
 */
import { createRequire } from 'node:module';
import { TargetFile, Targets } from '@tufjs/models';

const require = createRequire(import.meta.url);
export const PATCHED_MODELS_VERSION = '4.1.1';

type Json = Record<string, unknown>;
interface SignedStatic {
  commonFieldsFromJSON(data: Json): Json & { unrecognizedFields: Json };
}
interface DelegationsStatic {
  fromJSON(data: Json): unknown;
}

/**
 * Set on `Targets` once patched: a process may hold several copies of this module (the CLI's
 * command group bundles each have one, ADR 0006) and the library must be patched only once.
 */
const PATCHED = Symbol.for('cnabsec.models-patch');

/** The version of @tufjs/models that this process loaded. */
export function installedModelsVersion(): string {
  return (require('@tufjs/models/package.json') as { version: string }).version;
}

function apply(): boolean {
  if (installedModelsVersion() !== PATCHED_MODELS_VERSION) return false;
  if (PATCHED in Targets) return true;
  const Signed = Object.getPrototypeOf(Targets) as SignedStatic;
  const { Delegations } = require('@tufjs/models/dist/delegations') as { Delegations: DelegationsStatic };
  // the library's own guards, so that validation is the same by construction
  const { guard } = require('@tufjs/models/dist/utils') as {
    guard: {
      isDefined(v: unknown): boolean;
      isObject(v: unknown): boolean;
      isObjectRecord(v: unknown): boolean;
    };
  };

  const targetsFromJSON = (data: unknown): Record<string, TargetFile> | undefined => {
    if (!guard.isDefined(data)) return undefined;
    if (!guard.isObjectRecord(data)) throw new TypeError('targets must be an object');
    const out = Object.create(null) as Record<string, TargetFile>;
    for (const [path, target] of Object.entries(data as Json))
      out[path] = TargetFile.fromJSON(path, target as never);
    return out;
  };
  const delegationsFromJSON = (data: unknown): unknown => {
    if (!guard.isDefined(data)) return undefined;
    if (!guard.isObject(data)) throw new TypeError('delegations must be an object');
    return Delegations.fromJSON(data as Json);
  };

  Object.defineProperty(Targets, 'fromJSON', {
    configurable: true,
    writable: true,
    value: function fromJSON(data: Json): Targets {
      const { unrecognizedFields, ...commonFields } = Signed.commonFieldsFromJSON(data);
      const { targets, delegations, ...rest } = unrecognizedFields;
      return new Targets({
        ...(commonFields as unknown as ConstructorParameters<typeof Targets>[0]),
        targets: targetsFromJSON(targets),
        delegations: delegationsFromJSON(delegations),
        unrecognizedFields: rest,
      } as ConstructorParameters<typeof Targets>[0]);
    },
  });
  Object.defineProperty(Targets.prototype, 'toJSON', {
    configurable: true,
    writable: true,
    value: function toJSON(this: Targets): Json {
      const targets = Object.create(null) as Json;
      for (const [path, target] of Object.entries(this.targets)) targets[path] = target.toJSON();
      const json: Json = {
        _type: this.type,
        spec_version: this.specVersion,
        version: this.version,
        expires: this.expires,
        targets,
        ...this.unrecognizedFields,
      };
      if (this.delegations) json.delegations = this.delegations.toJSON();
      return json;
    },
  });
  const method = (o: object, k: string): unknown => Object.getOwnPropertyDescriptor(o, k)?.value;
  Object.defineProperty(Targets, PATCHED, { value: method(Targets, 'fromJSON') });
  Object.defineProperty(Targets.prototype, PATCHED, { value: method(Targets.prototype, 'toJSON') });
  return true;
}

/** Whether the linear (de)serialization is in place. */
export const modelsPatched: boolean = apply();

export interface ModelsPatchStatus {
  /** The version this patch was written against, and the one installed. */
  expected: string;
  installed: string;
  /** The patch was applied (the versions are equal) and both methods are still ours. */
  applied: boolean;
}

/** Whether the patch is applied and still in place (`Targets` methods are the patched ones). */
export function modelsPatchStatus(): ModelsPatchStatus {
  const marks = Targets as unknown as Record<symbol | string, unknown>;
  const protoMarks = Targets.prototype as unknown as Record<symbol | string, unknown>;
  return {
    expected: PATCHED_MODELS_VERSION,
    installed: installedModelsVersion(),
    applied: modelsPatched && marks[PATCHED] === marks.fromJSON && protoMarks[PATCHED] === protoMarks.toJSON,
  };
}
