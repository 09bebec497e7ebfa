/**
 * `intoto layout lint`: problems a layout owner wants to know before signing, beyond the
 * format checks of `readLayout` (which python in-toto also makes):
 * errors — step keys missing from `keys`, thresholds no set of functionaries can meet,
 * expired layouts, MATCH rules naming no step or inspection (or, in a step, an inspection:
 * step rules run before inspections), key ids that do not belong to their key;
 * warnings — expiry within 30 days, rules after one that empties the queue (unreachable),
 * rule lists without a DISALLOW (they can never fail), REQUIRE with wildcards (REQUIRE takes
 * a literal file name).
 */
import { sslibKeyId } from '../crypto/sslib.js';
import type { Inspection, Layout, Step } from './models.js';
import { parseExpires } from './models.js';
import { unpackRule, type RuleData } from './rules.js';

export interface LintIssue {
  severity: 'error' | 'warning';
  where: string;
  message: string;
}

const DAY = 86_400_000;

function lintKeys(layout: Layout, out: LintIssue[]): void {
  for (const [id, key] of Object.entries(layout.keys)) {
    const where = `keys.${id.slice(0, 8)}`;
    if (typeof key.keyid !== 'string') {
      out.push({ severity: 'error', where, message: 'key has no "keyid" field (python in-toto needs it)' });
    } else if (key.keyid !== id) {
      out.push({
        severity: 'error',
        where,
        message: `key is listed under ${id} but its keyid is ${key.keyid}`,
      });
    }
    if (typeof key.scheme === 'string' && typeof key.keyval.public === 'string' && sslibKeyId(key) !== id) {
      out.push({
        severity: 'warning',
        where,
        message: 'key id is not the securesystemslib key id of this key',
      });
    }
  }
}

function lintStepKeys(layout: Layout, step: Step, out: LintIssue[]): void {
  const where = `step ${step.name}`;
  const known = step.pubkeys.filter((k) => k in layout.keys);
  for (const k of step.pubkeys) {
    if (!(k in layout.keys))
      out.push({ severity: 'error', where, message: `pubkey ${k} is not in the layout keys` });
  }
  if (step.threshold < 1)
    out.push({ severity: 'error', where, message: `threshold ${step.threshold} is below 1` });
  if (new Set(known).size < step.threshold) {
    out.push({
      severity: 'error',
      where,
      message: `threshold ${step.threshold} needs more functionaries than the ${new Set(known).size} known key(s)`,
    });
  }
}

function consumesAll(r: RuleData): boolean {
  return r.pattern === '*' && (r.type === 'allow' || r.type === 'disallow');
}

function lintRules(
  layout: Layout,
  item: Step | Inspection,
  side: 'materials' | 'products',
  isStep: boolean,
  out: LintIssue[],
): void {
  const where = `${item._type} ${item.name} expected_${side}`;
  const steps = new Set(layout.steps.map((s) => s.name));
  const inspections = new Set(layout.inspect.map((s) => s.name));
  const rules = side === 'materials' ? item.expected_materials : item.expected_products;
  let emptied: string | undefined;
  let hasDisallow = false;
  for (const rule of rules) {
    const r = unpackRule(rule);
    const text = rule.join(' ');
    if (emptied !== undefined) {
      out.push({
        severity: 'warning',
        where,
        message: `'${text}' is unreachable: '${emptied}' left nothing in the queue`,
      });
    }
    if (r.type === 'disallow') hasDisallow = true;
    if (r.type === 'require' && /[*?[]/.test(r.pattern)) {
      out.push({
        severity: 'warning',
        where,
        message: `'${text}': REQUIRE takes a file name, not a pattern`,
      });
    }
    if (r.type === 'match') {
      if (!steps.has(r.destName) && !inspections.has(r.destName)) {
        out.push({ severity: 'error', where, message: `'${text}' names unknown step ${r.destName}` });
      } else if (isStep && inspections.has(r.destName)) {
        out.push({
          severity: 'error',
          where,
          message: `'${text}' names inspection ${r.destName}, but step rules are checked before inspections run`,
        });
      } else if (r.destName === item.name && r.destType === side) {
        out.push({
          severity: 'warning',
          where,
          message: `'${text}' matches the artifacts against themselves`,
        });
      }
    }
    if (emptied === undefined && consumesAll(r)) emptied = text;
  }
  if (rules.length > 0 && !hasDisallow) {
    out.push({ severity: 'warning', where, message: 'no DISALLOW rule: these rules can never fail' });
  }
}

/** Lint a layout; `now` defaults to the current time. */
export function lintLayout(layout: Layout, now: Date = new Date()): LintIssue[] {
  const out: LintIssue[] = [];
  const expires = parseExpires(layout.expires);
  if (expires < now.getTime()) {
    out.push({ severity: 'error', where: 'expires', message: `the layout expired on ${layout.expires}` });
  } else if (expires < now.getTime() + 30 * DAY) {
    out.push({
      severity: 'warning',
      where: 'expires',
      message: `the layout expires soon (${layout.expires})`,
    });
  }
  if (layout.steps.length === 0)
    out.push({ severity: 'warning', where: 'steps', message: 'the layout has no steps' });
  lintKeys(layout, out);
  for (const step of layout.steps) {
    lintStepKeys(layout, step, out);
    lintRules(layout, step, 'materials', true, out);
    lintRules(layout, step, 'products', true, out);
  }
  for (const insp of layout.inspect) {
    lintRules(layout, insp, 'materials', false, out);
    lintRules(layout, insp, 'products', false, out);
  }
  return out;
}
