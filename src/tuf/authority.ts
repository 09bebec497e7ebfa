/**
 * Who may sign a role, and whether a metadata object carries enough valid signatures.
 *
 * TUF spec §5.3.4 / §5.6: a role's metadata is trusted when at least `threshold` distinct
 * authorized keys signed it. A new root must meet the threshold of the trusted (previous)
 * root AND its own, so root has two authorities during a rotation.
 */
import { Key, Metadata, type Root, type Targets, type Snapshot, type Timestamp } from '@tufjs/models';
import { keyIdOf, type PublicKeyJson } from '../crypto/keys.js';

export type AnyMetadata = Metadata<Root | Targets | Snapshot | Timestamp>;

export interface Authority {
  /** What grants the keys, for messages: e.g. "root v3" or "targets v2 (delegation)". */
  readonly source: string;
  readonly keys: Record<string, Key>;
  readonly keyIDs: string[];
  readonly threshold: number;
}

export interface AuthorityStatus {
  source: string;
  threshold: number;
  keyIDs: string[];
  valid: string[];
  missing: string[];
  met: boolean;
}

/** Key ids among `authority.keyIDs` whose signature on `md` verifies. */
export function validSigners(md: AnyMetadata, authority: Authority): string[] {
  const valid: string[] = [];
  for (const keyid of new Set(authority.keyIDs)) {
    const key = authority.keys[keyid];
    if (key === undefined || md.signatures[keyid] === undefined) continue;
    try {
      key.verifySignature(md);
      valid.push(keyid);
    } catch {
      /* invalid signature: not counted */
    }
  }
  return valid;
}

export function authorityStatus(md: AnyMetadata, authority: Authority): AuthorityStatus {
  const valid = validSigners(md, authority);
  return {
    source: authority.source,
    threshold: authority.threshold,
    keyIDs: authority.keyIDs,
    valid,
    missing: authority.keyIDs.filter((k) => !valid.includes(k)),
    met: valid.length >= authority.threshold,
  };
}

/** A @tufjs/models Key from a public key in TUF JSON form. */
export function toKey(pub: PublicKeyJson): Key {
  const { keytype, scheme, keyval } = pub;
  return Key.fromJSON(keyIdOf({ keytype, scheme, keyval }), { keytype, scheme, keyval });
}

/** TUF JSON form of a @tufjs/models Key. */
export function fromKey(key: Key): PublicKeyJson {
  return key.toJSON() as unknown as PublicKeyJson;
}
