/**
 * Artifact rules (in-toto spec §4.3.3 and §5.3): parsing (`unpackRule`, keywords are case
 * insensitive, as python's rulelib), building (`packRule`) and a POSIX `shlex.split` for rule
 * strings such as `MATCH * WITH PRODUCTS FROM build`.
 */
import { FormatError, preview } from './errors.js';

export type GenericRuleType = 'create' | 'modify' | 'delete' | 'allow' | 'disallow' | 'require';
export type RuleType = GenericRuleType | 'match';

export interface GenericRule {
  type: GenericRuleType;
  pattern: string;
}

export interface MatchRule {
  type: 'match';
  pattern: string;
  sourcePrefix: string;
  destPrefix: string;
  destType: 'materials' | 'products';
  destName: string;
}

export type RuleData = GenericRule | MatchRule;

const GENERIC = new Set<string>(['create', 'modify', 'delete', 'allow', 'disallow', 'require']);

const MATCH_FORMAT =
  'MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>';

function badRule(message: string, rule: unknown): FormatError {
  return new FormatError('INTOTO_BAD_RULE', `${message}: ${preview(rule, 200)}`, {
    details: { rule },
    hint: `rules are CREATE|MODIFY|DELETE|ALLOW|DISALLOW|REQUIRE <pattern> or ${MATCH_FORMAT}`,
  });
}

/** Parse a rule (a list of strings) as python's `rulelib.unpack_rule` does. */
export function unpackRule(rule: unknown): RuleData {
  if (!Array.isArray(rule) || !rule.every((x) => typeof x === 'string')) {
    throw badRule('a rule must be a list of strings', rule);
  }
  const r = rule;
  const lower = r.map((x) => x.toLowerCase());
  const kind = lower[0];
  if (r.length < 2 || kind === undefined || !(GENERIC.has(kind) || kind === 'match')) {
    throw badRule('unknown rule keyword or missing pattern', rule);
  }
  const pattern = r[1] as string;
  if (kind !== 'match') {
    if (r.length !== 2) throw badRule(`${kind.toUpperCase()} takes exactly one pattern`, rule);
    return { type: kind as GenericRuleType, pattern };
  }
  const at = (i: number): string => r[i] ?? '';
  const low = (i: number): string => lower[i] ?? '';
  let sourcePrefix = '';
  let destPrefix = '';
  let destType: string;
  let destName: string;
  const n = r.length;
  if (n === 10 && low(2) === 'in' && low(4) === 'with' && low(6) === 'in' && low(8) === 'from') {
    [sourcePrefix, destType, destPrefix, destName] = [at(3), low(5), at(7), at(9)];
  } else if (n === 8 && low(2) === 'in' && low(4) === 'with' && low(6) === 'from') {
    [sourcePrefix, destType, destName] = [at(3), low(5), at(7)];
  } else if (n === 8 && low(2) === 'with' && low(4) === 'in' && low(6) === 'from') {
    [destType, destPrefix, destName] = [low(3), at(5), at(7)];
  } else if (n === 6 && low(2) === 'with' && low(4) === 'from') {
    [destType, destName] = [low(3), at(5)];
  } else {
    throw badRule(`a match rule must read ${MATCH_FORMAT}`, rule);
  }
  if (destType !== 'materials' && destType !== 'products') {
    throw badRule('a match rule needs MATERIALS or PRODUCTS as destination', rule);
  }
  return { type: 'match', pattern, sourcePrefix, destPrefix, destType, destName };
}

/** The list form of a rule, as python's `rulelib.pack_rule` writes it (keywords upper case). */
export function packRule(data: RuleData): string[] {
  if (data.type !== 'match') return [data.type.toUpperCase(), data.pattern];
  const out = ['MATCH', data.pattern];
  if (data.sourcePrefix) out.push('IN', data.sourcePrefix);
  out.push('WITH', data.destType.toUpperCase());
  if (data.destPrefix) out.push('IN', data.destPrefix);
  out.push('FROM', data.destName);
  return out;
}

/** POSIX `shlex.split`: whitespace separated words, '...' literal, "..." with \ escapes. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i++);
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else if (c === "'") {
      inWord = true;
      const end = s.indexOf("'", i);
      if (end < 0) throw new FormatError('INTOTO_BAD_RULE', `no closing quotation in ${JSON.stringify(s)}`);
      cur += s.slice(i, end);
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      for (;;) {
        if (i >= s.length)
          throw new FormatError('INTOTO_BAD_RULE', `no closing quotation in ${JSON.stringify(s)}`);
        const d = s.charAt(i++);
        if (d === '"') break;
        if (d === '\\' && i < s.length && '\\"$`\n'.includes(s.charAt(i))) cur += s.charAt(i++);
        else cur += d;
      }
    } else if (c === '\\') {
      inWord = true;
      if (i >= s.length)
        throw new FormatError('INTOTO_BAD_RULE', `no escaped character in ${JSON.stringify(s)}`);
      cur += s.charAt(i++);
    } else {
      inWord = true;
      cur += c;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Parse a rule string (`"MATCH foo WITH PRODUCTS FROM build"`) into its checked list form. */
export function ruleFromString(s: string): string[] {
  const rule = shlexSplit(s);
  unpackRule(rule);
  return rule;
}
