/**
 * Workaround (ADR 0005) for quadratic targets (de)serialization in @tufjs/models 4.1.1 (also
 * present in 5.0.2): its `targetsToJSON` / `targetsFromJSON` build the targets map with
 * `{ ...acc, [path]: x }` for every entry, copying the map once per target — about 40 s to
 * parse 10 000 targets, hours for 100 000. The tuf-js client parses through the same code.
 *
 * This module replaces `Targets.fromJSON` and `Targets.prototype.toJSON` with linear versions
 * that build the same objects in the same key order, with the same validation and errors. It is
 * applied once, only to the exact version it was written against; with any other version the
 * library is left untouched.
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

function apply(): boolean {
  const version = (require('@tufjs/models/package.json') as { version: string }).version;
  if (version !== PATCHED_MODELS_VERSION) return false;
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
    const out: Record<string, TargetFile> = {};
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
      const targets: Json = {};
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
  Object.defineProperty(Targets, PATCHED, { value: true });
  return true;
}

/** Whether the linear (de)serialization is in place. */
export const modelsPatched: boolean = apply();
