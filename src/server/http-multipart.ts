/**
 * The framing of a multipart upload, watched beside busboy (issue 15 item 5): busboy ignores
 * whatever follows the closing delimiter (the epilogue) and drops part headers past its
 * limits without a word. Both let one body mean two things (a proxy or scanner in front reads
 * the parts after the end, or the headers past the limit, the server does not), so an upload
 * with either is refused. One pass over the bytes as they arrive, constant memory.
 *
 * RFC 2046 §5.1.1: the delimiter is CRLF `--boundary`; the close delimiter adds `--`; a
 * boundary holds no CR, so matching restarts cleanly on a mismatch.
 */

/** Largest header block of one part (busboy keeps 16 KiB; a part needs about 200 bytes). */
export const MAX_PART_HEADER_BYTES = 8 << 10;
/** Most header lines of one part (busboy keeps 100 pairs and drops the rest; a part needs 2). */
export const MAX_PART_HEADER_LINES = 32;

const CR = 13;
const LF = 10;
const DASH = 45;
const isSpace = (b: number): boolean => b === CR || b === LF || b === 32 || b === 9;

type State = 'body' | 'dash1' | 'dash2' | 'header' | 'epilogue';

export class MultipartFraming {
  private readonly delimiter: Buffer;
  private state: State = 'body';
  /** Bytes of the delimiter matched so far (body state). */
  private matched = 2; // the body starts as if after a CRLF: a first `--boundary` is a delimiter
  private headerBytes = 0;
  private headerLines = 0;
  private tail = 0; // the last four header bytes, as a 32-bit window
  /** The first problem seen, once seen. */
  problem: string | undefined;

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  feed(chunk: Buffer): void {
    for (let i = 0; i < chunk.length && this.problem === undefined; i++) {
      const b = chunk[i] ?? 0;
      if (this.state === 'body') {
        if (this.matched === 0) {
          const next = chunk.indexOf(CR, i);
          if (next === -1) return;
          i = next;
          this.matched = 1;
          continue;
        }
        if (b === this.delimiter[this.matched]) {
          this.matched++;
          if (this.matched === this.delimiter.length) this.state = 'dash1';
        } else this.matched = b === CR ? 1 : 0;
      } else if (this.state === 'dash1') {
        if (b === DASH) this.state = 'dash2';
        else this.header(b);
      } else if (this.state === 'dash2') {
        if (b === DASH) this.state = 'epilogue';
        else this.header(b);
      } else if (this.state === 'header') this.header(b);
      else if (!isSpace(b)) this.problem = 'bytes after the closing boundary (parts after the end)';
    }
  }

  private header(b: number): void {
    if (this.state !== 'header') {
      this.state = 'header';
      this.headerBytes = 0;
      this.headerLines = 0;
      this.tail = 0;
    }
    this.headerBytes++;
    if (b === LF) this.headerLines++;
    this.tail = ((this.tail << 8) | b) >>> 0;
    if (this.tail === 0x0d0a0d0a) {
      this.state = 'body';
      this.matched = 0;
    } else if (this.headerBytes > MAX_PART_HEADER_BYTES)
      this.problem = `part headers above ${MAX_PART_HEADER_BYTES} bytes`;
    else if (this.headerLines > MAX_PART_HEADER_LINES + 2)
      this.problem = `part headers above ${MAX_PART_HEADER_LINES} lines`;
  }
}

/** The boundary parameter of a multipart Content-Type (quoted or not), or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(contentType ?? '');
  return m?.[1] ?? m?.[2];
}
