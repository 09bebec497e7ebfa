/**
 * A tiny trace facility for `-v/--verbose`: each HTTP request and each file read a command does,
 * one line each, to a sink the CLI installs (stderr). Off by default; when off, `trace(fn)`
 * is one comparison and `fn` (which builds the line) is never called.
 *
 * Only paths, URLs, status codes and byte counts are traced: never file contents, passphrases
 * or key material. URLs pass through `traceUrl`, which drops any `user:password@` part.
 */

export type TraceSink = (line: string) => void;

let sink: TraceSink | undefined;

/** Install (or, with undefined, remove) the sink; returns the previous one. */
export function setTraceSink(next: TraceSink | undefined): TraceSink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}

/** Whether tracing is on. */
export function tracing(): boolean {
  return sink !== undefined;
}

/** Trace the line `line()` builds, only when tracing is on. */
export function trace(line: () => string): void {
  if (sink !== undefined) sink(line());
}

/** `url` without credentials (`https://user:pw@host/x` → `https://***@host/x`), for traces. */
export function traceUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1***@');
}

/** A file read of `bytes` bytes of `file`. */
export function traceRead(file: string, bytes: number): void {
  trace(() => `read ${file} (${bytes} bytes)`);
}
