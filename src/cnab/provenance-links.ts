/**
 * `bundle add --links`: the links are checked against the layout that will verify the bundle
 * before anything is staged, so that a missing step or a link by the wrong key is found by the
 * releaser, not by every client (doc 303 step 5; in-toto spec §5 steps 4-5: every step needs
 * `threshold` links validly signed by distinct authorized functionaries, `<step>.<keyid[:8]>.link`).
 * Messages name the layout by its target name, never a temporary path.
 */
import type { LocalRepository } from '../tuf/repository.js';
import { targetFileBytes } from '../tuf/files.js';
import {
  isLayoutBlock,
  isLinkBlock,
  parseMetablock,
  type Layout,
  type LayoutKey,
  type Metablock,
  type Step,
} from '../intoto/models.js';
import { verifyMetablockSignature } from '../intoto/signing.js';
import { isCnabsecError } from '../errors.js';
import { quote } from '../util/json.js';
import { CnabError } from './errors.js';

export interface ParsedLink {
  file: string;
  mb: Metablock;
}

/** The signed layout `target` of `repo` (staged or published bytes), parsed. */
export async function layoutOf(repo: LocalRepository, target: string): Promise<Layout> {
  const info = repo.targetsOf('targets').signed.targets[target];
  const sha256 = info?.hashes.sha256;
  const bytes = sha256 === undefined ? undefined : await targetFileBytes(repo, target, sha256);
  if (bytes === undefined) {
    throw new CnabError(
      'INTOTO_METADATA_MISSING',
      `the bytes of layout ${target} are not in the repository`,
      {
        details: { layout: target },
        hint: 'add the layout again with `cnabsec layout add`',
      },
    );
  }
  const mb = parseMetablock(bytes, target);
  if (!isLayoutBlock(mb)) {
    throw new CnabError('INTOTO_METADATA_MISSING', `${target} is not an in-toto layout`, {
      details: { layout: target },
    });
  }
  return mb.signed;
}

/** Key ids authorized for `step` (its pubkeys and their subkeys), each with the key that verifies it. */
function functionaries(layout: Layout, step: Step): Map<string, LayoutKey> {
  const out = new Map<string, LayoutKey>();
  for (const id of step.pubkeys) {
    const key = layout.keys[id];
    if (key === undefined) continue;
    out.set(id, key);
    for (const sub of Object.keys(key.subkeys ?? {})) out.set(sub, key);
  }
  return out;
}

const short = (ids: Iterable<string>): string => [...ids].map((k) => k.slice(0, 8)).join(', ') || 'none';

function refuse(message: string, details: Record<string, unknown>, hint: string): CnabError {
  return new CnabError('INTOTO_METADATA_MISSING', message, { details, hint });
}

/** The links of one step: those validly signed by an authorized functionary, by main key id. */
function validLinks(
  layoutName: string,
  layout: Layout,
  step: Step,
  links: ParsedLink[],
): Map<string, string> {
  const authorized = functionaries(layout, step);
  const byMainKey = new Map<string, string>();
  for (const { file, mb } of links) {
    const keyid8 = /\.([0-9a-f]{8})\.link$/.exec(file)?.[1] ?? '';
    const id = [...authorized.keys()].find(
      (k) => k.startsWith(keyid8) && mb.signatures.some((s) => s.keyid === k),
    );
    const key = id === undefined ? undefined : authorized.get(id);
    if (id === undefined || key === undefined) {
      throw refuse(
        `${file}: signed by ${short(mb.signatures.map((s) => s.keyid))}, not a functionary of step ${quote(step.name)} in layout ${layoutName} (functionaries: ${short(authorized.keys())})`,
        { file, step: step.name, layout: layoutName },
        'record the step again with a functionary key of the layout, or add the key to the layout',
      );
    }
    try {
      verifyMetablockSignature(mb, key);
    } catch (e) {
      if (!isCnabsecError(e)) throw e;
      throw refuse(
        `${file}: its signature by ${id.slice(0, 8)} does not verify (layout ${layoutName}, step ${quote(step.name)})`,
        { file, step: step.name, layout: layoutName },
        'the link was changed after it was signed: record the step again',
      );
    }
    byMainKey.set(key.keyid, file);
  }
  return byMainKey;
}

/**
 * Refuse `links` unless every step of `layout` has at least `threshold` of them, validly signed
 * by distinct authorized functionaries, and every link belongs to a step of the layout.
 */
export function checkLinksAgainstLayout(layoutName: string, layout: Layout, links: ParsedLink[]): void {
  const steps = new Map(layout.steps.map((s) => [s.name, s]));
  for (const { file, mb } of links) {
    const name = isLinkBlock(mb) ? mb.signed.name : '';
    if (!steps.has(name)) {
      throw refuse(
        `${file}: step ${quote(name)} is not a step of layout ${layoutName} (steps: ${[...steps.keys()].join(', ') || 'none'})`,
        { file, step: name, layout: layoutName },
        'pass only the links of the steps of this layout with --links (or give the layout with --layout)',
      );
    }
  }
  for (const step of layout.steps) {
    const mine = links.filter((l) => isLinkBlock(l.mb) && l.mb.signed.name === step.name);
    const valid = validLinks(layoutName, layout, step, mine);
    if (valid.size >= step.threshold) continue;
    const expected = [...functionaries(layout, step).keys()]
      .filter((k) => ![...valid.values()].some((f) => f === `${step.name}.${k.slice(0, 8)}.link`))
      .map((k) => `${step.name}.${k.slice(0, 8)}.link`);
    throw refuse(
      valid.size === 0
        ? `no link for step ${quote(step.name)} of layout ${layoutName}: expected ${expected.join(' or ')}${step.threshold > 1 ? ` (${step.threshold} of them)` : ''}`
        : `step ${quote(step.name)} of layout ${layoutName} needs ${step.threshold} links by distinct functionaries, found ${valid.size} (${[...valid.values()].join(', ')}): expected also ${expected.join(' or ')}`,
      { step: step.name, threshold: step.threshold, found: valid.size, expected, layout: layoutName },
      `record the step with \`cnabsec intoto run -n ${step.name} -k <functionary key> ...\` and pass its link with --links`,
    );
  }
}
