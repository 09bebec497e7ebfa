/**
 * Command-line parsing for the cnabsec CLI: a tree of commands, each with positional
 * arguments, options and an action, and the help generated from it. The API is the part of
 * commander's the commands use (`command`, `description`, `argument`, `option`,
 * `requiredOption`, `action`) and the parsing follows commander's rules (GNU style):
 *  - `--name value`, `--name=value`, `-n value`, `-nvalue`, grouped short flags `-ab`;
 *  - `<value...>` options take the following arguments up to the next one starting with `-`;
 *  - `--no-name` sets `name` to false (default true); a repeated option keeps the last value
 *    unless it has a parser (which receives the previous value);
 *  - everything after `--` is a positional argument;
 *  - `-h`/`--help` anywhere before `--`, and `help [command...]`, print help.
 * Typed values (integers, durations, enums, key types) come from the parsers of options.ts;
 * a parser's exception is a usage error naming the option and the value (ADR 0017).
 * It replaced commander, whose loading (with node:child_process) cost about 20 ms of every
 * command's start-up (bench/README.md). Usage errors are `UsageError`s: main.ts prints them
 * with a pointer to --help and exits 2 (ADR 0002).
 */
import { formatHelp, type HelpArgument, type HelpOption } from './help.js';
import {
  isNegativeNumber,
  looksLikeOption,
  optionSpec,
  parseValueSpec,
  suggest,
  type OptionParser,
  type OptionSpec,
  type OptionSummary,
} from './option-spec.js';

export type { OptionParser, OptionSummary } from './option-spec.js';
import { UsageError } from './usage-error.js';

// Actions take the positional arguments, then the options object, then the command.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Action = (...args: any[]) => unknown;

export { UsageError, isUsageError } from './usage-error.js';

/** Longest value quoted back in a usage error. */
const MAX_QUOTED_VALUE = 80;

const HELP_OPTION: HelpOption = { flags: '-h, --help', description: 'display help for command' };
const VERSION_FLAGS = '-V, --version';

/** One command: a group of subcommands, or a leaf with arguments, options and an action. */
export class Command {
  readonly commands: Command[] = [];
  private readonly options: OptionSpec[] = [];
  private readonly args: HelpArgument[] = [];
  private desc = '';
  private readonly exampleLines: string[] = [];
  private actionFn: Action | undefined;
  private parent: Command | undefined;
  private versionText: (() => string) | undefined;
  private extraArgumentsHint: ((extra: string[], operands: string[]) => string | undefined) | undefined;
  private checkFn:
    ((positional: unknown[], options: Record<string, unknown>) => string | undefined) | undefined;
  private unknownCommandFn: ((word: string) => string | undefined) | undefined;
  private unknownOptionFn: ((flag: string) => string | undefined) | undefined;

  constructor(private readonly commandName = '') {}

  name(): string {
    return this.commandName;
  }

  /** Add a subcommand: `'add <repo> [tag] [more...]'`; returns it. */
  command(spec: string): Command {
    const [name = '', ...argSpecs] = spec.split(/ +/);
    const sub = new Command(name);
    sub.parent = this;
    for (const a of argSpecs) sub.argument(a);
    this.commands.push(sub);
    return sub;
  }

  description(text: string): this {
    this.desc = text;
    return this;
  }

  /** Add an example command line to the help (`Examples:` section, printed as given). */
  example(line: string): this {
    this.exampleLines.push(line);
    return this;
  }

  /** The example command lines given with `example()`. */
  examples(): readonly string[] {
    return this.exampleLines;
  }

  argument(spec: string, description = ''): this {
    this.args.push({ ...parseValueSpec(spec), description });
    return this;
  }

  /**
   * `option(flags, description, parser?, default?)` or `option(flags, description, default)`.
   * A parser's exception is reported as a usage error naming the option and value.
   */
  option(flags: string, description: string, parserOrDefault?: unknown, defaultValue?: unknown): this {
    return this.addOption(flags, description, false, parserOrDefault, defaultValue);
  }

