/**
 * Doc 303 steps 4-5: fetch the in-toto root layout, its public keys and the bundle's links
 * through TUF, then run in-toto verification with bounded inspections, the bundle placed in
 * the inspections' working directory under the name the layout expects.
 *
 * The names are checked before anything is fetched: the layout must be
 * `<R>/in-toto-metadata/<name>.layout` (only `targets` can sign it: `targets/releases` is
 * delegated `*\/*.link` only), its keys `<R>/in-toto-pubkeys/<keyid>.pub` listed in the
 * layout target's custom data, and the links `<R>/in-toto-metadata/<this bundle's sha256>/
 * <step>.<keyid8>.link` — the links of another bundle are refused.
 */
import type { TargetFile } from '@tufjs/models';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isCnabsecError, messageOf } from '../errors.js';
import type { TrustClient } from '../tuf/client/trust.js';
import { parsePublicKey } from '../intoto/keys.js';
import { isLayoutBlock, parseMetablock, type LayoutKey } from '../intoto/models.js';
import { verifyLayout } from '../intoto/verify.js';
import { CnabError } from './errors.js';
import { fileDigest } from './bundle.js';
import { quote } from '../util/json.js';

export interface ProvenanceOptions {
  client: TrustClient;
  /** `<R>:<tag>` */
  target: string;
  info: TargetFile;
  /** The bundle on disk (already hash-checked) and the name the layout expects it under. */
  bundlePath: string;
  bundleFileName: string;
  inspectionTimeoutMs?: number;
  warn?: (message: string) => void;
}

export interface ProvenanceResult {
  layout: string;
  links: string[];
  warnings: string[];
}

function missing(message: string, details: Record<string, unknown>, cause?: unknown): CnabError {
  return new CnabError('INTOTO_METADATA_MISSING', message, {
    cause,
    details: { step: 4, ...details },
    hint: 'the bundle lists provenance the repository does not provide correctly: do not install it',
  });
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Split custom["in-toto"] into the layout and this bundle's links, refusing anything else. */
export function provenanceNames(
  target: string,
  info: TargetFile,
): { repo: string; layout: string; links: string[] } {
  const repo = target.slice(0, target.lastIndexOf(':'));
  const entries = info.custom['in-toto'];
  if (!Array.isArray(entries) || !entries.every((e) => typeof e === 'string')) {
    throw missing(`${target}: custom["in-toto"] is not a list of target names`, { target });
  }
  const R = escape(repo);
  const layoutRe = new RegExp(`^${R}/in-toto-metadata/[A-Za-z0-9_.-]+\\.layout$`);
  const linkRe = new RegExp(
    `^${R}/in-toto-metadata/${info.hashes.sha256 ?? '-'}/[^/]+\\.[0-9a-f]{8}\\.link$`,
  );
  const layouts = entries.filter((e) => layoutRe.test(e));
  const links = entries.filter((e) => linkRe.test(e));
  const other = entries.filter((e) => !layouts.includes(e) && !links.includes(e));
  if (layouts.length !== 1 || other.length > 0 || links.length === 0) {
    throw missing(`${target}: custom["in-toto"] must list one layout and this bundle's links`, {
      target,
      layouts,
      unexpected: other,
    });
  }
  return { repo, layout: layouts[0] ?? '', links };
}

/** Fetch a target file through TUF into `dest`; TUF failures keep their code in the cause. */
async function fetchTarget(
  client: TrustClient,
  name: string,
  dest: string,
): Promise<{ info: TargetFile; bytes: Buffer }> {
  let info: TargetFile;
  try {
    info = await client.getTarget(name);
    await client.downloadTarget(info, dest);
  } catch (e) {
    throw missing(
      `${name} cannot be obtained through TUF: ${messageOf(e)}`,
      { file: name, ...(isCnabsecError(e) ? { tufCode: e.code } : {}) },
      e,
    );
  }
  return { info, bytes: await readFile(dest) };
}

async function layoutKeys(
  client: TrustClient,
  repo: string,
  layoutInfo: TargetFile,
  dir: string,
): Promise<Record<string, LayoutKey>> {
  const names = layoutInfo.custom['in-toto'];
  const keyRe = new RegExp(`^${escape(repo)}/in-toto-pubkeys/([0-9a-f]{64})\\.pub$`);
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    !names.every((n) => typeof n === 'string' && keyRe.test(n))
  ) {
    throw missing(
      `layout target ${layoutInfo.path} does not list its public keys as ${repo}/in-toto-pubkeys/<keyid>.pub`,
      {
        file: layoutInfo.path,
      },
    );
  }
  const keys: Record<string, LayoutKey> = {};
  for (const [i, name] of (names as string[]).entries()) {
    const { bytes } = await fetchTarget(client, name, path.join(dir, `key${i}.pub`));
    const key = parsePublicKey(bytes.toString('utf8'), name);
    if (key.keyid !== keyRe.exec(name)?.[1]) {
      throw missing(`${name} holds key ${key.keyid}, not the key its name says`, { file: name });
    }
    keys[key.keyid] = key;
  }
  return keys;
}

