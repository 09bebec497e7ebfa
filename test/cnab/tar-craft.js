// Crafting tar archives byte by byte for the thick-bundle attack tests and the bench: headers
// with any name, type, size field, magic or checksum, pax and GNU long-name records.
import { gzipSync } from 'node:zlib';

export const BLOCK = 512;

const pad = (n) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

function octal(n, width) {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/**
 * One 512-byte header. `fields` may override any raw field (`size`, `mode`, `magic`,
 * `linkname`...) with a string written as is; `checksum: false` leaves a wrong checksum.
 */
export function header(
  name,
  size,
  { type = '0', prefix = '', magic = 'ustar\x0000', checksum = true, ...raw } = {},
) {
  const h = Buffer.alloc(BLOCK);
  const put = (s, off, len) => Buffer.from(s, 'latin1').copy(h, off, 0, len);
  put(name, 0, 100);
  put(raw.mode ?? octal(0o644, 8), 100, 8);
  put(raw.uid ?? octal(0, 8), 108, 8);
  put(raw.gid ?? octal(0, 8), 116, 8);
  put(raw.size ?? octal(size, 12), 124, 12);
  put(raw.mtime ?? octal(1_700_000_000, 12), 136, 12);
  put(type, 156, 1);
  put(raw.linkname ?? '', 157, 100);
  put(magic, 257, 8);
  put(prefix, 345, 155);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  put(`${(checksum ? sum : sum + 1).toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** A file entry: header, data, padding. */
export function file(name, data = '', opts = {}) {
  const body = Buffer.from(data);
  return Buffer.concat([header(name, body.length, opts), body, pad(body.length)]);
}

/** A pax extended header ('x') with `records` (key → value). */
export function pax(records, type = 'x') {
  const lines = Object.entries(records).map(([k, v]) => {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len++;
    return `${len}${rest}`;
  });
  return file('PaxHeaders/x', lines.join(''), { type });
}

/** A GNU long name ('L') record for the next entry. */
export function longName(name, type = 'L') {
  return file('././@LongLink', `${name}\0`, { type, magic: 'ustar  \0' });
}

export const END = Buffer.alloc(2 * BLOCK);

/** gzip of the concatenated parts (with the end-of-archive blocks unless `end: false`). */
export function tgz(parts, { end = true } = {}) {
  return gzipSync(Buffer.concat([...parts, ...(end ? [END] : [])]));
}

/**
 * gzip members of `mib` MiB of zeros, concatenated (a valid multi-member gzip stream), after
 * a first member holding `head` (e.g. headers): a bomb built in milliseconds.
 */
export function zeroBomb(head, mib) {
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  return Buffer.concat([gzipSync(head), ...Array.from({ length: mib }, () => member)]);
}
