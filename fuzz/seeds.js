// Deterministic seed material: keys derived from the fuzz seed (ed25519 and ECDSA P-256, whose
// public keys — and ed25519 signatures — depend only on the seed), and the default case
// generator that mutates one seed input with 1-3 raw or structure-aware mutations.
import { createECDH, createHash, createPrivateKey } from 'node:crypto';
import { mutateBytes, mutateTree, serialize, toTree } from './mutate.js';

const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

function seedBytes(...key) {
  return createHash('sha256').update(key.join('\u0000')).digest();
}

/** A KeyObject private key, the same for the same (seed, name). */
export function derivedKey(seed, name, type = 'ed25519') {
  const d = seedBytes('key', seed, name);
  if (type === 'ed25519')
    return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, d]), format: 'der', type: 'pkcs8' });
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  const b64 = (b) => Buffer.from(b).toString('base64url');
  return createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64(d), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33)) },
    format: 'jwk',
  });
}

/** A seed input: {label, bytes, tree?} (tree when the bytes are JSON). */
export function jsonSeed(label, bytesOrValue) {
  const bytes =
    Buffer.isBuffer(bytesOrValue) || typeof bytesOrValue === 'string'
      ? Buffer.from(bytesOrValue)
      : Buffer.from(JSON.stringify(bytesOrValue));
  let tree;
  try {
    tree = toTree(JSON.parse(bytes.toString('utf8')));
  } catch {
    tree = undefined;
  }
  return { label, bytes, tree };
}

/** Mutate JSON structurally (then maybe raw), or raw only. */
export function mutateSeed(rng, seed, others = []) {
  const donors = others.map((o) => o.tree).filter((t) => t !== undefined);
  let bytes;
  if (seed.tree !== undefined && rng.chance(0.7)) {
    let tree = seed.tree;
    const n = rng.range(1, 3);
    for (let k = 0; k < n; k++) tree = mutateTree(rng, tree, donors);
    bytes = Buffer.from(
      serialize(
        tree,
        rng.weighted([
          [6, 0],
          [2, 1],
          [1, 2],
        ]),
      ),
    );
    if (rng.chance(0.15))
      bytes = mutateBytes(
        rng,
        bytes,
        others.map((o) => o.bytes),
      );
  } else {
    bytes = seed.bytes;
    const n = rng.range(1, 3);
    for (let k = 0; k < n; k++)
      bytes = mutateBytes(
        rng,
        bytes,
        others.map((o) => o.bytes),
      );
  }
  return bytes;
}

/** Default generator: a mutated seed, or (rarely) the seed itself as a control. */
export function generateFrom(seeds, rng) {
  const seed = rng.pick(seeds);
  if (rng.chance(0.02)) return { label: seed.label, bytes: seed.bytes };
  return { label: seed.label, bytes: mutateSeed(rng, seed, seeds) };
}

/**
 * Run every entry point on the same input; rethrow the worst error: a finding (crash or a
 * wrapped engine error) before a plain refusal (CnabsecError), so that one API's refusal
 * does not hide another's crash.
 */
export async function all(...fns) {
  const { classify } = await import('./classify.js');
  let refusal;
  for (const fn of fns) {
    try {
      await fn();
    } catch (e) {
      if (classify(e).status !== 'rejected') throw e;
      refusal ??= e;
    }
  }
  if (refusal !== undefined) throw refusal;
}
