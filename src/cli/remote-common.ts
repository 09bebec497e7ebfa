/** Plumbing of the commands that talk to a metadata repository server (init --server, publish, pull, clone). */
import type { Command } from './args.js';
import { resolveToken, type RemoteAccess } from '../workflows/index.js';
import { httpTimeoutMs } from '../tuf/client/network.js';

export interface TokenOptions {
  tokenFile?: string;
}

/** Add `--token-file`: the bearer token sent on every request (else CNABSEC_TOKEN). */
export function withTokenFile(cmd: Command): Command {
  return cmd.option(
    '--token-file <file>',
    'file holding the bearer token sent to the server on every request (default: $CNABSEC_TOKEN)',
  );
}

/** Token (file or CNABSEC_TOKEN) and timeout (CNABSEC_HTTP_TIMEOUT) for a server. */
export async function accessOf(opts: TokenOptions): Promise<RemoteAccess> {
  const token = await resolveToken(opts.tokenFile);
  return { ...(token === undefined ? {} : { token }), timeoutMs: httpTimeoutMs() };
}

/** `targets v3, snapshot v3, timestamp v3 (signed by the server)`. */
export function publishedLine(
  published: { role: string; version: number; signedByServer?: boolean }[],
): string {
  return published
    .map((p) => `${p.role} v${p.version}${p.signedByServer === true ? ' (signed by the server)' : ''}`)
    .join(', ');
}