/** The name the inspections see the bundle under: one plain file name in their directory. */
function inspectedName(name: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.length > 255) {
    throw new CnabError('BUNDLE_INVALID', `bundle file name ${quote(name)} is not a plain file name`, {
      details: { name: name.slice(0, 255) },
      hint: 'give --bundle-file-name a file name without / (e.g. bundle.tgz)',
    });
  }
  return name;
}

/**
 * Copy the bundle for the inspections and hash the copy: what they inspect is the signed
 * archive byte for byte, even if the original file changed after step 3.
 */
async function copyInspected(o: ProvenanceOptions, dest: string): Promise<void> {
  await copyFile(o.bundlePath, dest);
  const d = await fileDigest(dest);
  if (d.length !== o.info.length || d.sha256 !== o.info.hashes.sha256) {
    throw new CnabError('BUNDLE_HASH_MISMATCH', `${o.target}: ${o.bundlePath} changed during verification`, {
      details: { target: o.target, step: 5, observed: d },
      hint: 'the bundle file was modified while it was verified: obtain it again and keep it unchanged',
    });
  }
}

/** Steps 4 and 5. Everything is fetched into and verified in a temporary directory, removed afterwards. */
export async function verifyProvenance(o: ProvenanceOptions): Promise<ProvenanceResult> {
  const { repo, layout, links } = provenanceNames(o.target, o.info);
  const fileName = inspectedName(o.bundleFileName);
  const work = await mkdtemp(path.join(tmpdir(), 'cnabsec-verify-'));
  try {
    // Step 4: layout, keys and links through TUF.
    const fetched = await fetchTarget(o.client, layout, path.join(work, 'root.layout'));
    const mb = parseMetablock(fetched.bytes, layout);
    if (!isLayoutBlock(mb)) throw missing(`${layout} is not an in-toto layout`, { file: layout });
    const keys = await layoutKeys(o.client, repo, fetched.info, work);
    const linkDir = path.join(work, 'links');
    const sourceDir = path.join(work, 'bundle');
    await mkdir(linkDir);
    await mkdir(sourceDir);
    for (const name of links)
      await fetchTarget(o.client, name, path.join(linkDir, path.posix.basename(name)));
    await copyInspected(o, path.join(sourceDir, fileName));
    // Step 5: in-toto verification with bounded inspections.
    try {
      const r = await verifyLayout(mb, keys, {
        linkDir,
        inspections: {
          // A private directory of this verification: the inspections run in it, no copy.
          workDir: sourceDir,
          ...(o.inspectionTimeoutMs === undefined ? {} : { timeoutMs: o.inspectionTimeoutMs }),
        },
        ...(o.warn === undefined ? {} : { warn: o.warn }),
      });
      return { layout, links, warnings: r.warnings };
    } catch (e) {
      // name the links and files as the repository does, never this temporary directory
      const signed = `the links of ${o.target} (${repo}/in-toto-metadata/${o.info.hashes.sha256 ?? '-'}/)`;
      const clean = (t: string): string =>
        t.split(linkDir).join(signed).split(sourceDir).join('the bundle').split(work).join('.');
      const intoto = isCnabsecError(e)
        ? (JSON.parse(clean(JSON.stringify(e.details ?? {}))) as Record<string, unknown>)
        : undefined;
      throw new CnabError(
        'INTOTO_VERIFICATION_FAILED',
        `${o.target}: in-toto verification of layout ${layout} failed: ${clean(messageOf(e))}`,
        {
          cause: e,
          details: {
            step: 5,
            target: o.target,
            layout,
            ...(isCnabsecError(e) ? { intotoCode: e.code, intoto } : {}),
          },
          hint:
            isCnabsecError(e) && e.hint !== undefined
              ? clean(e.hint)
              : 'the bundle was not produced by the supply chain its layout requires',
        },
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
