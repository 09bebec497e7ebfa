/**
 * Errors of the in-toto layer. Every error thrown by `src/intoto` is an `IntotoError` (a
 * `CnabsecError`) with a stable string code; the class names follow python in-toto.
 */
import { CnabsecError, type ErrorOptions } from '../errors.js';
import { quote } from '../util/json.js';

export type IntotoErrorCode =
  | 'INTOTO_BAD_FORMAT'
  | 'INTOTO_BAD_RULE'
  | 'INTOTO_BAD_KEY'
  | 'INTOTO_LAYOUT_EXPIRED'
  | 'INTOTO_SIGNATURE_INVALID'
  | 'INTOTO_THRESHOLD_NOT_MET'
  | 'INTOTO_THRESHOLD_ARTIFACTS_DIFFER'
  | 'INTOTO_RULE_FAILED'
  | 'INTOTO_INSPECTION_FAILED'
  | 'INTOTO_INSPECTION_TIMEOUT'
  | 'INTOTO_LINK_MISSING'
  | 'INTOTO_LINK_DIR_MISSING'
  | 'INTOTO_PARAMETER_MISSING'
  | 'INTOTO_PREFIX_CONFLICT'
  | 'INTOTO_COMMAND_FAILED'
  | 'INTOTO_COMMAND_TIMEOUT'
  | 'INTOTO_RECORD_NOT_STARTED'
  | 'INTOTO_INSPECTION_DIR_TOO_LARGE'
  | 'INTOTO_IO';

/** Base of all in-toto errors. */
export class IntotoError<C extends IntotoErrorCode = IntotoErrorCode> extends CnabsecError<C> {}

/** Malformed metadata, key, rule or argument (python: securesystemslib FormatError). */
export class FormatError extends IntotoError<'INTOTO_BAD_FORMAT' | 'INTOTO_BAD_RULE' | 'INTOTO_BAD_KEY'> {}

/** in-toto spec §4.3 (layout `expires`): the layout is past its expiry date. */
export class LayoutExpiredError extends IntotoError<'INTOTO_LAYOUT_EXPIRED'> {
  constructor(message: string, options?: ErrorOptions) {
    super('INTOTO_LAYOUT_EXPIRED', message, options);
  }
}

/** A required signature is missing or does not verify. */
export class SignatureVerificationError extends IntotoError<'INTOTO_SIGNATURE_INVALID'> {
  constructor(message: string, options?: ErrorOptions) {
    super('INTOTO_SIGNATURE_INVALID', message, options);
  }
}

/** Fewer than `threshold` valid links for a step, or the links disagree on artifacts. */
export class ThresholdVerificationError extends IntotoError<
  'INTOTO_THRESHOLD_NOT_MET' | 'INTOTO_THRESHOLD_ARTIFACTS_DIFFER'
> {}

/** Fewer link files than the threshold were found (python: LinkNotFoundError). */
export class LinkNotFoundError extends IntotoError<'INTOTO_LINK_MISSING' | 'INTOTO_LINK_DIR_MISSING'> {}

/** One entry of an artifact rule trace: the rule and the queue left after it. */
export interface RuleTraceEntry {
  rule: string[];
  queue: string[];
}

/** The artifact queue trace python prints when a rule fails. */
export interface RuleTrace {
  item: string;
  sourceType: 'materials' | 'products';
  materials: string[];
  products: string[];
  entries: RuleTraceEntry[];
}

const TRACE_LIST_MAX = 50;

function listText(list: string[]): string {
  const sorted = [...list].sort();
  const shown = sorted.slice(0, TRACE_LIST_MAX).map((s) => quote(s, 200));
  if (sorted.length > TRACE_LIST_MAX) shown.push(`... ${sorted.length - TRACE_LIST_MAX} more`);
  return `[${shown.join(', ')}]`;
}

/** The trace as text, in the shape python in-toto prints it (long lists are shortened). */
export function formatRuleTrace(trace: RuleTrace): string {
  const lines = [`Full trace for 'expected_${trace.sourceType}' of item '${trace.item}':`];
  for (const type of ['materials', 'products'] as const) {
    lines.push(`Available ${type}${type === trace.sourceType ? ' (used for queue)' : ''}:`);
    lines.push(listText(trace[type]));
  }
  for (const e of trace.entries) {
    lines.push(`Queue after '${e.rule.join(' ')}':`);
    lines.push(listText(e.queue));
  }
  return lines.join('\n');
}

/** in-toto spec §5.3 (artifact rules): a DISALLOW matched or a REQUIRE found nothing. */
export class RuleVerificationError extends IntotoError<'INTOTO_RULE_FAILED'> {
  readonly trace: RuleTrace;
  readonly rule: string[];
  readonly artifacts: string[];

  constructor(summary: string, rule: string[], artifacts: string[], trace: RuleTrace) {
    super('INTOTO_RULE_FAILED', `${summary}\n${formatRuleTrace(trace)}`, {
      details: {
        item: trace.item,
        sourceType: trace.sourceType,
        rule,
        artifacts: artifacts.slice(0, 1000),
        trace: trace.entries.map((e) => ({ rule: e.rule, queue: e.queue.slice(0, 1000) })),
      },
      hint: 'the artifacts listed were not consumed by an earlier rule of this step or inspection',
    });
    this.rule = rule;
    this.artifacts = artifacts;
    this.trace = trace;
  }
}

/** An inspection returned non-zero, could not start, or ran out of time. */
export class BadReturnValueError extends IntotoError<
  'INTOTO_INSPECTION_FAILED' | 'INTOTO_INSPECTION_TIMEOUT'
> {}

/**
 * A value as a message may quote it: strings JSON-escaped, containers sketched three levels
 * deep, the whole cut at about `max` characters. Never recursion without bound (a hostile
 * value may nest thousands of levels or be circular), never the whole of a huge value.
 */
export function preview(value: unknown, max = 80): string {
  const s = sketch(value, 0, max);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function sketch(v: unknown, depth: number, budget: number): string {
  if (typeof v === 'string') return quote(v, Math.max(budget, 8));
  if (typeof v !== 'object' || v === null) return String(v);
  const array = Array.isArray(v);
  if (depth >= 3) return array ? '[…]' : '{…}';
  let out = '';
  for (const k in v) {
    if (out.length > budget) {
      out += ',…';
      break;
    }
    const item = sketch((v as Record<string, unknown>)[k], depth + 1, budget - out.length);
    out += `${out === '' ? '' : ','}${array ? '' : `${quote(k, 40)}:`}${item}`;
  }
  return array ? `[${out}]` : `{${out}}`;
}
