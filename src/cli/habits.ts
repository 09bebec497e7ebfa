/**
 * Notary habits (issue 12): command lines a Notary user types from memory, answered with a
 * usage error that gives the cnabsec spelling. Notary's verbs take a GUN and a tag as
 * separate arguments and a file as a third (`notary add GUN TAG FILE`); cnabsec names a
 * repository directory (developer side) or `<repository>:<tag>` (client side) and passes
 * files with options (`--thin bundle.json`).
 */
import { existsSync } from 'node:fs';

/** Top-level Notary verbs that cnabsec spells otherwise. */
const NOTARY_VERBS: Record<string, string> = {
  add: 'to sign a bundle version (notary add GUN TAG FILE), run `cnabsec bundle add <repo> <tag> --thin bundle.json` then `cnabsec publish <repo>`',
  remove:
    'to revoke a bundle version (notary remove GUN TAG), run `cnabsec bundle remove <repo> <tag>` then `cnabsec publish <repo>`',
  rm: 'to revoke a bundle version, run `cnabsec bundle remove <repo> <tag>` then `cnabsec publish <repo>`',
  delete:
    'cnabsec does not delete repositories: revoke a version with `cnabsec bundle remove <repo> <tag>`, discard staged changes with `cnabsec reset <repo>`, or stop trusting one with `cnabsec trust remove <name>`',
  witness:
    'to renew a role (notary witness), run `cnabsec resign <repo> <role>` then `cnabsec publish <repo>`',
  rotate: 'keys are rotated with `cnabsec key rotate <repo> <role> --add-key new --remove-key <id>`',
};

/** Advice for an unknown top-level command that is a Notary verb. */
export function notaryVerbHint(word: string): string | undefined {
  return Object.hasOwn(NOTARY_VERBS, word) ? `${NOTARY_VERBS[word]}` : undefined;
}

const isArchive = (file: string): boolean => /\.(tgz|tar\.gz|tar)$/i.test(file);

/**
 * `key rotate <repo> snapshot -r` (notary key rotate GUN ROLE -r: let the server manage the
 * key): cnabsec sets server-managed timestamp/snapshot keys at init.
 */
export function rotateFlagHint(flag: string): string | undefined {
  if (flag !== '-r' && flag !== '--server-managed') return undefined;
  return "notary's -r (server-managed key) is set up at init: `cnabsec init <dir> --server <url> --server-managed snapshot,timestamp` (or, offline, `--server-managed snapshot,timestamp --snapshot-key <pem> --timestamp-key <pem>`); key rotate changes keys with --add-key and --remove-key";
}

/** `bundle add <repo> <tag> bundle.json` (notary add GUN TAG FILE): the file is an option. */
export function bundleFileHint(extra: string[]): string | undefined {
  const [file] = extra;
  if (file === undefined || extra.length !== 1) return undefined;
  return isArchive(file)
    ? `Did you mean \`--thick ${file}\` (or --thin for a bundle.json)?`
    : `Did you mean \`--thin ${file}\` (or --thick for an archive)?`;
}

/** `verify name v1` / `lookup name v1` (notary lookup GUN TAG): one argument `name:v1`. */
export function referenceHint(extra: string[], operands: string[]): string | undefined {
  const [name] = operands;
  const [tag] = extra;
  if (name === undefined || tag === undefined || extra.length !== 1 || name.includes(':')) return undefined;
  return `Did you mean ${name}:${tag}?`;
}

/** `delegation add <repo> <role> cert.pem` (notary delegation add GUN ROLE CERT...): keys are --key. */
export function delegationKeyHint(extra: string[]): string | undefined {
  if (extra.length === 0) return undefined;
  return `Did you mean ${extra.map((k) => `--key ${k}`).join(' ')}?`;
}

/**
 * `init example.com/org/app` (notary init GUN): cnabsec init takes a directory, and the name
 * comes with --name. Only when unambiguous: the argument starts with a registry host (a dot
 * or a port before the first slash), is not a path (./, ../, /), does not exist, and
 * neither --name nor --name-from-dir is given.
 */
export function initGunHint(dir: string, opts: Record<string, unknown>): string | undefined {
  if (opts.name !== undefined || opts.nameFromDir !== undefined) return undefined;
  if (/^(\.{1,2})?\//.test(dir) || existsSync(dir)) return undefined;
  const host = /^([a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?|[a-z0-9-]+:\d+)\//i.exec(dir);
  if (host === null) return undefined;
  return `'${dir}' looks like a repository name (notary init GUN); cnabsec init takes a directory: did you mean \`cnabsec init <dir> --name ${dir}\`?`;
}
