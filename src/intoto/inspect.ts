/**
 * Inspections (in-toto spec §4.3.2 and §5 step 10; python `verifylib.run_all_inspections`):
 * the verifier runs each inspection's `run` command and records a link for it, with `.` as
 * materials (before) and products (after), using python's default exclude patterns.
 *
 * Inspections are arbitrary commands, so they run
 * - in a working directory of their own: a temporary directory, shared by the inspections of
 *   one verification (python runs them one after another in one directory too) and removed
 *   afterwards, holding a symlink to every entry of the source directory (default: the
 *   current directory). Recording follows those links, so the artifacts have the names they
 *   would have in the source directory, while files the inspections create stay out of it;
 * - with a time limit (default 60 s) that kills the inspection's whole process group; running
 *   out of time is `INTOTO_INSPECTION_TIMEOUT`, a non-zero return value or a command that
 *   cannot start `INTOTO_INSPECTION_FAILED`;
 * - with stdin closed and at most `maxOutputBytes` of stdout and of stderr kept.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { recordArtifacts } from './artifacts.js';
import { BadReturnValueError, IntotoError } from './errors.js';
import { DEFAULT_MAX_OUTPUT, execCommand } from './exec.js';
import { newLink, type Inspection, type Link } from './models.js';

export interface InspectionOptions {
  /** Time limit per inspection in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Bytes of stdout and of stderr kept per inspection (default 1 MiB). */
  maxOutputBytes?: number;
  /** Directory whose entries the inspections see (default: the current directory). */
  sourceDir?: string;
}

export const DEFAULT_INSPECTION_TIMEOUT_MS = 60_000;

/** Runs the inspections of one verification in one private working directory. */
export class InspectionRunner {
  readonly #opts: InspectionOptions;
  #workdir: string | undefined;

  constructor(opts: InspectionOptions = {}) {
    this.#opts = opts;
  }

  /** The working directory (created on first use). */
  async workdir(): Promise<string> {
    if (this.#workdir !== undefined) return this.#workdir;
    const source = path.resolve(this.#opts.sourceDir ?? '.');
    let names: string[];
    try {
      names = await fsp.readdir(source);
    } catch (e) {
      throw new IntotoError('INTOTO_IO', `cannot read the inspection source directory ${source}`, {
        cause: e,
      });
    }
    const dir = await fsp.mkdtemp(path.join(tmpdir(), 'cnabsec-inspect-'));
    this.#workdir = dir;
    await Promise.all(names.map((n) => fsp.symlink(path.join(source, n), path.join(dir, n))));
    return dir;
  }

  /** Run one inspection; throws BadReturnValueError when it fails or times out. */
  async run(inspection: Inspection): Promise<Link> {
    const cwd = await this.workdir();
    const argv = inspection.run.map(String);
    const materials = await recordArtifacts(['.'], { basePath: cwd });
    const timeoutMs = this.#opts.timeoutMs ?? DEFAULT_INSPECTION_TIMEOUT_MS;
    let result;
    try {
      result = await execCommand(argv, {
        cwd,
        timeoutMs,
        maxOutputBytes: this.#opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
      });
    } catch (e) {
      throw new BadReturnValueError(
        'INTOTO_INSPECTION_FAILED',
        `inspection '${inspection.name}' could not run: ${(e as Error).message}`,
        { cause: e, details: { inspection: inspection.name, command: argv } },
      );
    }
    if (result.timedOut) {
      throw new BadReturnValueError(
        'INTOTO_INSPECTION_TIMEOUT',
        `inspection '${inspection.name}' did not finish within ${timeoutMs / 1000} s: ${JSON.stringify(argv)}`,
        {
          details: { inspection: inspection.name, command: argv, timeoutMs },
          hint: 'raise the limit with --inspection-timeout <seconds> if the inspection is slow, not stuck',
        },
      );
    }
    const products = await recordArtifacts(['.'], { basePath: cwd });
    if (result.returnValue !== 0) {
      throw new BadReturnValueError(
        'INTOTO_INSPECTION_FAILED',
        `Got non-zero return value '${result.returnValue}' from command '${argv.join(' ')}' (inspection '${inspection.name}')`,
        {
          details: {
            inspection: inspection.name,
            command: argv,
            returnValue: result.returnValue,
            stderr: result.stderr,
          },
        },
      );
    }
    return newLink(inspection.name, {
      materials,
      products,
      command: argv,
      byproducts: { stdout: result.stdout, stderr: result.stderr, 'return-value': result.returnValue },
    });
  }

  /** Remove the working directory. */
  async close(): Promise<void> {
    if (this.#workdir !== undefined) await fsp.rm(this.#workdir, { recursive: true, force: true });
    this.#workdir = undefined;
  }
}
