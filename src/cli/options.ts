/**
 * The typed option parsers of the CLI (ADR 0017): every numeric, duration, enum and key-type
 * option of every command goes through one of these, passed as `.option(flags, description,
 * parser)`. A parser throws `expected <what>`, which args.ts turns into a usage error naming
 * the option and the value (exit 2, one line):
 *   error: option '--expires <duration>' argument 'abc' is invalid. expected a duration such as 30d, 12h or 90s ...
 * so a bad value never reaches an action (no exit 70, no blame on a file). Parsers carry what
 * they accept (`expected`, and `choices` for enums), which shell completion offers.
 */
import { KEY_TYPES, type KeyType } from '../crypto/keys.js';
import { DURATION_SYNTAX, durationSeconds } from '../util/duration.js';

/** An option parser: the raw text (and the previous value, for repeatable options) → the value. */
export interface TypedParser<T> {
  (value: string, previous?: never): T;
  /** What the option accepts, for messages: `a positive integer`. */
  readonly expected: string;
  /** The accepted values of an enum option (shell completion offers them). */
  readonly choices?: readonly string[];
}

function typed<T>(
  expected: string,
  convert: (text: string) => T | undefined,
  choices?: readonly string[],
): TypedParser<T> {
  const parse = (text: string): T => {
    const value = convert(text);
    if (value === undefined) throw new Error(`expected ${expected}`);
    return value;
  };
  return Object.assign(parse, { expected, ...(choices === undefined ? {} : { choices }) });
}

