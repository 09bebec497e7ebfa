/**
 * Sealing an online private key at rest (ADR 0021): AES-256-GCM (node:crypto) under the
 * master key (./master-key.ts), a random 96-bit nonce per seal, and the additional
 * authenticated data `repo|role|keyid`, so a sealed blob copied to another repository, role
 * or key id does not open. The kek id travels with the blob, so that after a master-key
 * rotation the right key of the ring is chosen (or KEK_UNKNOWN says which one is missing).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ServerError } from './errors.js';
import type { MasterKey, MasterKeyRing } from './master-key.js';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Where a sealed key belongs; bound into the ciphertext as AAD. */
export interface SealContext {
  repo: string;
  role: string;
  keyid: string;
}

export interface SealedKey {
  kekId: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** `repo|role|keyid` as bytes. Repository names, role names and key ids never contain `|`. */
export function sealAad(ctx: SealContext): Buffer {
  for (const part of [ctx.repo, ctx.role, ctx.keyid])
    if (part.includes('|')) throw new Error(`seal context part contains '|': ${JSON.stringify(part)}`);
  return Buffer.from(`${ctx.repo}|${ctx.role}|${ctx.keyid}`, 'utf8');
}

/** Seal a PKCS#8 DER private key under `master`, bound to `ctx`. */
export function sealPrivateKey(master: MasterKey, pkcs8: Uint8Array, ctx: SealContext): SealedKey {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, master.secretKey(), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(sealAad(ctx));
  const ciphertext = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  return { kekId: master.kekId, nonce, ciphertext, tag: cipher.getAuthTag() };
}

function ringKeys(ring: MasterKey | MasterKeyRing): MasterKey[] {
  return 'current' in ring ? [ring.current, ...(ring.previous ?? [])] : [ring];
}

function where(ctx: SealContext): string {
  return `online key ${ctx.keyid.slice(0, 8)} of ${ctx.repo} ${ctx.role}`;
}

/** Open a sealed key: the PKCS#8 DER bytes (the caller zeroes them after use). */
export function unsealPrivateKey(
  ring: MasterKey | MasterKeyRing,
  sealed: SealedKey,
  ctx: SealContext,
): Buffer {
  const keys = ringKeys(ring);
  const master = keys.find((k) => k.kekId === sealed.kekId);
  if (master === undefined)
    throw new ServerError(
      'KEK_UNKNOWN',
      `${where(ctx)} is sealed under master key ${sealed.kekId}, which is not loaded`,
      {
        details: { ...ctx, kekId: sealed.kekId, loaded: keys.map((k) => k.kekId) },
        hint: 'load that master key (as the current or a previous one) and reseal under the current key',
      },
    );
  if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES)
    throw unsealFailed(ctx, undefined);
  try {
    const decipher = createDecipheriv(ALGORITHM, master.secretKey(), sealed.nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(sealAad(ctx));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (e) {
    throw unsealFailed(ctx, e);
  }
}

function unsealFailed(ctx: SealContext, cause: unknown): ServerError {
  return new ServerError(
    'UNSEAL_FAILED',
    `${where(ctx)} does not open: wrong master key, moved, or tampered with`,
    {
      cause,
      details: { ...ctx },
      hint: 'check the master key; a key sealed for another repository, role or key id never opens here',
    },
  );
}
