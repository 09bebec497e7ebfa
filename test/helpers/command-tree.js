// The CLI's command tree as a user sees it: the commands each `--help` lists, walked from
// `cnabsec --help` down. One reader of help texts for the tests that check every command
// (help examples, typed options, bad-input coverage, the JSON contract), so a new command is
// found the same way by all of them.
import { cliOk } from './cli.js';

const NOT_COMMANDS = new Set(['help', 'cnabsec']);
const NOT_COMMAND_SECTIONS = /^(usage|options|arguments|examples?|environment)\b/i;

/**
 * The subcommand names listed in a help text: the first word of each line indented by exactly
 * two spaces in any section that is not Usage/Options/Arguments/Examples (top-level help may
 * group commands under several headings).
 */
export function subcommandsOf(help) {
  const names = [];
  let listing = false;
  for (const line of help.split('\n')) {
    if (/^\S.*:\s*$/.test(line) || /^\S.*:\s/.test(line)) {
      listing = !NOT_COMMAND_SECTIONS.test(line);
      continue;
    }
    const m = listing ? /^ {2}([a-z][a-z0-9-]*)(?:\s|$)/.exec(line) : null;
    if (m !== null && !NOT_COMMANDS.has(m[1])) names.push(m[1]);
  }
  return [...new Set(names)];
}

/** The subcommands of a group's help text; [] for a leaf command (its usage takes no [command]). */
export function groupSubcommands(help) {
  const usage = /^Usage: .*$/m.exec(help)?.[0] ?? '';
  return /\[command\]|<command>/.test(usage) ? subcommandsOf(help) : [];
}

/**
 * Every command from `words` down, depth-first, each `{words, help, leaf}` (`leaf`: a command
 * that runs, not a group), from the help texts of this build.
 */
export function helpTree(words = []) {
  const help = cliOk([...words, '--help']);
  const subs = groupSubcommands(help);
  const node = { words, help, leaf: words.length > 0 && subs.length === 0 };
  return [node, ...subs.flatMap((s) => helpTree([...words, s]))];
}
