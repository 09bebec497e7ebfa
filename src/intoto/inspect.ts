/**
 * Inspections (in-toto spec §4.3.2 and §5 step 10; python `verifylib.run_all_inspections`):
 * the verifier runs each inspection's `run` command and records a link for it, with `.` as
 * materials (before) and products (after), using python's default exclude patterns.
 *
 * Inspections are arbitrary commands, so they run
 * - in a working directory of their own: a temporary directory, shared by the inspections of
 *   one verification (python runs them one after another in one directory too) and removed
 *   afterwards, holding a bounded COPY of the source directory (default: the current
 *   directory; `inspect-dir.ts`). The artifacts have the names they have in the source
 *   directory; what the inspections write stays in the copy, and their products are what they
 *   leave there (in-toto: an inspection's products are its working directory);
 * - in a box (`exec.ts`, `proctree.ts`) with a time limit (default 60 s): at the limit, and
 *   when the inspection exits, everything it started is killed, also children that left its
 *   process group; running out of time is `INTOTO_INSPECTION_TIMEOUT`, a non-zero return
 *   value or a command that cannot start `INTOTO_INSPECTION_FAILED`;
 * - with stdin closed and at most `maxOutputBytes` of stdout and of stderr kept.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { recordArtifacts } from './artifacts.js';
import { BadReturnValueError, IntotoError } from './errors.js';
import { DEFAULT_MAX_OUTPUT, execCommand } from './exec.js';
import { copyInspectionDir, type CopyLimits } from './inspect-dir.js';
import { newLink, type Inspection, type Link } from './models.js';
import { quote } from '../util/json.js';

export interface InspectionOptions extends CopyLimits {
  /** Time limit per inspection in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Bytes of stdout and of stderr kept per inspection (default 1 MiB). */
  maxOutputBytes?: number;
  /** Directory the inspections see a copy of (default: the current directory). */
  sourceDir?: string;
  /**
   * A private directory the caller made for the inspections (and removes): they run in it
   * as it is, nothing is copied and `sourceDir` is not used.
   */
  workDir?: string;
}

export const DEFAULT_INSPECTION_TIMEOUT_MS = 60_000;

/** Runs the inspections of one verification in one private working directory. */
export class InspectionRunner {
  readonly #opts: InspectionOptions;
  #workdir: string | undefined;
  #owned = false;

  constructor(opts: InspectionOptions = {}) {
    this.#opts = opts;
  }

  /** The working directory (created on first use). */
  async workdir(): Promise<string> {
    if (this.#workdir !== undefined) return this.#workdir;
    if (this.#opts.workDir !== undefined) {
      this.#workdir = await fsp.realpath(this.#opts.workDir).catch((e: unknown) => {
        throw new IntotoError('INTOTO_IO', `cannot use the inspection directory ${this.#opts.workDir}`, {
          cause: e,
        });
      });
      return this.#workdir;
    }
    const dir = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'cnabsec-inspect-')));
    this.#workdir = dir;
    this.#owned = true;
    await copyInspectionDir(path.resolve(this.#opts.sourceDir ?? '.'), dir, this.#opts);
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
        killLeftovers: true,
        boxDir: cwd,
        maxOutputBytes: this.#opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
      });
    } catch (e) {
      throw new BadReturnValueError(
        'INTOTO_INSPECTION_FAILED',
        `inspection ${quote(inspection.name)} could not run: ${(e as Error).message}`,
        { cause: e, details: { inspection: inspection.name, command: argv } },
      );
    }
    if (result.timedOut) {
      throw new BadReturnValueError(
        'INTOTO_INSPECTION_TIMEOUT',
        `inspection ${quote(inspection.name)} did not finish within ${timeoutMs / 1000} s and was killed with everything it started: ${quote(argv.join(' '))}`,
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
        `Got non-zero return value '${result.returnValue}' from command ${quote(argv.join(' '))} (inspection ${quote(inspection.name)})`,
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
    if (this.#workdir !== undefined && this.#owned)
      await fsp.rm(this.#workdir, { recursive: true, force: true });
    this.#workdir = undefined;
    this.#owned = false;
  }
}
