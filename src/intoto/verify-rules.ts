/**
 * Artifact rule processing (in-toto spec §5.3, python `verifylib.verify_item_rules`).
 *
 * The artifacts of one side (materials or products) of an item's link form a queue; rules run
 * in order and each may consume queued artifacts: MATCH (same hash in another link, with
 * optional IN prefixes), CREATE (product, not material), DELETE (material, not product),
 * MODIFY (both, different hashes), ALLOW (any). Consuming never fails by itself; DISALLOW
 * fails if its pattern matches anything still queued, REQUIRE if its file is not queued.
 * Each rule is one pass over the queue with a compiled pattern and hash-map lookups, so the
 * cost is O(rules × artifacts).
 */
import { RuleVerificationError, IntotoError, type RuleTrace } from './errors.js';
import { compileFnmatch } from './fnmatch.js';
import type { ArtifactMap, HashDict, Link, Rule } from './models.js';
import { unpackRule, type MatchRule } from './rules.js';

/** Links by step or inspection name. */
export type LinkMap = ReadonlyMap<string, Link>;

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Python dict equality of two hash objects. */
export function hashesEqual(a: HashDict, b: HashDict): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (b[k] !== a[k] || !own(b, k)) return false;
  return true;
}

/** Python `os.path.join(a, b)` for POSIX paths. */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  if (a === '' || a.endsWith('/')) return a + b;
  return `${a}/${b}`;
}

function verifyMatch(rule: MatchRule, queue: Set<string>, source: ArtifactMap, links: LinkMap): Set<string> {
  const consumed = new Set<string>();
  const dest = links.get(rule.destName);
  if (dest === undefined) return consumed;
  const destArtifacts = dest[rule.destType];
  const match = compileFnmatch(rule.pattern);
  const prefix = rule.sourcePrefix ? pyJoin(rule.sourcePrefix, '').replace(/\\/g, '/') : '';
  for (const queued of queue) {
    if (prefix && !queued.startsWith(prefix)) continue;
    const path = prefix ? queued.slice(prefix.length) : queued;
    if (!match(path)) continue;
    const fullSource = rule.sourcePrefix ? pyJoin(rule.sourcePrefix, path).replace(/\\/g, '/') : path;
    const fullDest = rule.destPrefix ? pyJoin(rule.destPrefix, path).replace(/\\/g, '/') : path;
    if (!own(source, fullSource)) {
      // python raises KeyError here (and so fails verification).
      throw new IntotoError(
        'INTOTO_BAD_FORMAT',
        `artifact ${JSON.stringify(fullSource)} cannot be resolved`,
        {
          hint: 'an artifact path and a MATCH source prefix combine to a path that is not in the link',
        },
      );
    }
    if (!own(destArtifacts, fullDest)) continue;
    if (!hashesEqual(source[fullSource] as HashDict, destArtifacts[fullDest] as HashDict)) continue;
    consumed.add(fullSource);
  }
  return consumed;
}

function filterQueue(
  queue: Set<string>,
  pattern: string,
  keep: (p: string) => boolean = () => true,
): Set<string> {
  const match = compileFnmatch(pattern);
  const out = new Set<string>();
  for (const p of queue) if (match(p) && keep(p)) out.add(p);
  return out;
}

interface TraceStep {
  rule: Rule;
  consumed: Set<string>;
}

function buildTrace(
  item: string,
  sourceType: 'materials' | 'products',
  link: Link,
  steps: TraceStep[],
): RuleTrace {
  const queue = new Set(Object.keys(link[sourceType]));
  const entries = steps.map((s) => {
    for (const c of s.consumed) queue.delete(c);
    return { rule: s.rule, queue: [...queue] };
  });
  return {
    item,
    sourceType,
    materials: Object.keys(link.materials),
    products: Object.keys(link.products),
    entries,
  };
}

function quoteList(list: Iterable<string>, max = 20): string {
  const all = [...list].sort();
  const shown = all.slice(0, max).map((s) => JSON.stringify(s));
  if (all.length > max) shown.push(`... ${all.length - max} more`);
  return `[${shown.join(', ')}]`;
}

/**
 * Apply the `sourceType` rules of item `item` (whose link is `links.get(item)`), throwing a
 * RuleVerificationError with the queue trace when a DISALLOW or REQUIRE rule fails.
 */
export function verifyItemRules(
  item: string,
  sourceType: 'materials' | 'products',
  rules: readonly Rule[],
  links: LinkMap,
): void {
  const link = links.get(item);
  if (link === undefined) throw new IntotoError('INTOTO_LINK_MISSING', `no link for ${JSON.stringify(item)}`);
  const { materials, products } = link;
  const artifacts = link[sourceType];
  const queue = new Set(Object.keys(artifacts));
  const steps: TraceStep[] = [];
  for (const rule of rules) {
    const data = unpackRule(rule);
    let consumed = new Set<string>();
    switch (data.type) {
      case 'match':
        consumed = verifyMatch(data, queue, artifacts, links);
        break;
      case 'create':
        consumed = filterQueue(queue, data.pattern, (p) => own(products, p) && !own(materials, p));
        break;
      case 'delete':
        consumed = filterQueue(queue, data.pattern, (p) => own(materials, p) && !own(products, p));
        break;
      case 'modify':
        consumed = filterQueue(
          queue,
          data.pattern,
          (p) =>
            own(materials, p) &&
            own(products, p) &&
            !hashesEqual(materials[p] as HashDict, products[p] as HashDict),
        );
        break;
      case 'allow':
        consumed = filterQueue(queue, data.pattern);
        break;
      case 'disallow': {
        const hit = filterQueue(queue, data.pattern);
        if (hit.size > 0) {
          throw new RuleVerificationError(
            `'${rule.join(' ')}' matched the following artifacts: ${quoteList(hit)} ` +
              `(item '${item}', expected_${sourceType})`,
            rule,
            [...hit].sort(),
            buildTrace(item, sourceType, link, steps),
          );
        }
        break;
      }
      case 'require':
        if (!queue.has(data.pattern)) {
          throw new RuleVerificationError(
            `'${rule.join(' ')}' did not find ${data.pattern} in the queue of item '${item}' (expected_${sourceType})`,
            rule,
            [],
            buildTrace(item, sourceType, link, steps),
          );
        }
        break;
    }
    for (const c of consumed) queue.delete(c);
    steps.push({ rule, consumed });
  }
}

/** Apply material then product rules of each item (python `verify_all_item_rules`). */
export function verifyAllItemRules(
  items: readonly { name: string; expected_materials: Rule[]; expected_products: Rule[] }[],
  links: LinkMap,
): void {
  for (const item of items) {
    verifyItemRules(item.name, 'materials', item.expected_materials, links);
    verifyItemRules(item.name, 'products', item.expected_products, links);
  }
}
