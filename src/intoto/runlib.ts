/**
 * Recording a step (in-toto spec §4.2; python `runlib.in_toto_run`, `in_toto_record_start`,
 * `in_toto_record_stop`): record materials, run the command (capturing stdout, stderr and
 * the return value), record products, sign, and write `<step>.<keyid[:8]>.link`. For steps
 * that are not one command, `recordStart` writes a signed preliminary
 * `.<step>.<keyid[:8]>.link-unfinished` with the materials and `recordStop` checks its
 * signature, adds the products, re-signs and writes the final link.
 */
import { promises as fsp } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { Signer } from '../crypto/signer.js';
import { errnoOf, describeErrno } from '../util/errno.js';
import { writeFileAtomic } from '../util/fs.js';
import { quote } from '../util/json.js';
import { recordArtifacts, type RecordOptions } from './artifacts.js';
import { IntotoError } from './errors.js';
import { execCommand } from './exec.js';
import {
  checkStepName,
  linkFileName,
  newLink,
  parseMetablock,
  serializeMetablock,
  type Link,
  type Metablock,
} from './models.js';
import { signMetablock, verifyMetablockSignature } from './signing.js';

/**
 * Default time limit of a step command (python's is 10 s, too short for builds). The command
 * runs in a box (`exec.ts`): at the limit it is killed with everything it started.
 */
export const DEFAULT_RUN_TIMEOUT_MS = 3_600_000;

export interface RunOptions extends RecordOptions {
  materials?: readonly string[];
  products?: readonly string[];
  /** Directory the link is written to (default: the current directory). */
  metadataDirectory?: string;
  timeoutMs?: number;
  /** Copy the command's output to ours while capturing it (default true). */
  tee?: boolean;
  /** Also record the working directory in `environment.workdir`. */
  recordEnvironment?: boolean;
  /** Bytes of stdout and of stderr kept in the link (default 16 MiB). */
  maxOutputBytes?: number;
  /** Directory the command runs in (default: the current directory, as python). */
  cwd?: string;
  /**
   * A command that exits non-zero or is killed by a signal fails the step (INTOTO_COMMAND_FAILED)
   * and no link is written. Default false: as python in-toto, the link records the failure
   * (`byproducts.return-value`) and layout rules or inspections decide.
   */
  failOnError?: boolean;
}

export interface RunResult {
  link: Metablock<Link>;
  file: string;
  /** The command's exit status, or -N when signal N killed it (python's return-value); null without a command. */
  returnValue?: number | null;
}

/** "exited 2" or "was killed by signal SIGTERM" for a return value (-N: signal N, as python). */
export function describeReturnValue(rv: number): string {
  if (rv >= 0) return `exited ${rv}`;
  const name = Object.entries(osConstants.signals).find(([, n]) => n === -rv)?.[0];
  return `was killed by signal ${name ?? -rv}`;
}

function recordOpts(o: RecordOptions): RecordOptions {
  return { ...o, followSymlinkDirs: true };
}

/** Write a link; a missing metadata directory (`-d links`) is created, a failure is INTOTO_IO. */
async function writeLink(mb: Metablock, file: string): Promise<void> {
  try {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, serializeMetablock(mb));
  } catch (e) {
    // mkdir -p over a regular file fails with EEXIST: that path component is not a directory.
    const why = errnoOf(e) === 'EEXIST' ? 'ENOTDIR (a path component is not a directory)' : describeErrno(e);
    throw new IntotoError('INTOTO_IO', `cannot write the link ${file}: ${why}`, {
      cause: e,
      hint: 'choose a writable metadata directory (-d)',
    });
  }
}