  requiredOption(
    flags: string,
    description: string,
    parserOrDefault?: unknown,
    defaultValue?: unknown,
  ): this {
    return this.addOption(flags, description, true, parserOrDefault, defaultValue);
  }

  action(fn: Action): this {
    this.actionFn = fn;
    return this;
  }

  /** `-V`/`--version` of a group prints `text` (a function: computed only then). */
  version(text: string | (() => string)): this {
    this.versionText = typeof text === 'string' ? () => text : text;
    return this;
  }

  /**
   * An option kept for compatibility: it works, is hidden from help and completion, and
   * using it warns `use <instead>`.
   */
  deprecatedOption(flags: string, instead: string, how: { parser?: OptionParser; key?: string } = {}): this {
    this.addOption(flags, '', false, how.parser, undefined);
    const spec = this.options[this.options.length - 1];
    if (spec !== undefined) {
      spec.deprecated = instead;
      if (how.key !== undefined) spec.key = how.key;
    }
    return this;
  }

  /**
   * More advice for "too many arguments": `hint(extra)` gets the operands beyond the
   * declared arguments (and all operands) and may return a sentence such as "Did you mean
   * `--thin bundle.json`?".
   */
  onExtraArguments(hint: (extra: string[], operands: string[]) => string | undefined): this {
    this.extraArgumentsHint = hint;
    return this;
  }

  /** A check of the parsed command line before the action: a message is a usage error. */
  check(fn: (positional: unknown[], options: Record<string, unknown>) => string | undefined): this {
    this.checkFn = fn;
    return this;
  }

  /** More advice for an unknown subcommand `word` (Notary verbs that cnabsec spells otherwise). */
  onUnknownCommand(hint: (word: string) => string | undefined): this {
    this.unknownCommandFn = hint;
    return this;
  }

  /** More advice for an unknown option `flag` of this command (a Notary flag, say). */
  onUnknownOption(hint: (flag: string) => string | undefined): this {
    this.unknownOptionFn = hint;
    return this;
  }

  /** The options of this command for shell completion (deprecated ones left out), and --help. */
  optionSummaries(): OptionSummary[] {
    return [
      ...this.options
        .filter((o) => o.deprecated === undefined)
        .map((o) => ({
          flags: [o.short, o.long].filter((f): f is string => f !== undefined),
          takesValue: o.value !== 'none',
          choices: o.parser?.choices,
          description: o.description,
        })),
      {
        flags: ['-h', '--help'],
        takesValue: false,
        choices: undefined,
        description: HELP_OPTION.description,
      },
    ];
  }

  /** The description given with `description()`. */
  describe(): string {
    return this.desc;
  }

  /** `cnabsec intoto verify`: the names from the root down. */
  path(): string {
    return this.parent === undefined ? this.commandName : `${this.parent.path()} ${this.commandName}`;
  }

  /** The help text of this command (what --help prints). */
  helpText(): string {
    const options: HelpOption[] = [...this.options.filter((o) => o.deprecated === undefined), HELP_OPTION];
    if (this.versionText !== undefined)
      options.unshift({ flags: VERSION_FLAGS, description: 'output the version number' });
    return formatHelp({
      path: this.path(),
      description: this.desc,
      arguments: this.args,
      options,
      commands: this.commands.map((c) => ({
        name: c.commandName,
        hasOptions: c.options.length > 0,
        arguments: c.args,
        description: c.desc,
      })),
      examples: this.exampleLines,
      grouped: this.parent === undefined,
    });
  }

  /**
   * Parse `argv` (without node and the script) and run the chosen action. Resolves to the
   * exit code for help and version output, or undefined after an action (which sets
   * process.exitCode itself); rejects with a UsageError for a command line it cannot run.
   */
  async run(argv: readonly string[]): Promise<number | undefined> {
    if (this.commands.length > 0) return this.runGroup(argv);
    const parsed = this.parse(argv);
    if (parsed === 'help') {
      process.stdout.write(this.helpText());
      return 0;
    }
    if (this.actionFn === undefined) throw new UsageError(`'${this.path()}' has nothing to run`, this);
    const problem = this.checkFn?.(parsed.positional, parsed.options);
    if (problem !== undefined) throw new UsageError(problem, this);
    await this.actionFn(...parsed.positional, parsed.options, this);
    return undefined;
  }

