/** A progress bar on stderr for long reads (large thick bundles), shown only on a TTY. */
import { statSync } from 'node:fs';

const MIN_SIZE = 64 * 1024 * 1024;

/** Returns an onProgress callback for reading `file`, or undefined when no bar is wanted. */
export function progressBar(file: string, label = 'hashing'): ((bytes: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let total = 0;
  try {
    total = statSync(file).size;
  } catch {
    return undefined;
  }
  if (total < MIN_SIZE) return undefined;
  let last = -1;
  return (bytes) => {
    const pct = Math.floor((bytes / total) * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${pct}%`);
    if (bytes >= total) process.stderr.write('\n');
  };
}
