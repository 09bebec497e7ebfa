/**
 * Reading in-toto metadata files (links, layouts) from disk: regular files only, opened without
 * blocking, at most `METADATA_FILE_MAX_BYTES` (util/fs `readUserFile`), so a FIFO, a device or a
 * huge file named as a link or layout is a one-line error, never a hang or an unbounded read.
 */
import { describeErrno, errnoOf } from '../util/errno.js';
import { readUserFile } from '../util/fs.js';
import { quote } from '../util/json.js';
import { FormatError } from './errors.js';

/** Largest layout or link file read (a link of 1 000 000 artifacts is about 150 MB). */
export const METADATA_FILE_MAX_BYTES = 256 * 1024 * 1024;

/** An in-toto metadata file, as one-line INTOTO_BAD_FORMAT errors naming it. */
export async function readMetadataFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readUserFile(file, METADATA_FILE_MAX_BYTES);
  } catch (e) {
    throw new FormatError('INTOTO_BAD_FORMAT', `cannot read ${what} ${quote(file)}: ${describeErrno(e)}`, {
      cause: e,
      details: { path: file, ...(errnoOf(e) === undefined ? {} : { errno: errnoOf(e) }) },
      hint: `give the path of a readable ${what} file (at most ${METADATA_FILE_MAX_BYTES} bytes)`,
    });
  }
}

/** Whether a `readMetadataFile` failure is about the file's kind or size (not its absence). */
export function isRefusedFile(e: unknown): boolean {
  const code = errnoOf((e as { cause?: unknown }).cause);
  return code === 'EFBIG' || code === 'EFTYPE' || code === 'EAGAIN';
}