/** Run one step: materials, command, products, signed link file. */
export async function runStep(
  name: string,
  command: readonly string[],
  signer: Signer,
  opts: RunOptions = {},
): Promise<RunResult> {
  checkStepName(name);
  const materials = await recordArtifacts(opts.materials ?? [], recordOpts(opts));
  let byproducts: Record<string, unknown> = {};
  let returnValue: number | null = null;
  if (command.length > 0) {
    const r = await execCommand(command, {
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      timeoutMs: opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      tee: opts.tee ?? true,
      inheritStdin: true,
      maxOutputBytes: opts.maxOutputBytes ?? 16 * 1024 * 1024,
    });
    if (r.timedOut) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
      throw new IntotoError(
        'INTOTO_COMMAND_TIMEOUT',
        `command ${quote(command.join(' '))} did not finish within ${timeoutMs / 1000} s and was killed with everything it started`,
        { details: { command, timeoutMs }, hint: 'raise the limit with --timeout <seconds>' },
      );
    }
    if (r.returnValue !== 0 && opts.failOnError === true) {
      throw new IntotoError(
        'INTOTO_COMMAND_FAILED',
        `step ${quote(name)}: command ${quote(command.join(' '))} ${describeReturnValue(r.returnValue)}; no link written (--fail-on-error)`,
        {
          details: { step: name, command, returnValue: r.returnValue },
          hint: 'fix the command and run the step again; without --fail-on-error the link records the failure',
        },
      );
    }
    returnValue = r.returnValue;
    byproducts = { stdout: r.stdout, stderr: r.stderr, 'return-value': r.returnValue };
  }
  const products = await recordArtifacts(opts.products ?? [], recordOpts(opts));
  const workdir = path.resolve(opts.cwd ?? '.').replace(/\\/g, '/');
  const environment = opts.recordEnvironment === true ? { workdir } : {};
  const link = newLink(name, { materials, products, byproducts, command: [...command], environment });
  const mb: Metablock<Link> = { signed: link, signatures: [] };
  await signMetablock(mb, signer);
  const file = path.join(opts.metadataDirectory ?? '.', linkFileName(name, signer.keyid));
  await writeLink(mb, file);
  return { link: mb, file, returnValue };
}

/** `.<step>.<keyid[:8]>.link-unfinished` (python `UNFINISHED_FILENAME_FORMAT`). */
export function unfinishedFileName(step: string, keyid: string): string {
  return `.${step}.${keyid.slice(0, 8)}.link-unfinished`;
}

/** Start recording a step: a signed preliminary link with the materials. */
export async function recordStart(
  name: string,
  signer: Signer,
  opts: RecordOptions & { materials?: readonly string[]; recordEnvironment?: boolean; dir?: string } = {},
): Promise<string> {
  checkStepName(name);
  const materials = await recordArtifacts(opts.materials ?? [], recordOpts(opts));
  const environment = opts.recordEnvironment === true ? { workdir: process.cwd().replace(/\\/g, '/') } : {};
  const mb: Metablock<Link> = { signed: newLink(name, { materials, environment }), signatures: [] };
  await signMetablock(mb, signer);
  const file = path.join(opts.dir ?? '.', unfinishedFileName(name, signer.keyid));
  await writeLink(mb, file);
  return file;
}

/** Finish recording: check the preliminary link, add products, re-sign, write the link. */
export async function recordStop(
  name: string,
  signer: Signer,
  opts: RecordOptions & { products?: readonly string[]; metadataDirectory?: string; dir?: string } = {},
): Promise<RunResult> {
  checkStepName(name);
  const unfinished = path.join(opts.dir ?? '.', unfinishedFileName(name, signer.keyid));
  let text: Buffer;
  try {
    text = await fsp.readFile(unfinished);
  } catch (e) {
    throw new IntotoError(
      'INTOTO_RECORD_NOT_STARTED',
      `no preliminary link ${unfinished} for step '${name}'`,
      {
        cause: e,
        hint: 'run `cnabsec intoto record start` with the same step and key first',
      },
    );
  }
  const mb = parseMetablock(text, unfinished) as Metablock<Link>;
  verifyMetablockSignature(mb, { ...signer.publicKey, keyid: signer.keyid });
  mb.signed.products = await recordArtifacts(opts.products ?? [], recordOpts(opts));
  mb.signatures = [];
  await signMetablock(mb, signer);
  const file = path.join(opts.metadataDirectory ?? '.', linkFileName(name, signer.keyid));
  await writeLink(mb, file);
  await fsp.rm(unfinished, { force: true });
  return { link: mb, file };
}
