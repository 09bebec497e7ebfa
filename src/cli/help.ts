/**
 * The text `--help` prints for a command, laid out as commander (which the CLI used before, ADR 0006) lays it out: usage line,
 * description, then Arguments, Options and Commands in two columns, descriptions wrapped to
 * the terminal width (80 columns when output is not a terminal).
 */

export interface HelpOption {
  flags: string;
  description: string;
  defaultValue?: unknown;
  negate?: boolean;
}

export interface HelpArgument {
  name: string;
  required: boolean;
  variadic: boolean;
  description: string;
}

export interface HelpCommand {
  name: string;
  hasOptions: boolean;
  arguments: readonly HelpArgument[];
  description: string;
}

export interface HelpInput {
  path: string;
  description: string;
  arguments: readonly HelpArgument[];
  options: readonly HelpOption[];
  commands: readonly HelpCommand[];
  /** Example command lines, each printed as given (`cnabsec init ./repo --name ...`). */
  examples?: readonly string[];
}

/** Descriptions narrower than this are not wrapped (the column would be too thin to read). */
const MIN_DESCRIPTION_WIDTH = 40;

function argumentTerm(a: HelpArgument): string {
  const name = a.variadic ? `${a.name}...` : a.name;
  return a.required ? `<${name}>` : `[${name}]`;
}

function optionDescription(o: HelpOption): string {
  const d = o.defaultValue;
  const showDefault = d !== undefined && o.negate !== true && !(Array.isArray(d) && d.length === 0);
  return showDefault ? `${o.description} (default: ${JSON.stringify(d)})` : o.description;
}

/** Greedy word wrap of `text` to `width` columns; continuation lines indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  if (width < MIN_DESCRIPTION_WIDTH) return text;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function columns(): number {
  return process.stdout.isTTY ? (process.stdout.columns ?? 80) : 80;
}

function section(title: string, rows: readonly [string, string][], termWidth: number): string[] {
  if (rows.length === 0) return [];
  const width = columns();
  const out = [`${title}:`];
  for (const [term, description] of rows) {
    if (description === '') {
      out.push(`  ${term}`);
      continue;
    }
    const indent = 2 + termWidth + 2;
    out.push(`  ${term.padEnd(termWidth)}  ${wrap(description, width - indent, indent)}`);
  }
  return [...out, ''];
}

export function formatHelp(h: HelpInput): string {
  const args = h.arguments.map(argumentTerm);
  const usage = [
    `Usage: ${h.path}`,
    '[options]',
    ...(h.commands.length > 0 ? ['[command]'] : []),
    ...args,
  ].join(' ');
  const argRows = h.arguments
    .filter((a) => a.description !== '')
    .map((a): [string, string] => [a.name, a.description]);
  const optionRows = h.options.map((o): [string, string] => [o.flags, optionDescription(o)]);
  const commandRows = h.commands.map((c): [string, string] => [
    [c.name, ...(c.hasOptions ? ['[options]'] : []), ...c.arguments.map(argumentTerm)].join(' '),
    c.description,
  ]);
  if (h.commands.length > 0) commandRows.push(['help [command]', 'display help for command']);
  const termWidth = Math.max(0, ...[...argRows, ...optionRows, ...commandRows].map(([t]) => t.length));
  const out = [usage, ''];
  if (h.description !== '') out.push(wrap(h.description, columns(), 0), '');
  out.push(
    ...section('Arguments', argRows, termWidth),
    ...section('Options', optionRows, termWidth),
    ...section('Commands', commandRows, termWidth),
  );
  if (h.examples !== undefined && h.examples.length > 0)
    out.push('Examples:', ...h.examples.map((e) => `  ${e}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}
