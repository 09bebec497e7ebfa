/**
 * Signing staged metadata: with a `Signer`, or detached (export the canonical payload, sign
 * it elsewhere, append the signature after verifying it). Signatures are over the OLPC
 * canonical JSON of `signed` (TUF spec §4.2), produced by @tufjs/canonical-json.
 */
import { canonicalize } from '@tufjs/canonical-json';
import { Signature } from '@tufjs/models';
import { authorityStatus, validSigners, type AnyMetadata, type AuthorityStatus } from './authority.js';
import { TufError } from './errors.js';
import { assertSignable } from './signable.js';
import type { LocalRepository } from './repository.js';
import type { Signer } from '../crypto/signer.js';
import type { KeyPosition } from '../crypto/passphrase.js';

/**
 * Returns a signer for `keyid` of `role`, or undefined when this machine cannot sign with it.
 * `position` says which of the role's keys it is (for passphrase prompts: `root key 2/3`).
 */
export type SignerProvider = (
  role: string,
  keyid: string,
  position?: KeyPosition,
) => Promise<Signer | undefined>;

export function stagedOrThrow(repo: LocalRepository, role: string): AnyMetadata {
  if (!repo.roleNames().includes(role) && !repo.staged.has(role)) throw repo.unknownRole(role);
  const md = repo.staged.get(role);
  if (md === undefined) {
    throw new TufError('ROLE_NOT_STAGED', `${role} has no staged changes to sign`, {
      details: { role },
      hint: `make a change first, or stage a new version with \`cnabsec resign <repo> ${role}\``,
    });
  }
  return md;
}

/** The exact bytes a signature over `role`'s staged metadata must cover. */
export function payload(repo: LocalRepository, role: string): Buffer {
  const signed = stagedOrThrow(repo, role).signed.toJSON();
  assertSignable(role, signed);
  return Buffer.from(canonicalize(signed));
}

export function signatureStatus(repo: LocalRepository, role: string, md?: AnyMetadata): AuthorityStatus[] {
  const target = md ?? repo.current(role);
  if (target === undefined) throw repo.unknownRole(role);
  return repo.authoritiesFor(role).map((a) => authorityStatus(target, a));
}

function authorizedKeys(repo: LocalRepository, role: string): Set<string> {
  return new Set(repo.authoritiesFor(role).flatMap((a) => a.keyIDs));
}

/** KEY_NOT_AUTHORIZED unless `keyid` is a key of `role` (checked before a passphrase is asked). */
export function assertAuthorized(repo: LocalRepository, role: string, keyid: string): void {
  if (!authorizedKeys(repo, role).has(keyid)) throw notAuthorized(repo, role, keyid);
}

/** Which of the keys of `role` (in the order its metadata lists them) `keyid` is. */
export function keyPosition(repo: LocalRepository, role: string, keyid: string): KeyPosition | undefined {
  const ids = [...authorizedKeys(repo, role)];
  const index = ids.indexOf(keyid);
  return index === -1 ? undefined : { index: index + 1, count: ids.length };
}

function notAuthorized(repo: LocalRepository, role: string, keyid: string): TufError {
  return new TufError('KEY_NOT_AUTHORIZED', `key ${keyid} may not sign ${role}`, {
    details: { role, keyid, authorized: [...authorizedKeys(repo, role)] },
    hint: `${role} is signed by: ${[...authorizedKeys(repo, role)].join(', ')}`,
  });
}

/** Add `signer`'s signature to the staged metadata of `role` (replacing an older one by the same key). */
export async function signRole(repo: LocalRepository, role: string, signer: Signer): Promise<void> {
  const md = stagedOrThrow(repo, role);
  assertAuthorized(repo, role, signer.keyid);
  const sig = await signer.sign(payload(repo, role));
  md.signatures[signer.keyid] = new Signature({ keyID: signer.keyid, sig: Buffer.from(sig).toString('hex') });
}

/** Append a detached signature `{keyid, sig}` (hex) after verifying it over the staged payload. */
export function appendSignature(
  repo: LocalRepository,
  role: string,
  sig: { keyid: string; sig: string },
): void {
  const md = stagedOrThrow(repo, role);
  const fields = (typeof sig === 'object' && sig !== null ? sig : {}) as Partial<Record<string, unknown>>;
  if (
    typeof fields.keyid !== 'string' ||
    typeof fields.sig !== 'string' ||
    !/^[0-9a-f]*$/i.test(fields.sig)
  ) {
    throw new TufError('BAD_SIGNATURE', 'a signature file holds {"keyid": "<hex>", "sig": "<hex>"}', {
      hint: 'write the signature as produced by `cnabsec key sign <id> <payload>`, or hex-encode a raw signature',
    });
  }
  if (!authorizedKeys(repo, role).has(sig.keyid)) throw notAuthorized(repo, role, sig.keyid);
  const previous = md.signatures[sig.keyid];
  md.signatures[sig.keyid] = new Signature({ keyID: sig.keyid, sig: sig.sig.toLowerCase() });
  const ok = repo.authoritiesFor(role).some((a) => validSigners(md, a).includes(sig.keyid));
  if (!ok) {
    if (previous === undefined) delete md.signatures[sig.keyid];
    else md.signatures[sig.keyid] = previous;
    throw new TufError(
      'BAD_SIGNATURE',
      `signature by ${sig.keyid} does not verify over staged ${role} v${md.signed.version}`,
      {
        details: { role, keyid: sig.keyid, version: md.signed.version },
        hint: `sign exactly the bytes of \`cnabsec payload <repo> ${role}\` (they change with every edit)`,
      },
    );
  }
}

/**
 * Sign `md` with keys available through `provider` until every authority's threshold is met.
 * Returns the statuses after signing; the caller decides whether unmet thresholds are fatal.
 */
export async function signUntilThreshold(
  repo: LocalRepository,
  role: string,
  md: AnyMetadata,
  provider: SignerProvider,
): Promise<AuthorityStatus[]> {
  const signed = md.signed.toJSON();
  assertSignable(role, signed); // a value staged by hand: typed error, never a crash
  const data = Buffer.from(canonicalize(signed));
  for (const authority of repo.authoritiesFor(role)) {
    const status = authorityStatus(md, authority);
    let have = status.valid.length;
    for (const keyid of status.missing) {
      if (have >= status.threshold) break;
      const signer = await provider(role, keyid, keyPosition(repo, role, keyid));
      if (signer === undefined) continue;
      const sig = await signer.sign(data);
      md.signatures[keyid] = new Signature({ keyID: keyid, sig: Buffer.from(sig).toString('hex') });
      have++;
    }
  }
  return signatureStatus(repo, role, md);
}
