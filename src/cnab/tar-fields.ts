/**
 * Fields of tar headers and records (POSIX ustar / pax, GNU), parsed strictly for ./tar.ts:
 * numbers, checksums, names and their normalization, pax records. Each function refuses what
 * tar readers could read differently, with ARCHIVE_BAD_ENTRY.
 */
import { CnabError, type CnabErrorCode } from './errors.js';
import { quote } from '../util/json.js';

export const BLOCK = 512;
export const MAX_NAME_BYTES = 4096;

const HINT = 'a thick bundle is a .tgz with one bundle.json at its root (CNAB doc 104); rebuild it with tar';

export function tarError(
  code: CnabErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): CnabError {
  return new CnabError(code, message, { hint: HINT, details });
}

/** An entry path (bytes as a latin1 string) quoted for a message. */
export function show(name: string): string {
  return quote(Buffer.from(name, 'latin1').toString('utf8'));
}

export const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** An octal (NUL/space terminated) or GNU base-256 number field; throws on anything else. */
export function numberField(h: Buffer, start: number, len: number, field: string, at: number): number {
  const first = h[start] ?? 0;
  if (first & 0x80) {
    if (first !== 0x80) throw tarError('ARCHIVE_BAD_ENTRY', `tar header at ${at}: negative ${field}`);
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + (h[i] ?? 0);
    if (!Number.isSafeInteger(n))
      throw tarError('ARCHIVE_BAD_ENTRY', `tar header at ${at}: ${field} too large`);
    return n;
  }
  // octal digits after optional spaces, then only spaces and NULs (python's nti, GNU tar)
  let i = start;
  const end = start + len;
  while (i < end && h[i] === 0x20) i++;
  let n = 0;
  for (; i < end; i++) {
    const c = h[i] ?? 0;
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
  }
  for (; i < end; i++) {
    const c = h[i];
    if (c !== 0 && c !== 0x20) {
      const text = h.toString('latin1', start, end);
      throw tarError(
        'ARCHIVE_BAD_ENTRY',
        `tar header at ${at}: ${field} ${quote(text, 20)} is not an octal number`,
        {
          offset: at,
        },
      );
    }
  }
  return n;
}

export function checksumOk(h: Buffer, at: number): boolean {
  const stored = numberField(h, 148, 8, 'checksum', at);
  let unsigned = 8 * 0x20; // the checksum field counts as spaces
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const b = h[i] ?? 0;
    unsigned += b;
    if (b > 127) high++;
  }
  return stored === unsigned || stored === unsigned - 256 * high; // GNU tar accepts both sums
}

export function cstring(h: Buffer, start: number, len: number): string {
  const s = h.subarray(start, start + len);
  const nul = s.indexOf(0);
  return (nul === -1 ? s : s.subarray(0, nul)).toString('latin1');
}

/**
 * The path tar extracts an entry to, relative to the extraction directory: `./` prefixes,
 * empty and `.` segments and a trailing `/` removed (`''` for the root directory itself).
 * Absolute paths and `..` segments are refused. Names are compared as bytes (latin1 strings).
 */
export function normalizeEntryPath(name: string, maxBytes = MAX_NAME_BYTES): string {
  const shown = (): string => show(name);
  if (name === '') throw tarError('ARCHIVE_BAD_ENTRY', 'an archive entry has an empty name');
  if (name.length > maxBytes) {
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has a name over ${maxBytes} bytes`);
  }
  if (name.includes('\0'))
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has a NUL in its name`);
  if (name.startsWith('/'))
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} is an absolute path`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw tarError('ARCHIVE_BAD_ENTRY', `archive entry ${shown()} has a ".." segment`);
  }
  return segments.join('/');
}

/** pax keys whose value is read; the others are checked for form and skipped. */
const PAX_USED = new Set(['path', 'size']);
const MAX_PAX_KEY = 256;

/**
 * Records of a pax extended header (`<len> <key>=<value>\n`), strictly parsed: the values of
 * `path` and `size` only (no copy of the others), each key at most once, no sparse-file keys.
 */
export function paxRecords(body: Buffer, at: number): Map<string, string> {
  const out = new Map<string, string>();
  const keys = new Set<string>();
  const bad = (why: string): CnabError =>
    tarError('ARCHIVE_BAD_ENTRY', `pax header at ${at}: ${why}`, { offset: at });
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0 && body.subarray(i).equals(Buffer.alloc(body.length - i))) break; // NUL padding
    let len = 0;
    let j = i;
    for (; j < body.length && j - i <= 12 && body[j] !== 0x20; j++) {
      const c = body[j] ?? 0;
      if (c < 0x30 || c > 0x39 || (j === i && c === 0x30)) throw bad('a record length is not a number');
      len = len * 10 + (c - 0x30);
    }
    if (body[j] !== 0x20 || j === i) throw bad('a record has no length');
    const end = i + len;
    if (end > body.length || end <= j + 1 || body[end - 1] !== 0x0a)
      throw bad('a record overruns the header');
    const eq = body.indexOf(0x3d, j + 1);
    if (eq <= j + 1 || eq >= end || eq - j - 1 > MAX_PAX_KEY)
      throw bad('a record has no key, or a key too long');
    const key = body.toString('latin1', j + 1, eq);
    if (keys.has(key)) throw bad(`record ${quote(key, 40)} is repeated`);
    if (key.startsWith('GNU.sparse.')) throw bad('sparse files are not supported');
    keys.add(key);
    if (PAX_USED.has(key)) out.set(key, body.toString('latin1', eq + 1, end - 1));
    i = end;
  }
  return out;
}
