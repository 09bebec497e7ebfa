/**
 * How the CLI prints results and errors. A user error (any CnabsecError) is one line
 * `cnabsec: error [CODE]: message` plus a `hint:` line, exit code 1; with `--json` the error
 * object goes to stdout. A usage error exits 2, and with `--json` it is one JSON document
 * too. Anything else is a bug: exit 70 with the stack, to be reported.
 *
 * With `--json` an action prints exactly one JSON document on stdout (docs/cli-json.md, ADR
 * 0018): `printJson` inside `runAction` keeps the result until the action ends, and the
 * warnings it gave (also written to stderr) are added to it as `warnings`; an error replaces it.
 */
import { isCnabsecError } from '../errors.js';
import { isUsageError } from './usage-error.js';
import { setTraceSink } from '../util/trace.js';

export interface GlobalOptions {
  json?: boolean;
  prompt?: boolean;
  verbose?: boolean;
}

export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/** The --json document of the running action, and the warnings given so far. */
interface JsonRun {
  document?: unknown;
  printed: boolean;
  warnings: string[];
}
let jsonRun: JsonRun | undefined;

function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Print the JSON document of a command. Inside `runAction` with `--json` it is printed when the
 * action ends (with its `warnings`); a second document in one action is a bug.
 */
export function printJson(value: unknown): void {
  if (jsonRun === undefined) {
    writeJson(value);
    return;
  }
  if (jsonRun.printed) throw new Error('printJson: a command prints one JSON document');
  jsonRun.printed = true;
  jsonRun.document = value;
}

/** `doc` with `warnings` (de-duplicated, in the order given) when there are any. */
function withWarnings(doc: unknown, warnings: readonly string[]): unknown {
  if (warnings.length === 0 || doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  const own = (doc as { warnings?: unknown }).warnings;
  const all = [...(Array.isArray(own) ? (own as unknown[]).map(String) : []), ...warnings];
  return { ...doc, warnings: [...new Set(all)] };
}

/** One line on stdout; control characters in it (from a path or name the user gave) escaped. */
export function printLine(line = ''): void {
  process.stdout.write(escapeControl(line) + '\n');
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `text` with every control character written as a JSON-style escape (`\n`, `\u001b`), so
 * that a message quoting user input is always one line and cannot move the cursor or forge
 * another log line (defence in depth: values are also `quote()`d where they are put in).
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const json = JSON.stringify(c).slice(1, -1);
    return json.length > 1 ? json : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A warning line on stderr; with --json also in the document's `warnings`. */
export function warn(line: string): void {
  process.stderr.write(`cnabsec: warning: ${escapeControl(line)}\n`);
  if (jsonRun !== undefined && !jsonRun.warnings.includes(line)) jsonRun.warnings.push(line);
}

export function reportError(e: unknown, json: boolean): number {
  const warnings = jsonRun?.warnings ?? [];
  // a usage error found inside an action (an option that needs another): exit 2, as from the parser
  if (isUsageError(e)) return reportUsageError(e.message, e.command.path(), json);
  if (isCnabsecError(e)) {
    if (json) writeJson(withWarnings({ error: e.toJSON() }, warnings));
    else {
      process.stderr.write(`cnabsec: error [${escapeControl(e.code)}]: ${escapeControl(e.message)}\n`);
      if (e.hint !== undefined) process.stderr.write(`  hint: ${escapeControl(e.hint)}\n`);
    }
    return EXIT_USER_ERROR;
  }
  const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`cnabsec: internal error (please report): ${msg}\n`);
  if (json) {
    const message = `internal error (please report): ${e instanceof Error ? e.message : String(e)}`;
    writeJson(withWarnings({ error: { code: 'INTERNAL', message: escapeControl(message) } }, warnings));
  }
  return EXIT_INTERNAL;
}

/**
 * Print a usage error (ADR 0002): `error: <message>` and where to read the usage on stderr,
 * or with `--json` the one document {"error":{"code":"CLI_USAGE","message","hint"}} on stdout.
 */
export function reportUsageError(message: string, commandPath: string, json: boolean): number {
  const hint = `run \`${commandPath} --help\``;
  if (json) printJson({ error: { code: 'CLI_USAGE', message, hint } });
  else process.stderr.write(`error: ${escapeControl(message)}\n(${hint} for usage)\n`);
  return EXIT_USAGE;
}

/** Wrap a command action: run it, print any error in the standard way, set the exit code. */
export function runAction<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args.find((a) => a !== null && typeof a === 'object' && !Array.isArray(a) && 'json' in a) as
      GlobalOptions | undefined;
    if (args.some((a) => (a as GlobalOptions | null)?.verbose === true))
      setTraceSink((line) => process.stderr.write(`cnabsec: ${escapeControl(line)}\n`));
    const json = opts?.json === true;
    const run: JsonRun | undefined = json ? { printed: false, warnings: [] } : undefined;
    jsonRun = run;
    try {
      await action(...args);
      if (run?.printed === true) writeJson(withWarnings(run.document, run.warnings));
    } catch (e) {
      process.exitCode = reportError(e, json);
    } finally {
      jsonRun = undefined;
    }
  };
}
