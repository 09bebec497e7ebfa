/**
 * How the client reaches a metadata repository server (issue 13 item 5): its base URL checked,
 * the TUF metadata URL of a repository on it (Notary v1 paths, design.md §5), and the bearer
 * token, from a mode 0600 token file or CNABSEC_TOKEN (never printed).
 */
import { stat } from 'node:fs/promises';
import { readUserFile } from '../util/fs.js';
import { describeErrno } from '../util/errno.js';
import { quote } from '../util/json.js';
import { checkRepositoryName } from '../tuf/names.js';
import { checkToken, envToken, TOKEN_MAX_BYTES } from '../tuf/client/network.js';
import { TufError } from '../tuf/errors.js';

/** The token for a server: the token file when given, else CNABSEC_TOKEN; undefined for none. */
export async function resolveToken(
  tokenFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (tokenFile === undefined) return envToken(env);
  let text: string;
  try {
    text = (await readUserFile(tokenFile, TOKEN_MAX_BYTES + 2)).toString('utf8');
  } catch (e) {
    throw new TufError(
      'INVALID_ARGUMENT',
      `cannot read token file ${quote(tokenFile)}: ${describeErrno(e)}`,
      {
        cause: e,
        details: { path: tokenFile.slice(0, 1024) },
        hint: `give a readable file holding the bearer token on one line (at most ${TOKEN_MAX_BYTES} bytes)`,
      },
    );
  }
  await checkTokenFileMode(tokenFile);
  return checkToken(text, `token file ${quote(tokenFile)}`);
}

/** A token file others may read is refused, as a key file is (the token is a secret). */
async function checkTokenFileMode(tokenFile: string): Promise<void> {
  if (process.platform === 'win32') return;
  const st = await stat(tokenFile).catch(() => undefined); // just read: gone since is a race, not a risk
  const mode = (st?.mode ?? 0) & 0o777;
  if ((mode & 0o077) === 0) return;
  throw new TufError(
    'INVALID_ARGUMENT',
    `token file ${quote(tokenFile)} is readable or writable by others (mode ${mode.toString(8)})`,
    { details: { path: tokenFile.slice(0, 1024) }, hint: `run: chmod 600 ${tokenFile}` },
  );
}

/** `https://host:port` without a trailing slash; INVALID_ARGUMENT for anything else. */
export function checkServerUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const ok =
    parsed !== undefined &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.search === '' &&
    parsed.hash === '';
  if (!ok) {
    throw new TufError('INVALID_ARGUMENT', `${quote(url, 200)} is not a server URL`, {
      details: { url: url.slice(0, 1000) },
      hint: 'give the http:// or https:// base URL of the metadata repository server, e.g. https://tuf.example.com (no user:password@, query or #)',
    });
  }
  return parsed.href.replace(/\/+$/, '');
}

/** The TUF metadata URL of `repo` on `server`: `<server>/v2/<repo>/_trust/tuf` (Notary v1). */
export function metadataUrlOf(server: string, repo: string): string {
  return `${checkServerUrl(server)}/v2/${checkRepositoryName(repo)}/_trust/tuf`;
}
