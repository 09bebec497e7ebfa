/**
 * Parameter substitution (in-toto spec §4.3 "parameter substitution"; python
 * `verifylib.substitute_parameters`): every string of the artifact rules and of
 * `expected_command` / `run` is formatted like Python's `str.format(**params)`: `{NAME}` is
 * replaced, `{{` and `}}` are literal braces, an unknown name is an error. Conversions,
 * format specs and attribute/index access are not supported (an error, never a guess).
 */
import { quote } from '../util/json.js';
import { FormatError, IntotoError, preview } from './errors.js';
import type { Inspection, Layout, Rule, Step } from './models.js';

const KEY = /^[a-zA-Z0-9_-]+$/;

/** Python `s.format(**params)` for plain `{name}` fields. */
export function pyFormat(s: string, params: Readonly<Record<string, string>>): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i);
    if (c === '{') {
      if (s.charAt(i + 1) === '{') {
        out += '{';
        i += 2;
        continue;
      }
      const end = s.indexOf('}', i + 1);
      if (end < 0) throw new FormatError('INTOTO_BAD_FORMAT', `unclosed "{" in ${quote(s)}`);
      const field = s.slice(i + 1, end);
      if (field === '' || /^\d+$/.test(field) || /[.[!:{]/.test(field)) {
        throw new FormatError(
          'INTOTO_BAD_FORMAT',
          `unsupported substitution field {${field.slice(0, 80)}} in ${quote(s)}`,
          {
            hint: 'parameters are written {NAME}; write {{ and }} for literal braces',
          },
        );
      }
      if (!Object.prototype.hasOwnProperty.call(params, field)) {
        throw new IntotoError(
          'INTOTO_PARAMETER_MISSING',
          `no value for parameter {${field.slice(0, 80)}} (in ${quote(s)})`,
          {
            details: { parameter: field },
            hint: `pass --param ${field}=VALUE`,
          },
        );
      }
      out += params[field] as string;
      i = end + 1;
    } else if (c === '}') {
      if (s.charAt(i + 1) !== '}') throw new FormatError('INTOTO_BAD_FORMAT', `single "}" in ${quote(s)}`);
      out += '}';
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function formatList(list: unknown[], params: Readonly<Record<string, string>>): string[] {
  return list.map((x) => {
    if (typeof x !== 'string')
      throw new FormatError('INTOTO_BAD_FORMAT', `cannot substitute in ${preview(x)}`);
    return pyFormat(x, params);
  });
}

function formatRules(rules: Rule[], params: Readonly<Record<string, string>>): Rule[] {
  return rules.map((r) => formatList(r, params));
}

/** A copy of `layout` with parameters substituted in steps and inspections. */
export function substituteParameters(layout: Layout, params: Readonly<Record<string, string>>): Layout {
  for (const k of Object.keys(params)) {
    if (!KEY.test(k))
      throw new FormatError('INTOTO_BAD_FORMAT', `parameter name ${quote(k)} is not [a-zA-Z0-9_-]+`);
  }
  const steps: Step[] = layout.steps.map((s) => ({
    ...s,
    expected_materials: formatRules(s.expected_materials, params),
    expected_products: formatRules(s.expected_products, params),
    expected_command: formatList(s.expected_command, params),
  }));
  const inspect: Inspection[] = layout.inspect.map((s) => ({
    ...s,
    expected_materials: formatRules(s.expected_materials, params),
    expected_products: formatRules(s.expected_products, params),
    run: formatList(s.run, params),
  }));
  return { ...layout, steps, inspect };
}
