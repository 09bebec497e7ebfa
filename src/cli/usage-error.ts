/**
 * The usage error of the command-line parser (ADR 0002: exit 2, with `--json` one document
 * `{"error":{"code":"CLI_USAGE",...}}`), apart from ./args.ts so that code which only reports
 * errors (./output.ts) need not load the parser.
 */

/** The part of a Command a usage error needs: where its `--help` is. */
export interface UsageCommand {
  path(): string;
}

/** A command line the CLI cannot run: unknown option or command, missing value or argument. */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE' as const;
  constructor(
    message: string,
    /** The command whose --help explains the fix. */
    readonly command: UsageCommand,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/**
 * Whether `e` is a UsageError. By shape, not `instanceof`: each command group is bundled on
 * its own (ADR 0006), so a UsageError thrown inside an action may be another copy of the class.
 */
export function isUsageError(e: unknown): e is UsageError {
  return (
    e instanceof Error &&
    e.name === 'UsageError' &&
    (e as { code?: unknown }).code === 'CLI_USAGE' &&
    typeof (e as { command?: { path?: unknown } }).command?.path === 'function'
  );
}
