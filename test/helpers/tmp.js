// Temporary directories for tests, removed by the test that made them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export async function tempDir(t, prefix = 'cnabsec-test-') {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A passphrase source for tests: the same passphrase for every label, or a map. */
export function fixedPassphrases(p = 'correct horse battery staple') {
  return async (label) => (typeof p === 'string' ? p : p[label]);
}
