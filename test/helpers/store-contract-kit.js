// The pieces the TrustStore contract suite (./store-contract.js) is built from: metadata
// documents, one-call appends, error-code assertions, gates for holding a write open.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { expiresOf } from '../../dist/server/store.js';

export const T0 = new Date('2026-01-01T00:00:00Z');
export const sha = (b) => createHash('sha256').update(b).digest('hex');

export const doc = (role, version, expires = '2030-01-01T00:00:00Z') =>
  Buffer.from(JSON.stringify({ signed: { _type: role, version, expires }, signatures: [] }));

/** A MetaUpdate with its expiry read from its bytes, as `metaUpdates` makes them. */
export const meta = (role, version, expires) => {
  const bytes = doc(role, version, expires);
  return { role, version, bytes, expiresAt: expiresOf(role, bytes) };
};

export const file = (path, text) => ({ path, bytes: Buffer.from(text) });

/** One transaction appending `updates` and target files `targets`. */
export const append = (store, repo, updates, targets = []) =>
  store.transact(repo, async (tx) => {
    tx.append(updates);
    tx.appendTargetFile(targets);
  });

export async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, e.message);
    return true;
  });
}

export function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** Let every pending callback run (a waiter that is not held back would run by then). */
export const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** A transact on `repo` held open inside `work` until `release()`; `held` resolves once inside. */
export function holdWrite(store, repo, updates = []) {
  const gate = deferred();
  const inside = deferred();
  const done = store.transact(repo, async (tx) => {
    inside.resolve();
    await gate.promise;
    tx.append(updates);
  });
  return { held: inside.promise, release: gate.resolve, done };
}

/** Versions, roles and bytes of every current role of `repo` (to prove a state unchanged). */
export async function snapshotOf(store, repo) {
  const state = await store.currentState(repo);
  return Object.fromEntries(
    Object.entries(state)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([role, bytes]) => [role, sha(bytes)]),
  );
}
