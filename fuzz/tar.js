// A tiny tar writer (ustar, pax 'x' and GNU 'L' long-name headers) and tar/gzip-level
// mutations, for thick bundle archives (CNAB doc 104: a gzipped tar with bundle.json at its root).
import { gzipSync } from 'node:zlib';
import { NASTY_STRINGS } from './mutate.js';

const BLOCK = 512;

function field(buf, off, len, value) {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');
  b.copy(buf, off, 0, Math.min(len, b.length));
}

const oct = (n, len) => n.toString(8).padStart(len - 1, '0');

/**
 * One header block. `h` = {name, size, type, mode?, sizeField?, checksum?, magic?}:
 * `sizeField` (raw bytes/text) overrides the octal size, `checksum` 'bad' spoils it.
 */
export function header(h) {
  const buf = Buffer.alloc(BLOCK);
  field(buf, 0, 100, h.name);
  field(buf, 100, 8, h.mode ?? oct(0o644, 8));
  field(buf, 108, 8, oct(0, 8));
  field(buf, 116, 8, oct(0, 8));
  field(buf, 124, 12, h.sizeField ?? oct(h.size, 12));
  field(buf, 136, 12, oct(0, 12));
  buf.fill(0x20, 148, 156);
  field(buf, 156, 1, h.type ?? '0');
  field(buf, 257, 8, h.magic ?? 'ustar\u000000');
  if (h.prefix !== undefined) field(buf, 345, 155, h.prefix);
  let sum = 0;
  for (const x of buf) sum += x;
  field(buf, 148, 8, `${oct(h.checksum === 'bad' ? sum + 1 : sum, 7)}\0`);
  return buf;
}

const pad = (n) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** Entries [{name, body, type?, sizeField?, ...}] → tar bytes (end marker unless `noEnd`). */
export function tar(entries, { noEnd = false } = {}) {
  const parts = [];
  for (const e of entries) {
    const body = e.body ?? Buffer.alloc(0);
    if (e.pax !== undefined) {
      const rec = Buffer.from(e.pax);
      parts.push(header({ name: 'PaxHeader', size: rec.length, type: 'x' }), rec, pad(rec.length));
    }
    if (e.longName !== undefined) {
      const ln = Buffer.from(`${e.longName}\0`);
      parts.push(header({ name: '././@LongLink', size: ln.length, type: 'L' }), ln, pad(ln.length));
    }
    parts.push(header({ ...e, size: e.declared ?? body.length }), body, pad(body.length));
  }
  if (!noEnd) parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** A pax record `<len> key=value\n` with a correct length. */
export function paxRecord(key, value) {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/** One mutation of an entry list (returns a new list) — tar structure level. */
export function mutateEntries(rng, entries, mutateBody) {
  const es = entries.map((e) => ({ ...e }));
  const bi = Math.max(
    0,
    es.findIndex((e) => e.name === 'bundle.json' || e.name === './bundle.json'),
  );
  const e = rng.chance(0.6) ? es[bi] : rng.pick(es);
  switch (rng.int(13)) {
    case 0:
      e.sizeField = rng.pick([
        '77777777777',
        '-1',
        'zzzz',
        '',
        '1e9',
        '00000000000\u0000',
        '9',
        Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]), // base-256
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      ]);
      break;
    case 1:
      e.declared = Math.max(0, (e.body?.length ?? 0) + rng.pick([-1, 1, 511, 512, -512, 100_000]));
      break;
    case 2:
      e.name = rng.pick([
        'bundle.json',
        './bundle.json',
        '/bundle.json',
        'x/../bundle.json',
        'bundle.json/',
        'bundle.json\u0000x',
        'BUNDLE.JSON',
        rng.pick(NASTY_STRINGS),
      ]);
      break;
    case 3:
      e.type = rng.pick(['0', '\0', '5', '2', '1', 'x', 'g', 'L', 'K', 'S', '7', 'V', 'z']);
      break;
    case 4:
      es.splice(rng.int(es.length + 1), 0, { ...es[bi] }); // duplicate bundle.json
      break;
    case 5:
      e.pax = rng.pick([
        paxRecord('path', 'bundle.json'),
        paxRecord('path', 'other.json'),
        paxRecord('size', '99999999999'),
        paxRecord('size', '-5'),
        '0 path=bundle.json\n',
        '999999999 path=bundle.json\n',
        '5 path=bundle.json\n',
        'garbage',
        `${paxRecord('path', 'a'.repeat(rng.size(70_000)))}`,
        paxRecord('path', '\ud800'),
      ]);
      break;
    case 6:
      e.longName = rng.pick(['bundle.json', 'x'.repeat(rng.size(200_000)), '', '\u0000bundle.json']);
      break;
    case 7:
      if (e.body !== undefined) e.body = mutateBody(e.body);
      break;
    case 8:
      e.checksum = 'bad';
      break;
    case 9:
      e.magic = rng.pick(['\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000', 'ustar  \u0000', 'xxxxxx']);
      break;
    case 10:
      es.unshift({ name: 'big.bin', body: Buffer.alloc(rng.size(40_000_000)) });
      break;
    case 11:
      e.prefix = rng.pick(['.', 'dir', '', '..', 'a'.repeat(155)]);
      break;
    default:
      es.reverse();
  }
  return es;
}

/** gzip-level mutations of the compressed archive. */
export function mutateGzip(rng, gz, tarBytes) {
  switch (rng.int(9)) {
    case 0:
      return gz.subarray(0, rng.int(gz.length));
    case 1: {
      const b = Buffer.from(gz);
      b[rng.int(Math.min(10, b.length))] ^= 1 << rng.int(8); // header
      return b;
    }
    case 2: {
      const b = Buffer.from(gz);
      b[b.length - 1 - rng.int(8)] ^= 0xff; // CRC / ISIZE trailer
      return b;
    }
    case 3:
      return Buffer.concat([gz, gz]); // two members
    case 4:
      return Buffer.concat([gz, rng.bytes(rng.size(1000))]); // trailing garbage
    case 5:
      return tarBytes; // not compressed
    case 6:
      return Buffer.alloc(0);
    case 7: {
      const b = Buffer.from(gz);
      const i = 10 + rng.int(Math.max(1, b.length - 18));
      b[i] ^= 1 << rng.int(8); // deflate stream
      return b;
    }
    default:
      return gzipSync(tarBytes.subarray(0, rng.int(tarBytes.length)));
  }
}
