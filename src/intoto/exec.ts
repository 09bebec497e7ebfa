/**
 * Running a step command or an inspection: always with a time limit, with a cap on the
 * captured output, and reporting the return value as python does (`-N` when killed by
 * signal N). Inspections run in their own process group so that a timeout kills the whole
 * tree; `intoto run` commands keep the terminal's stdin.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { IntotoError } from './errors.js';

export interface ExecOptions {
  cwd?: string;
  /** Time limit in milliseconds. */
  timeoutMs: number;
  /** Bytes kept of stdout and of stderr each (the rest is read and dropped). */
  maxOutputBytes?: number;
  /** Also copy the output to this process's stdout/stderr (python's run_duplicate_streams). */
  tee?: boolean;
  /** Give the command our stdin (otherwise it reads nothing). */
  inheritStdin?: boolean;
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

/** Run `argv` (no shell) and collect what it printed and returned. */
export function execCommand(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined || cmd === '') {
    return Promise.reject(new IntotoError('INTOTO_COMMAND_FAILED', 'no command to run'));
  }
  const group = options.inheritStdin !== true;
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.inheritStdin === true ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    detached: group,
  });
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const out = new Capture(max);
  const err = new Capture(max);
  child.stdout.on('data', (b: Buffer) => {
    out.add(b);
    if (options.tee === true) process.stdout.write(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    err.add(b);
    if (options.tee === true) process.stderr.write(b);
  });
  return new Promise<ExecResult>((resolve, reject) => {
    let timedOut = false;
    const kill = (): void => {
      try {
        if (group && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new IntotoError('INTOTO_COMMAND_FAILED', `cannot run ${JSON.stringify(cmd)}: ${e.message}`, {
          cause: e,
          details: { command: argv },
          hint: e.code === 'ENOENT' ? 'the command is not installed or not on PATH' : undefined,
        }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Reap anything the command left behind in its process group.
      if (group && child.pid !== undefined && timedOut) kill();
      resolve({
        stdout: out.text(),
        stderr: err.text(),
        returnValue: code ?? (signal === null ? -1 : -signalNumber(signal)),
        timedOut,
        truncated: out.truncated || err.truncated,
      });
    });
  });
}
