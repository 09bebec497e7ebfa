/**
 * Final product verification (in-toto spec §5; python `verifylib.in_toto_verify`), in the
 * in-toto order:
 *  1. layout signatures (every given key must have signed), 2. expiry, 3. parameter
 *  substitution, 4. load links, 5. link signatures and step thresholds, 6. sublayouts
 *  (recursive), 7. command alignment (warning only), 8. threshold links agree on artifacts,
 *  9. step artifact rules, 10. inspections, 11. inspection artifact rules.
 * The result is the summary link (materials of the first step, products of the last) that a
 * superlayout uses in place of a sublayout.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  FormatError,
  LayoutExpiredError,
  LinkNotFoundError,
  SignatureVerificationError,
  ThresholdVerificationError,
  preview,
} from './errors.js';
import type { InspectionOptions, InspectionRunner } from './inspect.js';
import {
  linkFileName,
  newLink,
  parseExpires,
  sublayoutDirName,
  type ArtifactMap,
  type HashDict,
  type Layout,
  type LayoutKey,
  type Link,
  type Metablock,
  type Step,
} from './models.js';
import { isRefusedFile, readMetadataFile } from './files.js';
import { parseMetablockWithSignable } from './signable-text.js';
import { signableBytes, verifyMetablockSignature } from './signing.js';
import { substituteParameters } from './substitute.js';
import { hashesEqual, verifyAllItemRules } from './verify-rules.js';

export interface VerifyOptions {
  /** Directory of the link files (default "."). */
  linkDir?: string;
  /** Parameters for substitution; without them no substitution happens (as python). */
  params?: Readonly<Record<string, string>>;
  inspections?: InspectionOptions;
  /** The time the layout must not have expired by (default: now). */
  now?: Date;
  /** Receives warnings (command misalignment, subkey links counted once). */
  warn?: (message: string) => void;
}

export interface VerifyResult {
  summary: Link;
  warnings: string[];
}

interface Context {
  now: number;
  /** Created on the first inspection (inspect.js is loaded only then). */
  runner: () => Promise<InspectionRunner>;
  warnings: string[];
  warn: (message: string) => void;
}

/** keyid → links by that key, per step. */
type ChainLinks = Map<string, Map<string, Metablock>>;

/** §5 step 1: at least one key, and each key has a valid signature on the layout. */
export function verifyLayoutSignatures(
  mb: Metablock<Layout>,
  keys: Readonly<Record<string, LayoutKey>>,
): void {
  const ids = Object.keys(keys);
  if (ids.length === 0) {
    throw new SignatureVerificationError('Layout signature verification requires at least one key.', {
      hint: 'pass the layout owner public key(s) with --layout-key',
    });
  }
  const data = signableBytes(mb.signed);
  for (const id of ids) verifyMetablockSignature(mb, keys[id] as LayoutKey, data, id);
}

/** §5 step 2: the layout has not expired. */
export function verifyLayoutExpiration(layout: Layout, now: Date = new Date()): void {
  if (parseExpires(layout.expires) < now.getTime()) {
    throw new LayoutExpiredError(`Layout expired on ${layout.expires}`, {
      details: { expires: layout.expires },
      hint: 'the layout owner must re-issue and re-sign the layout with a later expiry',
    });
  }
}

/** Signable bytes of loaded links, taken from their file text when it is canonical. */
const signableOfLink = new WeakMap<Metablock, Buffer>();

async function readLinkFile(file: string): Promise<Metablock | undefined> {
  let data: Buffer;
  try {
    data = await readMetadataFile(file, 'link');
  } catch (e) {
    // python skips links it cannot open (authorized is not required); a FIFO, a device or a
    // file over the bound is refused instead of read
    if (isRefusedFile(e)) throw e;
    return undefined;
  }
  const { mb, signable } = parseMetablockWithSignable(data, file);
  if (signable !== undefined) signableOfLink.set(mb, signable);
  return mb;
}

function keyIdsForStep(layout: Layout, step: Step): string[] {
  const out: string[] = [];
  for (const id of step.pubkeys) {
    out.push(id);
    const sub = layout.keys[id]?.subkeys;
    if (sub !== undefined && sub !== null) out.push(...Object.keys(sub));
  }
  return out;
}

