/**
 * Commands of a repository on a metadata repository server (issue 13 item 5): `cnabsec pull`
 * (the server's verified state into the local published metadata; registered with the
 * registry pull in ./registry.ts) and `cnabsec clone` (a new
 * local repository from the server, for a second maintainer: no private keys are copied, they
 * sign with their own key-store keys). Publishing is `cnabsec publish` (./repo.ts).
 */
import type { Command } from '../args.js';
import { withCommon, type KeyOptions } from '../common.js';
import { lockWaitMs, withRepository } from '../repo-common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { serverRoles } from '../options.js';
import { accessOf, withTokenFile, type TokenOptions } from '../remote-common.js';
import { cloneRepository, pullRepository, type PullResult } from '../../workflows/index.js';

function updatedLine(r: PullResult): string {
  return r.updated.length === 0
    ? 'already up to date'
    : r.updated.map((u) => `${u.role} v${u.version}`).join(', ');
}

function warnDropped(r: PullResult): void {
  if (r.rebased.length > 0)
    warn(
      `staged ${r.rebased.join(', ')}: your target changes were replayed on the pulled version; publish again`,
    );
  if (r.dropped.length > 0)
    warn(
      `staged ${r.dropped.join(', ')} dropped: the server already has that version; stage your change again, then publish`,
    );
}

/**
 * `cnabsec pull <repo-dir>`: the server's verified state into the local repository. The
 * `pull` command itself is registered by ./registry.ts, which also reads a registry reference
 * (ADR 0029) and calls this for a repository directory.
 */
export async function serverPull(dir: string, opts: KeyOptions & TokenOptions): Promise<void> {
  const access = await accessOf(opts);
  await withRepository(dir, async (repo) => {
    const r = await pullRepository(repo, access);
    if (opts.json) printJson({ location: dir, updated: r.updated, rebased: r.rebased, dropped: r.dropped });
    else printLine(`pulled ${repo.config.name} from ${repo.config.server?.url ?? ''}: ${updatedLine(r)}`);
    warnDropped(r);
  });
}

export function register(program: Command): void {
  withTokenFile(withCommon(program.command('clone <server> <name> <repo>')))
    .description(
      'a new local repository from a metadata repository server (a second maintainer): metadata only, sign with your own keys',
    )
    .option(
      '--server-managed <roles>',
      'roles whose keys the server holds (default: found out from the server and root)',
      serverRoles,
    )
    .example('cnabsec clone https://tuf.example.com example.com/org/app ./app')
    .example('CNABSEC_TOKEN=... cnabsec clone http://127.0.0.1:4443 example.com/org/app ./app --json')
    .action(
      runAction(
        async (
          server: string,
          name: string,
          dir: string,
          opts: KeyOptions & TokenOptions & { serverManaged?: ('snapshot' | 'timestamp')[] },
        ) => {
          const r = await cloneRepository({
            server,
            name,
            dir,
            ...(await accessOf(opts)),
            ...(opts.serverManaged === undefined ? {} : { managed: opts.serverManaged }),
            lockWaitMs: lockWaitMs(),
          });
          if (opts.json) {
            printJson({
              name: r.name,
              location: r.location,
              server: { url: r.server, managed: r.managed },
              root: { version: r.rootVersion, keyids: [...r.rootKeyids].sort() },
              updated: r.updated,
            });
            return;
          }
          printLine(`cloned ${r.name} from ${r.server} into ${dir}: ${updatedLine(r)}`);
          printLine(
            `  root v${r.rootVersion} keys ${r.rootKeyids.map((k) => k.slice(0, 8)).join(' ')}: compare them with the owner's (trusted on first use)`,
          );
          printLine(
            `next: stage a change (cnabsec bundle add ${dir} <tag> ...) signed with your key, then cnabsec publish ${dir}`,
          );
        },
      ),
    );
}
