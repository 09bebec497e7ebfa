/**
 * The version of cnabsec: package.json's, read when asked (`cnabsec version`, `--version`),
 * so there is no second copy to keep in step. package.json is two directories above both the
 * compiled module (dist/cli/version.js) and the CLI bundles (dist/bin/*.cjs), and npm always
 * ships it with the package.
 */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
  if (pkg.name !== 'cnabsec' || typeof pkg.version !== 'string')
    throw new Error('package.json of cnabsec not found next to the CLI');
  return pkg.version;
}

/** `cnabsec 0.1.0 (node 20.17.0)`. */
export function versionLine(): string {
  return `cnabsec ${packageVersion()} (node ${process.versions.node})`;
}
