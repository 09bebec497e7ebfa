/**
 * Which role a tuf-js failure is about, and what it really was. The tuf-js 5 Updater re-throws
 * failures while loading snapshot and targets as a `RuntimeError` that keeps only the inner
 * error's text, and its messages repeat values from the metadata. Rather than reading that text,
 * the client wraps the four update methods of the Updater's trusted-metadata store (TUF §5.3-5.6:
 * `updateRoot`, `updateTimestamp`, `updateSnapshot`, `updateDelegatedTargets`) on its own
 * instance and records, in the fetcher's `lastAttempt`, the role verified and the error object
 * thrown, with its class (./errors.ts classifies by class).
 *
 * The store is a private field of tuf-js, so this is done only for the version it was written
 * against (`HOOKED_TUFJS_VERSION`); `tufjsHooksApplicable()` is asserted by the tests, so a
 * tuf-js bump fails them. Without the hooks errors are still typed, from the outer error only.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Metadata, Root, Snapshot, Timestamp } from '@tufjs/models';
import type { Updater } from 'tuf-js';
import type { Attempt, RecordingFetcher } from './fetcher.js';
import { TufjsExpiredMetadataError } from './upstream.js';
import { RepositoryError } from '../errors.js';
import { quote } from '../../util/json.js';
import { errnoOf } from '../../util/errno.js';
import { trace, traceRead, tracing } from '../../util/trace.js';

const require = createRequire(import.meta.url);
export const HOOKED_TUFJS_VERSION = '5.0.1';

interface Store {
  referenceTime: Date;
  root: Metadata<Root>;
  timestamp?: Metadata<Timestamp>;
  snapshot?: Metadata<Snapshot>;
  [method: string]: unknown;
}

type Blame = (store: Store, args: unknown[], error: unknown) => string;

/**
 * The role to blame when a method fails. `updateTimestamp` first checks that the trusted root
 * has not expired; `updateSnapshot` that the timestamp has not; `updateDelegatedTargets` that
 * the snapshot is final (not expired, the version the timestamp lists) — in tuf-js 5.0.1's
 * store.js, mirrored here from the store's state rather than read from the message.
 */
const BLAME: Record<string, Blame> = {
  updateRoot: () => 'root',
  updateTimestamp: (s, _a, e) =>
    e instanceof TufjsExpiredMetadataError && s.root.signed.isExpired(s.referenceTime) ? 'root' : 'timestamp',
  updateSnapshot: (s, _a, e) =>
    e instanceof TufjsExpiredMetadataError && s.timestamp?.signed.isExpired(s.referenceTime) === true
      ? 'timestamp'
      : 'snapshot',
  updateDelegatedTargets: (s, args) => {
    const snap = s.snapshot;
    const finalSnapshot =
      snap === undefined ||
      (!snap.signed.isExpired(s.referenceTime) &&
        snap.signed.version === s.timestamp?.signed.snapshotMeta.version);
    return finalSnapshot ? String(args[1]) : 'snapshot';
  },
};

export function installedTufjsVersion(): string {
  return (require('tuf-js/package.json') as { version: string }).version;
}

function storeOf(updater: Updater): Store | undefined {
  const store = (updater as unknown as { trustedSet?: Store }).trustedSet;
  if (typeof store !== 'object' || store === null) return undefined;
  return Object.keys(BLAME).every((m) => typeof store[m] === 'function') ? store : undefined;
}

/** Whether the hooks apply to the installed tuf-js (asserted by the tests). */
export function tufjsHooksApplicable(updater: Updater): boolean {
  return installedTufjsVersion() === HOOKED_TUFJS_VERSION && storeOf(updater) !== undefined;
}

/** Record each verification of `updater` in `fetcher.lastAttempt`; returns whether it could. */
export function hookUpdater(updater: Updater, fetcher: RecordingFetcher): boolean {
  if (!tufjsHooksApplicable(updater)) return false;
  const store = storeOf(updater) as Store;
  for (const [method, blame] of Object.entries(BLAME)) {
    const original = (store[method] as (...a: unknown[]) => unknown).bind(store);
    Object.defineProperty(store, method, {
      configurable: true,
      value: (...args: unknown[]): unknown => {
        const attempt: Attempt = { kind: 'verify' };
        fetcher.lastAttempt = attempt;
        try {
          return original(...args);
        } catch (e) {
          try {
            attempt.role = blame(store, args, e);
          } catch {
            /* the store state is not what 5.0.1 has: leave the role unknown */
          }
          attempt.error = e;
          throw e;
        }
      },
    });
  }
  guardLoadTargets(updater, store);
  return true;
}

/**
 * TUF §5.6: every targets role the client loads must be listed in the trusted snapshot. tuf-js
 * 5.0.1 dereferences the snapshot entry without checking it (`metaInfo.length` of undefined, a
 * TypeError), so a snapshot that omits a delegated role is refused here, by name, first.
 */
function guardLoadTargets(updater: Updater, store: Store): void {
  const target = updater as unknown as Record<string, unknown>;
  const original = target.loadTargets;
  if (typeof original !== 'function') return;
  Object.defineProperty(target, 'loadTargets', {
    configurable: true,
    value: (role: string, parent: string): unknown => {
      const snap = store.snapshot;
      const known = (store.getRole as ((r: string) => unknown) | undefined)?.call(store, role);
      if (known === undefined && snap !== undefined && !Object.hasOwn(snap.signed.meta, `${role}.json`)) {
        throw new RepositoryError(
          'TUF_METADATA_INVALID',
          `snapshot v${snap.signed.version} does not list ${quote(`${role}.json`)}, which ${quote(parent)} delegates to`,
          {
            details: { role, snapshot: snap.signed.version },
            hint: 'the repository was published incompletely or tampered with: every targets role must be in the snapshot (TUF §5.6); ask its owner to publish again',
          },
        );
      }
      return (original as (r: string, p: string) => unknown).call(updater, role, parent);
    },
  });
}

/**
 * `-v`: trace each cached metadata file tuf-js reads (its private `loadLocalMetadata(role)`,
 * tuf-js 5.0.1 reads `<metadataDir>/<role>.json` synchronously); only when tracing is on.
 */
export function traceLocalReads(updater: Updater, dir: string): void {
  if (!tracing()) return;
  const target = updater as unknown as Record<string, unknown>;
  const original = target.loadLocalMetadata;
  if (typeof original !== 'function') return;
  Object.defineProperty(target, 'loadLocalMetadata', {
    configurable: true,
    value: (fileName: string): unknown => {
      const file = path.join(dir, `${fileName}.json`);
      try {
        const bytes = (original as (f: string) => Buffer).call(updater, fileName);
        traceRead(file, bytes.length);
        return bytes;
      } catch (e) {
        trace(() => `read ${file}: not readable (${errnoOf(e) ?? 'error'})`);
        throw e;
      }
    },
  });
}
