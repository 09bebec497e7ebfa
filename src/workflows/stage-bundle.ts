/**
 * Stage a bundle version as a TUF target (doc 302 "new or updated bundles", doc 301 naming
 * `<repository name>:<tag>`): its length and sha256, optional custom data, and with in-toto
 * links the provenance signed by targets/releases. Used by `bundle add` (a file) and by
 * `push --sign` (the canonical bundle.json pushed to a registry), so both stage the same target
 * for the same bundle. The caller holds the repository lock (cli withRepository).
 */
import { bundleTargetName, type Digest } from '../cnab/bundle.js';
import { addBundleWithProvenance, type LinkFile } from '../cnab/provenance.js';
import { addTarget } from '../tuf/targets.js';
import type { LocalRepository } from '../tuf/repository.js';

export interface StageBundleOptions {
  custom?: Record<string, unknown>;
  links?: LinkFile[];
  /** The layout that verifies this bundle (with links; default root). */
  layout?: string;
  /** The targets role to sign it (without links; default: the role delegated for the name). */
  role?: string;
}

export interface StagedBundle {
  /** The target name `<repository name>:<tag>`. */
  name: string;
  tag: string;
  role: string;
  version: number | undefined;
  length: number;
  hashes: { sha256: string };
}

/** Stage `<repo name>:<tag>` with `digest`, then save the staged metadata. */
export async function stageBundle(
  repo: LocalRepository,
  tag: string,
  digest: Digest,
  options: StageBundleOptions = {},
): Promise<StagedBundle> {
  const name = bundleTargetName(repo.config.name, tag);
  const { custom, links } = options;
  const role =
    links !== undefined
      ? await addBundleWithProvenance(repo, name, digest, links, {
          ...(options.layout === undefined ? {} : { layout: options.layout }),
          ...(custom === undefined ? {} : { custom }),
        })
      : addTarget(
          repo,
          name,
          {
            length: digest.length,
            hashes: { sha256: digest.sha256 },
            ...(custom === undefined ? {} : { custom }),
          },
          options.role,
        );
  await repo.saveStaged();
  return {
    name,
    tag,
    role,
    version: repo.staged.get(role)?.signed.version,
    length: digest.length,
    hashes: { sha256: digest.sha256 },
  };
}
