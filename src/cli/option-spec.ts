/**
 * The options and argument specifications of the CLI parser (args.ts): what `'-o, --output
 * <file>'` declares, and the "Did you mean" suggestion of its usage errors.
 */
import type { HelpOption } from './help.js';
import { editDistance } from '../util/text.js';

/** A custom option parser: the raw value and the option's previous value → the new value. */
export type OptionParser = ((value: string, previous: never) => unknown) & {
  readonly choices?: readonly string[];
};

export interface OptionSpec extends HelpOption {
  short: string | undefined;
  long: string | undefined;
  /** Key in the options object: `--layout-key` → layoutKey, `--no-prompt` → prompt. */
  key: string;
  value: 'none' | 'required' | 'optional';
  variadic: boolean;
  negate: boolean;
  mandatory: boolean;
  parser: OptionParser | undefined;
  /** The value before the option is given (a string default with a parser: parsed). */
  initial: unknown;
  /** Hidden from help and completion: a deprecated spelling, with what to use instead. */
  deprecated: string | undefined;
}

/** What shell completion needs of an option (options.ts parsers give enum `choices`). */
export interface OptionSummary {
  flags: string[];
  takesValue: boolean;
  choices: readonly string[] | undefined;
  description: string;
}

const camelCase = (s: string): string => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** `<x>`, `[x]`, `<x...>` → its parts. */
export function parseValueSpec(spec: string): { name: string; required: boolean; variadic: boolean } {
  const required = spec.startsWith('<');
  let name = spec.slice(1, -1);
  const variadic = name.endsWith('...');
  if (variadic) name = name.slice(0, -3);
  return { name, required, variadic };
}

export function optionSpec(flags: string, description: string, mandatory: boolean): OptionSpec {
  const parts = flags.split(/[ ,]+/).filter((p) => p !== '');
  const short = parts.find((p) => /^-[^-]$/.test(p));
  const long = parts.find((p) => p.startsWith('--'));
  const valueSpec = parts.find((p) => p.startsWith('<') || p.startsWith('['));
  const name = (long ?? short ?? '').replace(/^--?/, '');
  const negate = long?.startsWith('--no-') === true;
  const v = valueSpec === undefined ? undefined : parseValueSpec(valueSpec);
  return {
    flags,
    description,
    short,
    long,
    key: camelCase(negate ? name.slice(3) : name),
    value: v === undefined ? 'none' : v.required ? 'required' : 'optional',
    variadic: v?.variadic === true,
    negate,
    mandatory,
    parser: undefined,
    initial: negate ? true : undefined,
    deprecated: undefined,
  };
}

/** Closest of `candidates` to `word` (edit distance ≤ 40 % of its length), for "Did you mean". */
export function suggest(word: string, candidates: string[]): string {
  let best = '';
  let bestDistance = Math.max(1, Math.floor(word.length * 0.4)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === '' ? '' : ` (Did you mean ${best}?)`;
}

export const looksLikeOption = (arg: string): boolean => arg.length > 1 && arg.startsWith('-');
export const isNegativeNumber = (arg: string): boolean => /^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(arg);
