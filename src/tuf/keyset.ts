/**
 * A change to the keys and threshold of one role, as listed by its delegator (root for the
 * top-level roles, the delegating targets role for delegated roles). Pure computation and
 * validation: no metadata is touched here (see ./rotation.ts and ./delegation.ts).
 *
 * Rules (TUF spec §4.3 and §4.5: a role is trusted when `threshold` distinct listed keys
 * signed it): the threshold is a positive integer and never above the number of keys, a
 * removed key must be listed, an added key must not be, and a change must change something.
 */
import { toKey } from './authority.js';
import { TufError } from './errors.js';
import type { PublicKeyJson } from '../crypto/keys.js';

export interface KeyChange {
  /** Public keys to add. */
  add?: PublicKeyJson[];
  /** Key ids, or unique prefixes of at least 8 hex digits, to remove. */
  remove?: string[];
  /** New threshold (default: unchanged). */
  threshold?: number;
}

export interface KeySet {
  keyids: string[];
  threshold: number;
}

export interface KeySetChange {
  role: string;
  /** The role whose metadata lists the keys: `root`, or the delegating targets role. */
  delegator: string;
  before: KeySet;
  after: KeySet;
  added: string[];
  removed: string[];
  /** The added keys in TUF JSON form, by key id. */
  newKeys: Record<string, PublicKeyJson>;
}

/** The full key id among `keyids` that `ref` names (a full id or a unique prefix of >= 8 hex digits). */
export function resolveRoleKey(role: string, keyids: string[], ref: string): string {
  const r = ref.toLowerCase();
  const hits = /^[0-9a-f]{8,64}$/.test(r) ? keyids.filter((k) => k.startsWith(r)) : [];
  if (hits.length === 1 && hits[0] !== undefined) return hits[0];
  throw new TufError(
    'KEY_NOT_IN_ROLE',
    hits.length > 1
      ? `key id prefix ${ref} matches ${hits.length} keys of ${role}`
      : `key ${ref} is not a key of ${role}`,
    {
      details: { role, keyid: ref, keyids },
      hint: `keys of ${role}: ${keyids.join(', ') || '(none)'}`,
    },
  );
}

export function checkKeySet(role: string, set: KeySet): void {
  if (!Number.isInteger(set.threshold) || set.threshold < 1) {
    throw new TufError(
      'INVALID_ARGUMENT',
      `threshold of ${role} must be a positive integer, got ${set.threshold}`,
      {
        details: { role, threshold: set.threshold },
        hint: 'give --threshold 1 or more',
      },
    );
  }
  if (set.keyids.length < set.threshold) {
    throw new TufError(
      'THRESHOLD_NOT_MET',
      `${role} would have ${set.keyids.length} key(s) for a threshold of ${set.threshold}`,
      {
        details: { role, keyids: set.keyids, threshold: set.threshold },
        hint: `keep at least ${set.threshold} key(s) (add keys with --add-key) or lower --threshold`,
      },
    );
  }
}

/** Compute and validate the new key set of `role`; throws a coded error on an invalid change. */
export function planKeySetChange(
  role: string,
  delegator: string,
  before: KeySet,
  change: KeyChange,
): KeySetChange {
  const removed = [...new Set((change.remove ?? []).map((r) => resolveRoleKey(role, before.keyids, r)))];
  const newKeys: Record<string, PublicKeyJson> = {};
  for (const pub of change.add ?? []) {
    const keyid = toKey(pub).keyID;
    if (before.keyids.includes(keyid)) {
      throw new TufError('KEY_ALREADY_IN_ROLE', `key ${keyid} is already a key of ${role}`, {
        details: { role, keyid },
        hint: 'add a different key, or use --add-key new to generate one',
      });
    }
    newKeys[keyid] = pub;
  }
  const added = Object.keys(newKeys);
  const after: KeySet = {
    keyids: [...before.keyids.filter((k) => !removed.includes(k)), ...added],
    threshold: change.threshold ?? before.threshold,
  };
  checkKeySet(role, after);
  if (added.length === 0 && removed.length === 0 && after.threshold === before.threshold) {
    throw new TufError(
      'NOTHING_TO_CHANGE',
      `the change leaves the keys and threshold of ${role} as they are`,
      {
        details: { role },
        hint: 'give --add-key, --remove-key or a different --threshold',
      },
    );
  }
  return { role, delegator, before, after, added, removed, newKeys };
}

/** Human-readable lines of a key set change, for `--dry-run` and confirmations. */
export function describeKeySetChange(c: KeySetChange): string[] {
  const short = (k: string): string => k.slice(0, 8);
  const lines = [`${c.role} (keys listed by ${c.delegator}):`];
  for (const k of c.added) lines.push(`  + key ${k}`);
  for (const k of c.removed) lines.push(`  - key ${k}`);
  const kept = c.before.keyids.filter((k) => !c.removed.includes(k));
  if (kept.length > 0) lines.push(`    kept ${kept.map(short).join(' ')}`);
  lines.push(
    `  threshold ${c.before.threshold}-of-${c.before.keyids.length} -> ${c.after.threshold}-of-${c.after.keyids.length}`,
  );
  return lines;
}