  private async runGroup(argv: readonly string[]): Promise<number | undefined> {
    const [first, ...rest] = argv;
    if (first === undefined) {
      process.stderr.write(this.helpText());
      return 2;
    }
    if (first === '-h' || first === '--help') {
      process.stdout.write(this.helpText());
      return 0;
    }
    if (this.versionText !== undefined && (first === '-V' || first === '--version')) {
      process.stdout.write(`${this.versionText()}\n`);
      return 0;
    }
    // `help [command...]`; options there (`help -h`) ask for help too.
    if (first === 'help') return this.runHelp(rest.filter((a) => !looksLikeOption(a)));
    if (looksLikeOption(first))
      throw new UsageError(`unknown option '${first}'${suggest(first, ['--help'])}`, this);
    const sub = this.commands.find((c) => c.commandName === first);
    if (sub === undefined) {
      const names = this.commands.map((c) => c.commandName);
      const habit = this.unknownCommandFn?.(first);
      const advice = habit === undefined ? suggest(first, names) : `. ${habit}`;
      throw new UsageError(`unknown command '${first}'${advice}`, this);
    }
    return sub.run(rest);
  }

  /** `help [command...]`: the help of the named (sub)command. */
  private runHelp(names: readonly string[]): number {
    const [name, ...rest] = names;
    if (name === undefined) {
      process.stdout.write(this.helpText());
      return 0;
    }
    const sub = this.commands.find((c) => c.commandName === name);
    if (sub === undefined) throw new UsageError(`unknown command '${name}'`, this);
    return sub.runHelp(rest);
  }

  private addOption(
    flags: string,
    description: string,
    mandatory: boolean,
    parserOrDefault: unknown,
    defaultValue: unknown,
  ): this {
    const spec = optionSpec(flags, description, mandatory);
    if (typeof parserOrDefault === 'function') {
      spec.parser = parserOrDefault as OptionParser;
      if (defaultValue !== undefined) {
        // `.option('--expires <duration>', '...', duration, '30d')`: help shows "30d", the
        // action gets what the parser makes of it.
        spec.defaultValue = defaultValue;
        spec.initial =
          typeof defaultValue === 'string' ? spec.parser(defaultValue, undefined as never) : defaultValue;
      }
    } else if (parserOrDefault !== undefined) {
      spec.defaultValue = parserOrDefault;
      spec.initial = parserOrDefault;
    }
    this.options.push(spec);
    return this;
  }

  private findOption(flag: string): OptionSpec | undefined {
    return this.options.find((o) => o.long === flag || o.short === flag);
  }

  /** Options and positional arguments of a leaf command, or 'help'. */
  private parse(
    argv: readonly string[],
  ): { positional: unknown[]; options: Record<string, unknown> } | 'help' {
    const values: Record<string, unknown> = {};
    for (const o of this.options) if (o.initial !== undefined) values[o.key] = o.initial;
    const seen = new Set<OptionSpec>();
    const set = (o: OptionSpec, raw: string | undefined): void => {
      const repeated = seen.has(o);
      values[o.key] = this.optionValue(o, raw, repeated ? values[o.key] : o.initial, repeated);
      if (o.deprecated !== undefined && !repeated)
        process.stderr.write(
          `cnabsec: warning: ${o.long ?? o.short ?? ''} is deprecated; use ${o.deprecated}\n`,
        );
      seen.add(o);
    };
    const operands = this.scan(argv, set);
    if (operands === 'help') return 'help';
    for (const o of this.options) {
      if (o.mandatory && values[o.key] === undefined)
        throw new UsageError(`required option '${o.flags}' not specified`, this);
    }
    return { positional: this.positional(operands), options: values };
  }

