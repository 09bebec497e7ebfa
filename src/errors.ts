/**
 * Base of every error tree in cnabsec. Each layer (crypto, tuf, intoto, cnab, ...) has one
 * `errors.ts` that extends this class with a string-literal union of its codes.
 *
 * A user error carries: a stable `code`, a message naming the thing that was wrong
 * (role, version, path, key id), a `hint` saying what to do, and structured `details`
 * for `--json` output. Programming errors are plain `Error`s and are not caught by the CLI.
 */
export interface ErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CnabsecError<C extends string = string> extends Error {
  readonly code: C;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: C, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /**
   * The `error` object of `--json` output (docs/cli-json.md): `code`, `message`, `hint`,
   * `details` and `cause` as {code, message} (a cnabsec error) or {message}. No JS class name:
   * the code is the stable identifier.
   */
  toJSON(): Record<string, unknown> {
    const cause = causeJson(this.cause);
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
      ...(cause === undefined ? {} : { cause }),
    };
  }
}

/** The cause of an error as JSON: {code, message} of a cnabsec error, {message} of anything else. */
function causeJson(cause: unknown): { code?: string; message: string } | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (isCnabsecError(cause)) return { code: cause.code, message: cause.message };
  if (cause instanceof Error) return { message: cause.message };
  if (typeof cause === 'string') return { message: cause };
  try {
    const text = JSON.stringify(cause) as string | undefined;
    return { message: text ?? typeof cause };
  } catch {
    return { message: typeof cause };
  }
}

export function isCnabsecError(e: unknown): e is CnabsecError {
  return e instanceof CnabsecError;
}

/** Message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