/** A whole number written in decimal digits, within [min, max]. */
export function integer(range: { min: number; max?: number }, expected?: string): TypedParser<number> {
  const { min, max = Number.MAX_SAFE_INTEGER } = range;
  const what =
    expected ??
    (max === Number.MAX_SAFE_INTEGER
      ? min === 1
        ? 'a positive integer'
        : `an integer of at least ${min}`
      : `an integer from ${min} to ${max}`);
  return typed(what, (text) => {
    if (!/^\s*\d+\s*$/.test(text)) return undefined;
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

/** Counts and thresholds: 1, 2, 3 ... */
export const positiveInt = integer({ min: 1 });

/**
 * Keys of one role to generate (init --<role>-keys): at most 50, so that a typo cannot make
 * init generate keys until it is killed, and a root of 50 RSA keys stays under the 128 KiB
 * clients accept (tuf/client/guard.ts ROOT_MAX_BYTES).
 */
export const keyCount = integer({ min: 1, max: 50 }, 'a number of keys from 1 to 50');

/** Byte counts: 0, 1, 2 ... */
export const byteCount = integer({ min: 0 }, 'a number of bytes (a non-negative integer)');

/** Sizes in MiB (at most 1 TiB, so that the byte count stays a safe integer). */
export const mebibytes = integer({ min: 1, max: 1_048_576 }, 'a size in MiB from 1 to 1048576');

/** A TCP port; 0 lets the system choose a free one. */
export const port = integer({ min: 0, max: 65_535 }, 'a port number from 0 to 65535 (0: any free port)');

/** Longest time limit in seconds: Node's timers hold at most 2^31-1 ms (about 24.8 days). */
const MAX_TIMER_SECONDS = 2_147_483;

/** A time limit in seconds (a positive number, fractions allowed: 0.5). */
export const seconds = typed(`a positive number of seconds up to ${MAX_TIMER_SECONDS}`, (text) => {
  if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && n <= MAX_TIMER_SECONDS ? n : undefined;
});

/**
 * A duration `30d`, `12h`, `90s`, `15m`, `2w`, `1y` (src/util/duration.ts, the syntax of the
 * expiry policy). The value is the text as given, trimmed: actions and library functions
 * convert it with parseDuration, which then cannot fail.
 */
export const duration = typed(DURATION_SYNTAX, (text) =>
  durationSeconds(text) === undefined ? undefined : text.trim(),
);

/** A duration (as `duration`) or `0` for "off" (`server --refresh-interval 0`): the text, trimmed. */
export const durationOrOff = typed(`${DURATION_SYNTAX}, or 0 (off)`, (text) =>
  text.trim() === '0' || durationSeconds(text) !== undefined ? text.trim() : undefined,
);

/**
 * `host:port` to listen on (`127.0.0.1:4443`, `[::1]:4443`, `0.0.0.0:0`): the text, trimmed.
 * The shape only; src/server/config.ts checks the host as it does for the other sources.
 */
export const listenAddress = typed(
  'host:port such as 127.0.0.1:4443, [::1]:4443 or 0.0.0.0:4443 (port 0: any free port)',
  (text) => {
    const m = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
    return m?.[1] !== undefined && Number(m[1]) <= 65_535 ? text.trim() : undefined;
  },
);

/** TUF/in-toto expiry time: ISO 8601 UTC without fractions, `2030-01-01T00:00:00Z`. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An expiry given as a duration from now (`180d`) or as a time (`2030-01-01T00:00:00Z`):
 * the expiry time, ISO 8601 UTC.
 */
export const expiryTime = typed(`${DURATION_SYNTAX}, or a time such as 2030-01-01T00:00:00Z`, (text) => {
  const s = durationSeconds(text);
  if (s !== undefined) return isoSeconds(Date.now() + s * 1000);
  const t = text.trim();
  if (!ISO_TIME.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : isoSeconds(ms);
});

/** A metadata version (1, 2 ...) or an ISO 8601 time; the text as given. */
export const versionOrTime = typed(
  'a version number (1, 2 ...) or a time such as 2030-01-01T00:00:00Z',
  (text) => {
    const t = text.trim();
    if (/^\d+$/.test(t)) return Number(t) >= 1 && Number.isSafeInteger(Number(t)) ? t : undefined;
    return ISO_TIME.test(t) && !Number.isNaN(Date.parse(t)) ? t : undefined;
  },
);

/** One of `choices`. */
export function oneOf<T extends string>(choices: readonly T[]): TypedParser<T> {
  return typed(`one of ${choices.join(', ')}`, (text) => choices.find((c) => c === text), choices);
}

/** A key type of src/crypto/keys.ts. */
export const keyType: TypedParser<KeyType> = oneOf(KEY_TYPES);

/** A repeatable option whose every value goes through `parser`: the list of values. */
export function repeatable<T>(parser: TypedParser<T>): TypedParser<T[]> {
  const collectParsed = (text: string, previous?: T[]): T[] => [...(previous ?? []), parser(text)];
  return Object.assign(collectParsed as TypedParser<T[]>, {
    expected: parser.expected,
    ...(parser.choices === undefined ? {} : { choices: parser.choices }),
  });
}

/**
 * A repeatable `name=value` option whose value goes through `parser`, e.g. in-toto's
 * `--threshold <step=n>`: the list of `name=value` texts, each checked.
 */
export function namedValues<T>(parser: TypedParser<T>): TypedParser<string[]> {
  const expected = `NAME=VALUE with VALUE ${parser.expected}`;
  const collectChecked = (text: string, previous?: string[]): string[] => {
    const i = text.indexOf('=');
    if (i <= 0) throw new Error(`expected ${expected}`);
    try {
      parser(text.slice(i + 1));
    } catch {
      throw new Error(`expected ${expected}`);
    }
    return [...(previous ?? []), text];
  };
  return Object.assign(collectChecked as TypedParser<string[]>, { expected });
}

/** A registry `host[:port]` (`--insecure-registry`), lowercased. */
export const registryHost = typed('a registry host[:port] such as 127.0.0.1:5000', (text) => {
  const t = text.trim();
  return /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/.test(t) ? t.toLowerCase() : undefined;
});

/** The http:// or https:// base URL of a metadata repository server (`--server`). */
export const serverUrl = typed('an http:// or https:// URL such as https://tuf.example.com', (text) => {
  const t = text.trim();
  if (!URL.canParse(t)) return undefined;
  const u = new URL(t);
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '' ? t : undefined;
});

/**
 * The roles a server holds the keys of (`--server-managed`): the timestamp, snapshot and
 * timestamp, or none (a developer-managed repository stored on a server).
 */
export const serverRoles = typed(
  'timestamp, snapshot,timestamp or none',
  (text): ('snapshot' | 'timestamp')[] | undefined => {
    const t = text.trim();
    if (t === 'none') return [];
    if (t === 'timestamp') return ['timestamp'];
    return t === 'snapshot,timestamp' || t === 'timestamp,snapshot' ? ['snapshot', 'timestamp'] : undefined;
  },
  ['timestamp', 'snapshot,timestamp', 'none'],
);