/** §5 step 4: load `<step>.<keyid[:8]>.link` for every authorized key; fewer than threshold fails. */
export async function loadLinksForLayout(layout: Layout, linkDir: string): Promise<ChainLinks> {
  if (layout.steps.length > 0) {
    const st = await fsp.stat(linkDir).catch(() => undefined);
    if (st?.isDirectory() !== true) {
      throw new LinkNotFoundError('INTOTO_LINK_DIR_MISSING', `link directory ${linkDir} does not exist`, {
        details: { linkDir },
        hint: 'pass the directory holding the <step>.<keyid>.link files with --link-dir',
      });
    }
  }
  const chain: ChainLinks = new Map();
  await Promise.all(
    layout.steps.map(async (step) => {
      const ids = keyIdsForStep(layout, step);
      const loaded = await Promise.all(
        ids.map((id) => readLinkFile(path.join(linkDir, linkFileName(step.name, id)))),
      );
      const perKey = new Map<string, Metablock>();
      ids.forEach((id, i) => {
        const mb = loaded[i];
        if (mb !== undefined) perKey.set(id, mb);
      });
      if (perKey.size < step.threshold) {
        throw new LinkNotFoundError(
          'INTOTO_LINK_MISSING',
          `Step '${step.name}' requires '${step.threshold}' link metadata file(s), found '${perKey.size}'.`,
          {
            details: { step: step.name, threshold: step.threshold, found: perKey.size, linkDir },
            hint: `expected files named ${step.name}.<keyid[:8]>.link in ${linkDir}`,
          },
        );
      }
      chain.set(step.name, perKey);
    }),
  );
  // Keep the layout's step order (python dict order).
  return new Map(layout.steps.map((s) => [s.name, chain.get(s.name) ?? new Map<string, Metablock>()]));
}

function verificationKeyFor(layout: Layout, step: Step, linkKeyId: string, mainOf: Map<string, LayoutKey>) {
  for (const authorized of step.pubkeys) {
    const key = layout.keys[authorized];
    const main = mainOf.get(authorized);
    if (key !== undefined && linkKeyId === authorized) return key;
    if (main !== undefined && linkKeyId === authorized) return main;
    if (key?.subkeys != null && linkKeyId in key.subkeys) return key;
  }
  return undefined;
}

/** §5 step 5: keep links validly signed by authorized functionaries; each step needs threshold of them. */
export function verifyLinkSignatureThresholds(
  layout: Layout,
  chain: ChainLinks,
  ctx: Pick<Context, 'warn'>,
): ChainLinks {
  const mainOf = new Map<string, LayoutKey>();
  for (const key of Object.values(layout.keys)) {
    if (key.subkeys != null) for (const sub of Object.keys(key.subkeys)) mainOf.set(sub, key);
  }
  const verified: ChainLinks = new Map();
  for (const step of layout.steps) {
    const good = new Map<string, Metablock>();
    const usedMain: string[] = [];
    for (const [linkKeyId, link] of chain.get(step.name) ?? []) {
      const key = verificationKeyFor(layout, step, linkKeyId, mainOf);
      if (key === undefined) continue; // not authorized for this step
      try {
        verifyMetablockSignature(link, key, signableOfLink.get(link));
      } catch (e) {
        if (e instanceof SignatureVerificationError) continue; // broken signature: skip the link
        throw e;
      }
      const mainId = key.keyid;
      if (usedMain.includes(mainId)) {
        ctx.warn(
          `links signed by different subkeys of main key ${mainId} count once for step '${step.name}'`,
        );
      }
      usedMain.push(mainId);
      good.set(linkKeyId, link);
    }
    const count = good.size - (usedMain.length - new Set(usedMain).size);
    if (count < step.threshold) {
      throw new ThresholdVerificationError(
        'INTOTO_THRESHOLD_NOT_MET',
        `Step '${step.name}' requires at least '${step.threshold}' links validly signed by different authorized functionaries. Only found '${count}'`,
        {
          details: { step: step.name, threshold: step.threshold, valid: count },
          hint: 'links with a bad signature or by a key not in the step pubkeys are ignored',
        },
      );
    }
    verified.set(step.name, good);
  }
  return verified;
}

function artifactsEqual(a: ArtifactMap, b: ArtifactMap): boolean {
  let n = 0;
  for (const k in a) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !hashesEqual(a[k] as HashDict, b[k] as HashDict))
      return false;
    n++;
  }
  return Object.keys(b).length === n;
}

/** §5 step 8: all links of a step with threshold > 1 report the same materials and products. */
export function verifyThresholdConstraints(layout: Layout, chain: ChainLinks): void {
  for (const step of layout.steps) {
    if (step.threshold <= 1) continue;
    const links = [...(chain.get(step.name) ?? [])];
    if (links.length < step.threshold) {
      throw new ThresholdVerificationError(
        'INTOTO_THRESHOLD_NOT_MET',
        `Step '${step.name}' not performed by enough functionaries!`,
      );
    }
    const [refId, ref] = links[0] as [string, Metablock];
    for (const [id, mb] of links) {
      const a = ref.signed as Link;
      const b = mb.signed as Link;
      if (!artifactsEqual(a.materials, b.materials) || !artifactsEqual(a.products, b.products)) {
        throw new ThresholdVerificationError(
          'INTOTO_THRESHOLD_ARTIFACTS_DIFFER',
          `Links '${linkFileName(step.name, refId)}' and '${linkFileName(step.name, id)}' have different artifacts!`,
          { details: { step: step.name, links: [refId, id] } },
        );
      }
    }
  }
}

