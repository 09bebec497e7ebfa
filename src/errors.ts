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

  toJSON(): Record<string, unknown> {
    const cause = this.cause;
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
      ...(cause === undefined
        ? {}
        : {
            cause:
              cause instanceof CnabsecError
                ? cause.toJSON()
                : cause instanceof Error
                  ? { name: cause.name, message: cause.message }
                  : // eslint-disable-next-line @typescript-eslint/no-base-to-string
                    String(cause),
          }),
    };
  }
}

export function isCnabsecError(e: unknown): e is CnabsecError {
  return e instanceof CnabsecError;
}

/** Message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
