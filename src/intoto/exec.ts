/**
 * Running a step command or an inspection: always with a time limit, with a cap on the
 * captured output, and reporting the return value as python does (`-N` when killed by
 * signal N).
 *
 * The command runs in a box (`proctree.ts`): its own session and process group (unless it
 * shares the terminal, see `inheritStdin`), a random marker in its environment, and for
 * inspections its working directory. At the limit everything in the box is stopped and
 * killed, also children that left the process group (`setsid`, `nohup`, double forks). The
 * result is given once the command has exited and its output pipes are closed, or at most
 * `outputGraceMs` after its exit (or after the kill): a leftover child that inherited stdout
 * or stderr cannot hold the caller past the limit.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { FormatError, IntotoError } from './errors.js';
import { BOX_MARKER_VAR, killBox, type Box } from './proctree.js';
import { quote } from '../util/json.js';

export interface ExecOptions {
  cwd?: string;
  /** Time limit in milliseconds (above 2^31-1, about 24.8 days, it is 2^31-1). */
  timeoutMs: number;
  /** Bytes kept of stdout and of stderr each (the rest is read and dropped). */
  maxOutputBytes?: number;
  /** Also copy the output to this process's stdout/stderr (python's run_duplicate_streams). */
  tee?: boolean;
  /**
   * Give the command our stdin (otherwise it reads nothing). When stdin is a terminal the
   * command stays in our process group, so that it can read the terminal and Ctrl-C reaches
   * it; the box is then found by its marker and parent links only.
   */
  inheritStdin?: boolean;
  /** Kill what is left in the box when the command exits (inspections: nothing may outlive them). */
  killLeftovers?: boolean;
  /** Processes working inside this directory belong to the box (a private directory only). */
  boxDir?: string;
  /** How long to wait for output pipes after the exit or the kill (default 2000 ms). */
  outputGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  returnValue: number;
  timedOut: boolean;
  truncated: boolean;
}

export const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** The longest delay setTimeout takes (a longer one fires at once). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const DEFAULT_OUTPUT_GRACE_MS = 2000;

class Capture {
  readonly chunks: Buffer[] = [];
  size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  add(b: Buffer): void {
    const room = this.max - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = b.length > room ? b.subarray(0, room) : b;
    if (part.length < b.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

/** Check the limits (a NaN limit would disable them) and clamp the time limit to setTimeout's. */
function checkLimits(o: ExecOptions): { timeoutMs: number; max: number; grace: number } | FormatError {
  const bad = (what: string, v: unknown): FormatError =>
    new FormatError('INTOTO_BAD_FORMAT', `${what} must be a positive number, got ${String(v)}`);
  if (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0)) return bad('the time limit', o.timeoutMs);
  const max = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  if (!Number.isSafeInteger(max) || max < 0) return bad('the output cap', max);
  const grace = o.outputGraceMs ?? DEFAULT_OUTPUT_GRACE_MS;
  if (!(grace >= 0)) return bad('the output grace period', grace);
  return { timeoutMs: Math.min(o.timeoutMs, MAX_TIMEOUT_MS), max, grace: Math.min(grace, MAX_TIMEOUT_MS) };
}

function startError(cmd: string, argv: readonly string[], e: NodeJS.ErrnoException): IntotoError {
  return new IntotoError('INTOTO_COMMAND_FAILED', `cannot run ${quote(cmd)}: ${e.code ?? quote(e.message)}`, {
    cause: e,
    details: { command: argv },
    hint: e.code === 'ENOENT' ? 'the command is not installed or not on PATH' : undefined,
  });
}

type Limits = Exclude<ReturnType<typeof checkLimits>, FormatError>;

interface Running {
  child: ChildProcessByStdio<null, Readable, Readable>;
  box: Box | undefined;
  out: Capture;
  err: Capture;
}

/** Spawn the command in its box and start capturing its output. */
function start(cmd: string, args: string[], options: ExecOptions, limits: Limits): Running {
  const inherit = options.inheritStdin === true;
  const ownGroup = !(inherit && process.stdin.isTTY);
  const marker = randomBytes(16).toString('hex');
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: { ...(options.env ?? process.env), [BOX_MARKER_VAR]: marker },
    stdio: [inherit ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  const out = new Capture(limits.max);
  const err = new Capture(limits.max);
  child.stdout.on('data', (b: Buffer) => {
    out.add(b);
    if (options.tee === true) process.stdout.write(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    err.add(b);
    if (options.tee === true) process.stderr.write(b);
  });
  const box =
    child.pid === undefined
      ? undefined
      : {
          leader: child.pid,
          ownGroup,
          marker,
          ...(options.boxDir === undefined ? {} : { dir: options.boxDir }),
        };
  return { child, box, out, err };
}

/**
 * The result: at 'close', or at most `limits.grace` after the exit or the kill at the limit
 * (a leftover holding the pipes does not hold us). The box is killed at the limit, and at the
 * exit with `killLeftovers`.
 */
function settle(r: Running, options: ExecOptions, limits: Limits, fail: (e: Error) => IntotoError) {
  const { child, out, err } = r;
  return new Promise<ExecResult>((resolve, reject) => {
    let timedOut = false;
    let exit: number | undefined;
    let done = false;
    let grace: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (r.box !== undefined) killBox(r.box);
    };
    const end = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      return true;
    };
    const finish = (): void => {
      if (!end()) return;
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      const returnValue = exit ?? -signalNumber('SIGKILL');
      resolve({
        stdout: out.text(),
        stderr: err.text(),
        returnValue,
        timedOut,
        truncated: out.truncated || err.truncated,
      });
    };
    const waitForOutput = (): void => {
      grace ??= setTimeout(finish, limits.grace);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
      waitForOutput();
    }, limits.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (end()) reject(fail(e));
    });
    child.on('exit', (code, signal) => {
      exit = code ?? (signal === null ? -1 : -signalNumber(signal));
      if (!timedOut) clearTimeout(timer);
      if (timedOut || options.killLeftovers === true) kill();
      waitForOutput();
    });
    child.on('close', finish);
  });
}

/** Run `argv` (no shell) and collect what it printed and returned. */
export function execCommand(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined || cmd === '') {
    return Promise.reject(new IntotoError('INTOTO_COMMAND_FAILED', 'no command to run'));
  }
  const limits = checkLimits(options);
  if (limits instanceof FormatError) return Promise.reject(limits);
  return settle(start(cmd, args, options, limits), options, limits, (e) => startError(cmd, argv, e));
}