function sameCommand(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
}

async function verifySublayouts(
  layout: Layout,
  chain: ChainLinks,
  linkDir: string,
  ctx: Context,
): Promise<void> {
  for (const [stepName, perKey] of chain) {
    for (const [keyid, mb] of perKey) {
      if (mb.signed._type !== 'layout') continue;
      const key = layout.keys[keyid];
      if (key === undefined) {
        throw new FormatError(
          'INTOTO_BAD_KEY',
          `sublayout '${stepName}' is signed by ${keyid}, which is not a layout key`,
        );
      }
      const subDir = path.join(linkDir, sublayoutDirName(stepName, keyid));
      const summary = await verifyRecursive(
        mb as Metablock<Layout>,
        { [keyid]: key },
        subDir,
        undefined,
        stepName,
        ctx,
      );
      perKey.set(keyid, { signed: summary, signatures: [] });
    }
  }
}

async function verifyRecursive(
  mb: Metablock<Layout>,
  keys: Readonly<Record<string, LayoutKey>>,
  linkDir: string,
  params: Readonly<Record<string, string>> | undefined,
  stepName: string | null,
  ctx: Context,
): Promise<Link> {
  verifyLayoutSignatures(mb, keys);
  let layout = mb.signed;
  verifyLayoutExpiration(layout, new Date(ctx.now));
  if (params !== undefined) layout = substituteParameters(layout, params);
  let chain = await loadLinksForLayout(layout, linkDir);
  chain = verifyLinkSignatureThresholds(layout, chain, ctx);
  await verifySublayouts(layout, chain, linkDir, ctx);
  for (const step of layout.steps) {
    for (const [keyid, link] of chain.get(step.name) ?? []) {
      const command = (link.signed as Link).command;
      if (!sameCommand(command, step.expected_command)) {
        ctx.warn(
          `Run command ${preview(command, 200)} of ${linkFileName(step.name, keyid)} differs from expected command ${preview(step.expected_command, 200)}`,
        );
      }
    }
  }
  verifyThresholdConstraints(layout, chain);
  const reduced = new Map<string, Link>();
  for (const step of layout.steps) {
    const first = (chain.get(step.name) ?? new Map<string, Metablock>()).values().next().value;
    if (first === undefined) {
      throw new ThresholdVerificationError(
        'INTOTO_THRESHOLD_NOT_MET',
        `Step '${step.name}' has no valid link`,
      );
    }
    reduced.set(step.name, first.signed as Link);
  }
  verifyAllItemRules(layout.steps, reduced);
  const combined = new Map(reduced);
  for (const inspection of layout.inspect)
    combined.set(inspection.name, await (await ctx.runner()).run(inspection));
  verifyAllItemRules(layout.inspect, combined);
  return summaryLink(layout, reduced, stepName);
}

function summaryLink(layout: Layout, reduced: ReadonlyMap<string, Link>, name: string | null): Link {
  const firstStep = layout.steps[0];
  const lastStep = layout.steps[layout.steps.length - 1];
  if (firstStep === undefined || lastStep === undefined)
    return { ...newLink(''), name: null } as unknown as Link;
  const first = reduced.get(firstStep.name) as Link;
  const last = reduced.get(lastStep.name) as Link;
  return newLink(name as string, {
    materials: first.materials,
    products: last.products,
    byproducts: last.byproducts,
    command: last.command,
  });
}

/**
 * Verify a signed root layout with the layout owners' keys and the links in `linkDir`.
 * Throws the first failure (an IntotoError with its code); returns the summary link.
 */
export async function verifyLayout(
  layout: Metablock<Layout>,
  layoutKeys: Readonly<Record<string, LayoutKey>>,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const warnings: string[] = [];
  let runner: InspectionRunner | undefined;
  const ctx: Context = {
    now: (options.now ?? new Date()).getTime(),
    runner: async () => (runner ??= new (await import('./inspect.js')).InspectionRunner(options.inspections)),
    warnings,
    warn: (m) => {
      warnings.push(m);
      options.warn?.(m);
    },
  };
  try {
    const summary = await verifyRecursive(
      layout,
      layoutKeys,
      options.linkDir ?? '.',
      options.params,
      '',
      ctx,
    );
    return { summary, warnings };
  } finally {
    await runner?.close();
  }
}
