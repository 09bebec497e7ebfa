/**
 * `push`: a thin bundle to an OCI registry in cnab-to-oci's layout (docs 200/201, thin.ts), and
 * with `sign`, the thin-bundle target staged in a local repository (doc 301 naming
 * `<repository name>:<tag>`, length and sha256 of the canonical bundle.json: exactly what
 * `bundle add --thin` stages for the same bundle), so that `publish` makes it verifiable.
 *
 * Order: read and check the bundle (images must be digested, as Porter does: bundleToOci),
 * check the local repository can be opened, push (the images copied into the bundle repository
 * first, fixup.ts; the tag moved last, thin.ts), and only then take
 * the repository lock and stage: a push that fails stages nothing, and a staging that fails
 * leaves a pushed but unsigned bundle (said by the error; push again with --sign is idempotent).
 */
import { createHash } from 'node:crypto';
import { canonicalBundleBytes, MAX_BUNDLE_JSON_BYTES, type Digest } from '../cnab/bundle.js';
import { CnabError } from '../cnab/errors.js';
import { LocalRepository } from '../tuf/repository.js';
import { FsMetadataStore } from '../tuf/store.js';
import { readUserFile } from '../util/fs.js';
import { describeErrno } from '../util/errno.js';
import { stageBundle, type StagedBundle } from '../workflows/stage-bundle.js';
import { bundleToOci } from './cnab-oci.js';
import { RegistryError } from './errors.js';
import type { RegistryOpener } from './opener.js';
import { formatReference, type Reference } from './reference.js';
import type { PushedBundle } from './thin.js';
import { pushBundleWithImages } from './fixup.js';

export interface ThinPushOptions {
  opener: RegistryOpener;
  ref: Reference;
  /** The bundle.json file (read bounded), or its bytes / parsed value. */
  bundleFile?: string;
  bytes?: Uint8Array | object;
  allowFallbacks?: boolean;
  relocationMap?: Readonly<Record<string, string>>;
  /** Stage the target in this local repository after the push (the caller's lock wait). */
  sign?: { dir: string; lockWaitMs?: number };
}

export interface ThinPushResult {
  reference: string;
  pushed: PushedBundle;
  /** Length and sha256 of the canonical bundle.json (the config blob, the TUF target). */
  bundle: Digest;
  staged?: StagedBundle & { repository: string };
  /**
   * With sign, when the registry repository is not the local repository's name: the verify
   * command that checks this copy (`verify <name>:<tag> --registry <ref>`).
   */
  verifyWith?: string;
}

async function readBundle(file: string): Promise<Buffer> {
  try {
    return await readUserFile(file, MAX_BUNDLE_JSON_BYTES);
  } catch (e) {
    const big = (e as { code?: unknown }).code === 'EFBIG';
    throw new CnabError(
      big ? 'BUNDLE_INVALID' : 'BUNDLE_NOT_FOUND',
      `cannot read ${file}: ${describeErrno(e)}`,
      {
        cause: e,
        details: { path: file },
        hint: big
          ? 'a bundle.json is a small JSON document (at most 16 MiB): give the bundle.json, not an archive'
          : 'check the path of the bundle.json and that it is readable',
      },
    );
  }
}

/**
 * The one place a bundle is pushed: cnab-to-oci's fixup (fixup.ts) copies the images the bundle
 * references into the bundle repository first, then pushBundle (tag last).
 */
async function pushTo(o: ThinPushOptions, canonical: Uint8Array): Promise<PushedBundle> {
  return pushBundleWithImages(o.opener, o.ref, canonical, {
    ...(o.relocationMap === undefined ? {} : { relocationMap: o.relocationMap }),
    allowFallbacks: o.allowFallbacks === true,
  }); // integrator: fixup (was pushBundle(o.opener(o.ref.registry), ...): images already in the repository)
}

/** The local repository's name, read (no lock) before the push: a wrong --sign fails first. */
async function signingName(o: ThinPushOptions): Promise<string | undefined> {
  if (o.sign === undefined) return undefined;
  if (o.ref.tag === undefined) {
    throw new RegistryError(
      'REGISTRY_BAD_TARGET',
      `${formatReference(o.ref)}: --sign needs a tag (the signed target is <repository>:<tag>)`,
      {
        hint: 'push to registry/repository:tag',
        details: { registry: o.ref.registry, repository: o.ref.repository },
      },
    );
  }
  return (await LocalRepository.open(new FsMetadataStore(o.sign.dir))).config.name;
}

export async function pushThinBundle(o: ThinPushOptions): Promise<ThinPushResult> {
  const input = o.bytes ?? (o.bundleFile === undefined ? undefined : await readBundle(o.bundleFile));
  if (input === undefined) throw new TypeError('pushThinBundle: give bundleFile or bytes');
  const where = o.bundleFile ?? 'bundle.json';
  const canonical = new Uint8Array(canonicalBundleBytes(input, where));
  // every bundle check before any request or lock
  bundleToOci(canonical, {
    target: o.ref,
    ...(o.relocationMap === undefined ? {} : { relocationMap: o.relocationMap }),
  });
  const name = await signingName(o);
  const pushed = await pushTo(o, canonical);
  const bundle: Digest = {
    length: canonical.length,
    sha256: createHash('sha256').update(canonical).digest('hex'),
  };
  const reference = formatReference({
    ...o.ref,
    ...(o.ref.tag === undefined ? { digest: pushed.digest } : {}),
  });
  if (o.sign === undefined || name === undefined || o.ref.tag === undefined) {
    return { reference, pushed, bundle };
  }
  const tag = o.ref.tag;
  const staged = await LocalRepository.transaction(
    new FsMetadataStore(o.sign.dir),
    (repo) => stageBundle(repo, tag, bundle),
    o.sign.lockWaitMs === undefined ? {} : { waitMs: o.sign.lockWaitMs },
  );
  const here = `${o.ref.registry}/${o.ref.repository}`;
  return {
    reference,
    pushed,
    bundle,
    staged: { ...staged, repository: name },
    ...(here === name ? {} : { verifyWith: `cnabsec verify ${staged.name} --registry ${here}:${tag}` }),
  };
}
