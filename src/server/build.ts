/**
 * The snapshot and timestamp a server that holds their keys makes after an accepted upload
 * (doc 302; issue 13 item 4), as the unsigned `signed` portion: the caller signs it
 * (canonical JSON, ../tuf/signing.ts) and stores it in the same transaction. Pure.
 *
 * They are the same documents `publish` makes (../tuf/publish.ts `makeSnapshot` and
 * `makeTimestamp`): the same field order, `spec_version`, the current snapshot's entries kept
 * (a client refuses a snapshot that drops one, TUF §5.5.5), every targets role with its
 * version and length (no hashes), and the timestamp listing the snapshot's version, length and
 * sha256. `publish`'s versions read a LocalRepository and its store, so they are not shared;
 * test/server/validate.test.js checks that both give the same documents.
 */
import '../tuf/models-patch.js';
import type { Metadata, Snapshot } from '@tufjs/models';
import { isTopLevel } from '../tuf/policy.js';
import { SPEC_VERSION } from '../tuf/repository.js';
import { parseState, sha256Hex, type RepositoryState } from './upload-parse.js';
import type { AcceptedRole } from './validate.js';

export interface BuildOptions {
  version: number;
  /** An RFC 3339 time as publish writes it (`2026-01-02T03:04:05Z`), or a Date (seconds kept). */
  expires: string | Date;
}

export interface SnapshotSigned {
  _type: 'snapshot';
  spec_version: string;
  version: number;
  expires: string;
  meta: Record<string, { version: number; length?: number }>;
}

export interface TimestampSigned {
  _type: 'timestamp';
  spec_version: string;
  version: number;
  expires: string;
  meta: { 'snapshot.json': { version: number; length: number; hashes: { sha256: string } } };
}

function expiresText(expires: string | Date): string {
  if (typeof expires === 'string') return expires;
  return new Date(Math.floor(expires.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The state once `accepted` is stored: a new object, `state` is not changed. */
export function stateAfter(state: RepositoryState, accepted: readonly AcceptedRole[]): RepositoryState {
  const out: Record<string, Uint8Array> = { ...state };
  for (const a of accepted) out[a.role] = a.bytes;
  return out;
}

/** The snapshot over `state` (after the upload): every targets role's version and length. */
export function buildSnapshot(state: RepositoryState, options: BuildOptions): SnapshotSigned {
  const parsed = parseState(state);
  const previous = parsed.get('snapshot')?.md as Metadata<Snapshot> | undefined;
  const meta: SnapshotSigned['meta'] = {};
  for (const [file, m] of Object.entries(previous?.signed.meta ?? {}))
    meta[file] = { version: m.version, ...(m.length === undefined ? {} : { length: m.length }) };
  const roles = [...parsed.keys()].filter((r) => r === 'targets' || !isTopLevel(r));
  for (const role of roles) {
    const p = parsed.get(role);
    if (p !== undefined) meta[`${role}.json`] = { version: p.md.signed.version, length: p.bytes.byteLength };
  }
  return {
    _type: 'snapshot',
    spec_version: SPEC_VERSION,
    version: options.version,
    expires: expiresText(options.expires),
    meta,
  };
}

/** The timestamp over `state`'s snapshot (its version, length and sha256, TUF §4.6). */
export function buildTimestamp(state: RepositoryState, options: BuildOptions): TimestampSigned {
  const bytes = state.snapshot;
  if (bytes === undefined)
    throw new Error('buildTimestamp: the state has no snapshot (build and sign it first)');
  const snapshot = parseState({ snapshot: bytes }).get('snapshot');
  return {
    _type: 'timestamp',
    spec_version: SPEC_VERSION,
    version: options.version,
    expires: expiresText(options.expires),
    meta: {
      'snapshot.json': {
        version: snapshot?.md.signed.version ?? 0,
        length: bytes.byteLength,
        hashes: { sha256: sha256Hex(bytes) },
      },
    },
  };
}
