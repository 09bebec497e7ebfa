/**
 * Writing a file the user named (`-o/--output`): a missing directory, a permission problem or
 * a directory in the way is one error line naming the file (OUTPUT_WRITE_FAILED), not an
 * internal error. The write is atomic (a temporary file renamed over the target), so a failure
 * never leaves a partial file; character devices (`-o /dev/stdout`) are written directly.
 */
import { stat, writeFile } from 'node:fs/promises';
import { describeErrno, errnoOf } from '../util/errno.js';
import { writeFileAtomic } from '../util/fs.js';
import { CliError } from './errors.js';

export async function writeOutputFile(file: string, data: string | Uint8Array): Promise<void> {
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