  /** Walk the arguments: options are handed to `set`, the rest returned as operands. */
  private scan(
    argv: readonly string[],
    set: (o: OptionSpec, raw: string | undefined) => void,
  ): string[] | 'help' {
    const args = [...argv];
    const operands: string[] = [];
    let variadic: OptionSpec | undefined;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === '--') {
        operands.push(...args.slice(i + 1));
        break;
      }
      if (variadic !== undefined && !looksLikeOption(arg)) {
        set(variadic, arg);
        continue;
      }
      variadic = undefined;
      if (!looksLikeOption(arg) || isNegativeNumber(arg)) {
        operands.push(arg);
        continue;
      }
      if (arg === '-h' || arg === '--help') return 'help';
      const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
      const flag = eq > 0 ? arg.slice(0, eq) : arg.startsWith('--') ? arg : arg.slice(0, 2);
      const o = this.findOption(flag);
      if (o === undefined) {
        const known = this.options.flatMap((x) => (x.long === undefined ? [] : [x.long]));
        const habit = this.unknownOptionFn?.(flag);
        const advice = habit === undefined ? suggest(flag, [...known, '--help']) : `. ${habit}`;
        throw new UsageError(`unknown option '${arg}'${advice}`, this);
      }
      const inline =
        eq > 0
          ? arg.slice(eq + 1)
          : flag.length < arg.length && !arg.startsWith('--')
            ? arg.slice(2)
            : undefined;
      if (o.value === 'none') {
        if (eq > 0) throw new UsageError(`option '${o.flags}' takes no value`, this);
        set(o, undefined);
        // `-ab`: the rest of a group of short flags is parsed as `-b`.
        if (inline !== undefined) args.splice(i + 1, 0, `-${inline}`);
      } else if (inline !== undefined) {
        set(o, inline);
      } else if (o.value === 'required') {
        if (i + 1 >= args.length) throw new UsageError(`option '${o.flags}' argument missing`, this);
        set(o, args[++i]);
      } else {
        const next = args[i + 1];
        set(o, next !== undefined && !looksLikeOption(next) ? args[++i] : undefined);
      }
      // `--opt a b` collects the words that follow; `--opt=a` and `-oa` take one value (commander).
      if (o.variadic && inline === undefined) variadic = o;
    }
    return operands;
  }

  /**
   * The value of option `o` given as `raw`: `previous` is its value so far (its default the
   * first time, which a parser receives); a variadic option appends when `repeated`.
   */
  private optionValue(o: OptionSpec, raw: string | undefined, previous: unknown, repeated: boolean): unknown {
    if (o.value === 'none') return !o.negate;
    if (raw === undefined) return true; // `[value]` given without one
    if (o.parser !== undefined) {
      try {
        return o.parser(raw, previous as never);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        const shown = raw.length > MAX_QUOTED_VALUE ? `${raw.slice(0, MAX_QUOTED_VALUE)}...` : raw;
        throw new UsageError(`option '${o.flags}' argument '${shown}' is invalid. ${why}`, this, {
          cause: e,
        });
      }
    }
    if (!o.variadic) return raw;
    return repeated && Array.isArray(previous) ? [...(previous as unknown[]), raw] : [raw];
  }

  /** Operands → the action's positional parameters, checking their number. */
  private positional(operands: string[]): unknown[] {
    const out: unknown[] = [];
    this.args.forEach((a, i) => {
      if (a.required && i >= operands.length)
        throw new UsageError(`missing required argument '${a.name}'`, this);
      out.push(a.variadic ? operands.slice(i) : operands[i]);
    });
    const last = this.args[this.args.length - 1];
    if (last?.variadic !== true && operands.length > this.args.length) {
      const n = this.args.length;
      const hint = this.extraArgumentsHint?.(operands.slice(n), operands);
      throw new UsageError(
        `too many arguments for '${this.commandName}'. Expected ${n} argument${n === 1 ? '' : 's'} but got ${operands.length}.${hint === undefined ? '' : ` ${hint}`}`,
        this,
      );
    }
    return out;
  }
}
