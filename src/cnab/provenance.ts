/**
 * The CNAB-Sec in-toto extension (doc 301 "Extending the MVP", doc 302 setup steps 1-5):
 *
 * - `targets` signs the root layout `<R>/in-toto-metadata/root.layout`, whose
 *   `custom["in-toto"]` lists the public-key targets `<R>/in-toto-pubkeys/<keyid>.pub`, and
 *   signs those keys; the layout key is never carried in custom data (signy's mistake);
 * - `targets` delegates `<R>:*` and `<R>/in-toto-metadata/*\/*.link` to `targets/releases`,
 *   which therefore cannot sign or replace a layout or a key;
 * - each bundle target (signed by `targets/releases`) lists in `custom["in-toto"]` the layout
 *   that verifies it and its links, stored under `<R>/in-toto-metadata/<bundle sha256>/`.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { messageOf } from '../errors.js';
import { TufError } from '../tuf/errors.js';
import { addTargetFile } from '../tuf/files.js';
import { addTarget, addDelegation } from '../tuf/targets.js';
import type { LocalRepository } from '../tuf/repository.js';
import type { PublicKeyJson } from '../crypto/keys.js';
import {
  isLayoutBlock,
  isLinkBlock,
  parseMetablock,
  type Layout,
  type LayoutKey,
  type Metablock,
} from '../intoto/models.js';
import { readMetadataFile } from '../intoto/files.js';
import { parsePublicKey } from '../intoto/keys.js';
import { verifyLayoutExpiration, verifyLayoutSignatures } from '../intoto/verify.js';
import type { Digest } from './bundle.js';
import { CnabError } from './errors.js';
import { checkLinksAgainstLayout, layoutOf } from './provenance-links.js';
import { quote } from '../util/json.js';

export const RELEASES_ROLE = 'targets/releases';

export const layoutTarget = (repo: string, name = 'root'): string =>
  `${repo}/in-toto-metadata/${name}.layout`;
export const pubkeyTarget = (repo: string, keyid: string): string => `${repo}/in-toto-pubkeys/${keyid}.pub`;
export const linkTarget = (repo: string, bundleSha256: string, file: string): string =>
  `${repo}/in-toto-metadata/${bundleSha256}/${file}`;
export const releasesPaths = (repo: string): string[] => [`${repo}:*`, `${repo}/in-toto-metadata/*/*.link`];

export interface LayoutInput {
  /** Bytes of the signed layout (in-toto metablock). */
  layout: Uint8Array;
  /** Bytes of each layout owner's public key file (securesystemslib JSON or PEM). */
  keys: Uint8Array[];
  /** Layout name: `root` (default) or another, for new supply chains of new bundles. */
  name?: string;
  now?: Date;
}

function parseLayout(bytes: Uint8Array): Metablock<Layout> {
  const mb = parseMetablock(bytes, 'layout');
  if (!isLayoutBlock(mb)) {
    throw new CnabError('INTOTO_METADATA_MISSING', 'the --layout file is an in-toto link, not a layout', {
      hint: 'give the signed root layout (in-toto-sign / cnabsec intoto sign)',
    });
  }
  return mb;
}

/**
 * Check a layout before anything is signed or written: an in-toto layout, signed by every
 * given key, not expired. Returns the parsed keys.
 */
export function checkLayout(input: LayoutInput): LayoutKey[] {
  const mb = parseLayout(input.layout);
  const keys = input.keys.map((k, i) =>
    parsePublicKey(Buffer.from(k).toString('utf8'), `layout key ${i + 1}`),
  );
  verifyLayoutSignatures(mb, Object.fromEntries(keys.map((k) => [k.keyid, k])));
  verifyLayoutExpiration(mb.signed, input.now);
  return keys;
}

/**
 * Sign a layout and its owners' keys with `targets` (doc 302 setup steps 3-5). The layout must
 * verify with the given keys and not be expired: `targets` vouches for it.
 */
export async function addLayout(repo: LocalRepository, input: LayoutInput): Promise<string> {
  const name = input.name ?? 'root';
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) {
    throw new TufError('INVALID_ARGUMENT', `layout name ${quote(name)} must be one path segment`, {
      hint: 'e.g. root, v2',
    });
  }
  const keys = checkLayout(input);
  const R = repo.config.name;
  const keyTargets: string[] = [];
  for (const [i, k] of keys.entries()) {
    const t = pubkeyTarget(R, k.keyid);
    await addTargetFile(repo, t, input.keys[i] ?? new Uint8Array(), { role: 'targets', ...nowOf(input.now) });
    keyTargets.push(t);
  }
  const target = layoutTarget(R, name);
  await addTargetFile(repo, target, input.layout, {
    role: 'targets',
    custom: { 'in-toto': keyTargets },
    ...nowOf(input.now),
  });
  return target;
}

const nowOf = (now?: Date): { now?: Date } => (now === undefined ? {} : { now });

/** Setup with provenance: the root layout, its keys, and the `targets/releases` delegation. */
export async function setupProvenance(
  repo: LocalRepository,
  input: LayoutInput & { releases: { keys: PublicKeyJson[]; threshold: number } },
): Promise<void> {
  if (!repo.roleNames().includes(RELEASES_ROLE)) {
    addDelegation(repo, 'targets', {
      name: RELEASES_ROLE,
      keys: input.releases.keys,
      threshold: input.releases.threshold,
      paths: releasesPaths(repo.config.name),
    });
  }
  await addLayout(repo, input);
}

export interface LinkFile {
  /** File name, `<step>.<keyid[:8]>.link`. */
  file: string;
  bytes: Uint8Array;
}

/** The `*.link` files of a directory (as in-toto-run / cnabsec intoto run write them), by name. */
export async function readLinkDir(dir: string): Promise<LinkFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new CnabError('INTOTO_METADATA_MISSING', `cannot read link directory ${dir}: ${messageOf(e)}`, {
      cause: e,
      hint: 'pass the directory holding the <step>.<keyid[:8]>.link files with --links',
    });
  }
  const links = names.filter((n) => n.endsWith('.link')).sort();
  if (links.length > MAX_LINK_FILES) {
    throw new CnabError(
      'INTOTO_METADATA_MISSING',
      `${dir} holds ${links.length} link files, more than ${MAX_LINK_FILES}`,
      {
        details: { path: dir, count: links.length },
        hint: 'pass a directory holding only the links of this bundle',
      },
    );
  }
  const out: LinkFile[] = [];
  // one at a time: each link is bounded (intoto/files.ts), their number too, so is the memory
  for (const file of links) {
    try {
      out.push({ file, bytes: await readMetadataFile(path.join(dir, file), 'link') });
    } catch (e) {
      throw new CnabError('INTOTO_METADATA_MISSING', messageOf(e), {
        cause: e,
        hint: 'pass the directory holding the <step>.<keyid[:8]>.link files with --links',
      });
    }
  }
  return out;
}

/** Most link files one bundle carries (steps × functionaries of any real supply chain is far below). */
export const MAX_LINK_FILES = 1000;

/** Check a link file: an in-toto link whose name matches its step and a signing key. */
function checkLink(link: LinkFile): Metablock {
  let mb: Metablock;
  try {
    mb = parseMetablock(link.bytes, link.file);
  } catch (e) {
    throw new CnabError('INTOTO_METADATA_MISSING', `${link.file} is not in-toto metadata`, { cause: e });
  }
  const m = /^(.+)\.([0-9a-f]{8})\.link$/.exec(link.file);
  const signers = mb.signatures.map((s) => s.keyid.slice(0, 8));
  if (!isLinkBlock(mb) || m === null || mb.signed.name !== m[1] || !signers.includes(m[2] ?? '')) {
    throw new CnabError(
      'INTOTO_METADATA_MISSING',
      `${link.file} is not a link named <step>.<keyid[:8]>.link for its step and key`,
      {
        details: { file: link.file },
        hint: 'use the link files exactly as in-toto-run / cnabsec intoto run wrote them',
      },
    );
  }
  return mb;
}

/**
 * A new bundle version with provenance (doc 302 "new or updated bundles"): the links under
 * `<R>/in-toto-metadata/<bundle sha256>/` and the bundle target, listing layout and links,
 * all signed by `targets/releases`.
 */
export async function addBundleWithProvenance(
  repo: LocalRepository,
  name: string,
  digest: Digest,
  links: LinkFile[],
  options: {
    layout?: string;
    now?: Date;
    custom?: Record<string, unknown>;
    /**
     * Check the links against the layout's steps and thresholds first (default true;
     * ./provenance-links.ts). Off only to stage what an attacker would, in tests.
     */
    checkLinks?: boolean;
  } = {},
): Promise<string> {
  const R = repo.config.name;
  const layout = layoutTarget(R, options.layout ?? 'root');
  if (!(layout in repo.targetsOf('targets').signed.targets)) {
    throw new CnabError('INTOTO_METADATA_MISSING', `layout ${layout} is not signed by targets`, {
      hint: 'set up provenance with `cnabsec init --in-toto` or add the layout with `cnabsec layout add`',
    });
  }
  if (links.length === 0) {
    throw new CnabError('INTOTO_METADATA_MISSING', 'no link files given', {
      hint: 'pass the directory of the .link files with --links',
    });
  }
  if ('in-toto' in (options.custom ?? {})) {
    throw new TufError(
      'INVALID_ARGUMENT',
      'custom data may not set "in-toto": cnabsec lists the layout and links',
    );
  }
  // all checked before anything is staged
  const parsed = links.map((link) => ({ file: link.file, mb: checkLink(link) }));
  if (options.checkLinks !== false) checkLinksAgainstLayout(layout, await layoutOf(repo, layout), parsed);
  const names: string[] = [];
  for (const link of links) {
    const t = linkTarget(R, digest.sha256, link.file);
    await addTargetFile(repo, t, link.bytes, { role: RELEASES_ROLE, ...nowOf(options.now) });
    names.push(t);
  }
  return addTarget(
    repo,
    name,
    {
      length: digest.length,
      hashes: { sha256: digest.sha256 },
      custom: { ...options.custom, 'in-toto': [layout, ...names.sort()] },
    },
    RELEASES_ROLE,
    options.now,
  );
}
