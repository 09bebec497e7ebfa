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
import { quote } from '../util/json.js';
import { RuleVerificationError, IntotoError, type RuleTrace } from './errors.js';
import { compileFnmatch } from './fnmatch.js';
import type { ArtifactMap, HashDict, Link, Rule } from './models.js';
import { unpackRule, type MatchRule } from './rules.js';

/** Links by step or inspection name. */
export type LinkMap = ReadonlyMap<string, Link>;

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Python dict equality of two hash objects. */
export function hashesEqual(a: HashDict, b: HashDict): boolean {
  // for-in over these small objects allocates nothing (unlike Object.keys per artifact).
  let n = 0;
  for (const k in a) {
    if (b[k] !== a[k] || !own(b, k)) return false;
    n++;
  }
  for (const k in b) if (own(b, k)) n--;
  return n === 0;
}

/** Python `os.path.join(a, b)` for POSIX paths. */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  if (a === '' || a.endsWith('/')) return a + b;
  return `${a}/${b}`;
}

/** MATCH: the queue without the artifacts whose hash equals the destination artifact's. */
function verifyMatch(rule: MatchRule, queue: string[], source: ArtifactMap, links: LinkMap): string[] {
  const dest = links.get(rule.destName);
  if (dest === undefined) return queue;
  const destArtifacts = dest[rule.destType];
  const match = compileFnmatch(rule.pattern);
  if (!rule.sourcePrefix && !rule.destPrefix) {
    // The common case: source path = queued path = destination path.
    return queue.filter((p) => {
      if (!match(p)) return true;
      const d = destArtifacts[p];
      return d === undefined || !own(destArtifacts, p) || !hashesEqual(source[p] as HashDict, d);
    });
  }
  const consumed = new Set<string>();
  const prefix = rule.sourcePrefix ? pyJoin(rule.sourcePrefix, '').replace(/\\/g, '/') : '';
  for (const queued of queue) {
    if (prefix && !queued.startsWith(prefix)) continue;
    const path = prefix ? queued.slice(prefix.length) : queued;
    if (!match(path)) continue;
    const fullSource = rule.sourcePrefix ? pyJoin(rule.sourcePrefix, path).replace(/\\/g, '/') : path;
    const fullDest = rule.destPrefix ? pyJoin(rule.destPrefix, path).replace(/\\/g, '/') : path;
    if (!own(source, fullSource)) {
      // python raises KeyError here (and so fails verification).
      throw new IntotoError('INTOTO_BAD_FORMAT', `artifact ${quote(fullSource, 200)} cannot be resolved`, {
        hint: 'an artifact path and a MATCH source prefix combine to a path that is not in the link',
      });
    }
    if (!own(destArtifacts, fullDest)) continue;
    if (!hashesEqual(source[fullSource] as HashDict, destArtifacts[fullDest] as HashDict)) continue;
    consumed.add(fullSource);
  }
  return consumed.size === 0 ? queue : queue.filter((p) => !consumed.has(p));
}

/** The queue without what `pattern` matches and `consume` accepts. */
function consume(queue: string[], pattern: string, accept: (p: string) => boolean = () => true): string[] {
  const match = compileFnmatch(pattern);
  return queue.filter((p) => !(match(p) && accept(p)));
}

function buildTrace(
  item: string,
  sourceType: 'materials' | 'products',
  link: Link,
  entries: RuleTrace['entries'],
): RuleTrace {
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
  const shown = all.slice(0, max).map((s) => quote(s, 200));
  if (all.length > max) shown.push(`... ${all.length - max} more`);
  return `[${shown.join(', ')}]`;
}

/**
 * Apply the `sourceType` rules of item `item` (whose link is `links.get(item)`), throwing a
 * RuleVerificationError with the queue trace when a DISALLOW or REQUIRE rule fails. The
 * queue is an array; each consuming rule makes the array of what is left.
 */
export function verifyItemRules(
  item: string,
  sourceType: 'materials' | 'products',
  rules: readonly Rule[],
  links: LinkMap,
): void {
  const link = links.get(item);
  if (link === undefined) throw new IntotoError('INTOTO_LINK_MISSING', `no link for ${quote(item)}`);
  const { materials, products } = link;
  const artifacts = link[sourceType];
  let queue = Object.keys(artifacts);
  const entries: RuleTrace['entries'] = [];
  for (const rule of rules) {
    const data = unpackRule(rule);
    switch (data.type) {
      case 'match':
        queue = verifyMatch(data, queue, artifacts, links);
        break;
      case 'create':
        queue = consume(queue, data.pattern, (p) => own(products, p) && !own(materials, p));
        break;
      case 'delete':
        queue = consume(queue, data.pattern, (p) => own(materials, p) && !own(products, p));
        break;
      case 'modify':
        queue = consume(
          queue,
          data.pattern,
          (p) =>
            own(materials, p) &&
            own(products, p) &&
            !hashesEqual(materials[p] as HashDict, products[p] as HashDict),
        );
        break;
      case 'allow':
        queue = consume(queue, data.pattern);
        break;
      case 'disallow': {
        const match = compileFnmatch(data.pattern);
        const hit = queue.filter((p) => match(p));
        if (hit.length > 0) {
          throw new RuleVerificationError(
            `'${rule.join(' ')}' matched the following artifacts: ${quoteList(hit)} ` +
              `(item '${item}', expected_${sourceType})`,
            rule,
            hit.sort(),
            buildTrace(item, sourceType, link, entries),
          );
        }
        break;
      }
      case 'require':
        if (!queue.includes(data.pattern)) {
          throw new RuleVerificationError(
            `'${rule.join(' ')}' did not find ${data.pattern} in the queue of item '${item}' (expected_${sourceType})`,
            rule,
            [],
            buildTrace(item, sourceType, link, entries),
          );
        }
        break;
    }
    entries.push({ rule, queue });
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
