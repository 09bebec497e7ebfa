/**
 * Writing a file the user named (`-o/--output`): a missing directory, a permission problem or
 * a directory in the way is one error line naming the file (OUTPUT_WRITE_FAILED), not an
 * internal error. The write is atomic (a temporary file renamed over the target), so a failure
 * never leaves a partial file; character devices (`-o /dev/stdout`) are written directly.
 */
import { stat, writeFile } from 'node:fs/promises';
import { describeErrno, errnoOf } from '../util/errno.js';
import { pathExists, writeFileAtomic } from '../util/fs.js';
import * as path from 'node:path';
import { CliError } from './errors.js';

/** Files of a repository `-o` must not replace: cnabsec.json, its lock, metadata/, staged/. */
const REPOSITORY_PARTS = new Set(['cnabsec.json', '.cnabsec.lock', 'metadata', 'staged']);

/** The repository directory `file` is part of, if any (`-o repo/staged/targets.json`). */
async function repositoryOf(file: string): Promise<string | undefined> {
  let child = path.resolve(file);
  for (let dir = path.dirname(child); dir !== child; child = dir, dir = path.dirname(dir)) {
    if (REPOSITORY_PARTS.has(path.basename(child)) && (await pathExists(path.join(dir, 'cnabsec.json'))))
      return dir;
  }
  return undefined;
}

export async function writeOutputFile(file: string, data: string | Uint8Array): Promise<void> {
  const repo = await repositoryOf(file);
  if (repo !== undefined) {
    throw new CliError(
      'OUTPUT_WRITE_FAILED',
      `refusing to write ${file}: it is inside the cnabsec repository ${repo}`,
      {
        details: { path: file, repository: repo },
        hint: 'give an output file outside the repository (its metadata is written by cnabsec commands only)',
      },
    );
  }
  try {
    const st = await stat(file).catch(() => undefined);
    if (st?.isCharacterDevice() === true || st?.isFIFO() === true) await writeFile(file, data);
    else await writeFileAtomic(file, data);
  } catch (e) {
    const why = errnoOf(e) === 'ENOENT' ? 'ENOENT (its directory does not exist)' : describeErrno(e);
    throw new CliError('OUTPUT_WRITE_FAILED', `cannot write ${file}: ${why}`, {
      cause: e,
      hint: 'give an output file in an existing directory you can write to',
    });
  }
}
