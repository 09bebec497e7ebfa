/**
 * The text `--help` prints for a command, laid out as commander (which the CLI used before, ADR 0006) lays it out: usage line,
 * description, then Arguments, Options and Commands in two columns, descriptions wrapped to
 * the terminal width (80 columns when output is not a terminal). The top-level help lists
 * the commands under headings (COMMAND_HEADINGS), for the people who run them.
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
  /** List the commands under the headings of COMMAND_HEADINGS (the top-level help). */
  grouped?: boolean;
}

/**
 * The headings of the top-level help and the commands under each, keyed by command name: a
 * command added later goes in here; a name not listed lands under "Other".
 */
export const COMMAND_HEADINGS: readonly (readonly [string, readonly string[]])[] = [
  [
    'Developer commands (sign and publish a bundle repository)',
    [
      'init',
      'status',
      'publish',
      'clone',
      'refresh',
      'resign',
      'sign',
      'payload',
      'add-signature',
      'bundle',
      'layout',
      'policy',
      'reset',
      'delegation',
      'recover',
      'advisory',
    ],
  ],
  ['User commands (trust and verify bundles)', ['trust', 'lookup', 'list', 'verify']],
  ['Registry commands (thin bundles in OCI registries)', ['push', 'pull', 'copy']],
  ['Key commands', ['key']],
  ['in-toto commands', ['intoto']],
  ['Server commands', ['serve', 'server', 'server-backup', 'server-token', 'server-migrate']],
  ['Other commands', ['version', 'completion', 'help']],
];

/** The heading `name` is listed under. */
export function headingOf(name: string): string {
  const found = COMMAND_HEADINGS.find(([, names]) => names.includes(name));
  return (found ?? COMMAND_HEADINGS[COMMAND_HEADINGS.length - 1] ?? ['Other commands'])[0];
}

/** Command rows under their headings, each heading in COMMAND_HEADINGS order. */
function groupedSections(
  commands: readonly HelpCommand[],
  rows: readonly [string, string][],
  termWidth: number,
): string[] {
  const names = [...commands.map((c) => c.name), 'help'];
  const out: string[] = [];
  for (const [heading, listed] of COMMAND_HEADINGS) {
    const picked = names
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => headingOf(n) === heading)
      .sort((a, b) => rank(listed, a.n) - rank(listed, b.n));
    out.push(
      ...section(
        heading,
        picked.map(({ i }) => rows[i] as [string, string]),
        termWidth,
      ),
    );
  }
  return out;
}

/** Position of `name` in a heading's list; names not listed come next, as registered; help last. */
const rank = (listed: readonly string[], name: string): number =>
  name === 'help' ? listed.length + 1 : listed.includes(name) ? listed.indexOf(name) : listed.length;

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

/**
 * The width of the term column: the longest term, but at most what leaves
 * MIN_DESCRIPTION_WIDTH columns for the descriptions (a longer term gets a line of its own,
 * its description starts on the next line at the column).
 */
function termColumn(terms: readonly string[]): number {
  const longest = Math.max(0, ...terms.map((t) => t.length));
  return Math.min(longest, Math.max(16, columns() - 4 - MIN_DESCRIPTION_WIDTH));
}

function section(title: string, rows: readonly [string, string][], termWidth: number): string[] {
  if (rows.length === 0) return [];
  const width = columns();
  const out = [`${title}:`];
  const indent = 2 + termWidth + 2;
  for (const [term, description] of rows) {
    if (description === '') {
      out.push(`  ${term}`);
      continue;
    }
    const text = wrap(description, width - indent, indent);
    if (term.length > termWidth) out.push(`  ${term}`, `${' '.repeat(indent)}${text}`);
    else out.push(`  ${term.padEnd(termWidth)}  ${text}`);
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
  const termWidth = termColumn([...argRows, ...optionRows, ...commandRows].map(([t]) => t));
  const out = [usage, ''];
  if (h.description !== '') out.push(wrap(h.description, columns(), 0), '');
  out.push(
    ...section('Arguments', argRows, termWidth),
    ...section('Options', optionRows, termWidth),
    ...(h.grouped === true && h.commands.length > 0
      ? groupedSections(h.commands, commandRows, termWidth)
      : section('Commands', commandRows, termWidth)),
  );
  if (h.examples !== undefined && h.examples.length > 0)
    out.push('Examples:', ...h.examples.map((e) => `  ${e}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}
