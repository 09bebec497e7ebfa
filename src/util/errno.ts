/**
 * Node file-system errors (`NodeJS.ErrnoException`), told apart by their `code`. A catch-all
 * around a read or `readdir` must treat only "does not exist" as absence: a permission error,
 * a directory where a file should be, or a symlink loop is damage to report, not a missing file.
 */

/** The errno code (`ENOENT`, `EACCES`, `EISDIR`, ...) of a thrown value, if it has one. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** Whether `e` says the path does not exist (`ENOENT`), and nothing else. */
export function isNotFound(e: unknown): boolean {
  return errnoOf(e) === 'ENOENT';
}

const WHAT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'name too long',
  EFTYPE: 'not a regular file',
  EFBIG: 'file too large',
};

/** `EISDIR (is a directory)`: the errno code and what it means, for one-line messages. */
export function describeErrno(e: unknown): string {
  const code = errnoOf(e);
  if (code === undefined) return 'I/O error';
  const what = WHAT[code];
  return what === undefined ? code : `${code} (${what})`;
}
