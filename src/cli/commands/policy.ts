/** `cnabsec policy set|show <repo>`: the expiry policy of a repository (cnabsec.json). */
import type { Command } from '../args.js';
import {
  exactDuration,
  parseExpiryChanges,
  POLICY_ROLES,
  setExpiryPolicy,
  showExpiryPolicy,
  type PolicyRole,
} from '../../tuf/policy-set.js';
import { withCommon, type KeyOptions } from '../common.js';
import { duration } from '../options.js';
import { openRepository, withRepository } from '../repo-common.js';
import { printJson, printLine, runAction, warn } from '../output.js';
import { policyJson } from '../json-shapes.js';

type SetOptions = KeyOptions & Partial<Record<`expires${string}`, number>>;

function optionKey(role: PolicyRole): `expires${string}` {
  return `expires${role[0]?.toUpperCase() ?? ''}${role.slice(1)}`;
}

export function register(program: Command): void {
  const policy = program.command('policy').description('expiry policy of a repository (cnabsec.json)');

  const set = withCommon(policy.command('set <repo>')).description(
    'change the expiry periods new role versions get (resign, publish, refresh); published metadata keeps its expiry',
  );
  for (const role of POLICY_ROLES)
    set.option(
      `--expires-${role} <duration>`,
      `${role === 'delegated' ? 'delegated targets roles' : role} expiry period (e.g. 30d, 12h; at least 2h)`,
      // a bad or too short duration is a usage error naming the option (exit 2): the one
      // duration syntax first (options.ts), then the policy's minimum
      (text: string) => parseExpiryChanges({ [role]: duration(text) })[role],
    );
  set
    .example('cnabsec policy set ./repo --expires-timestamp 2d --expires-snapshot 7d')
    .example('cnabsec policy set ./repo --expires-targets 90d --expires-root 365d --expires-delegated 90d')
    .action(
      runAction(async (dir: string, opts: SetOptions) => {
        // Every duration was checked by its option parser: a bad one writes nothing.
        const changes = Object.fromEntries(
          POLICY_ROLES.filter((r) => opts[optionKey(r)] !== undefined).map((r) => [r, opts[optionKey(r)]]),
        );
        const result = await withRepository(dir, (repo) => setExpiryPolicy(repo, changes));
        if (opts.json) printJson({ ...policyJson(result.name, result.expiry), changes: result.changes });
        else {
          for (const c of result.changes)
            printLine(`${c.role.padEnd(9)} ${exactDuration(c.before)} -> ${exactDuration(c.after)}`);
          printLine(
            `new versions of these roles expire on the new periods; run cnabsec resign / refresh to apply now`,
          );
        }
        for (const w of result.warnings) warn(w);
      }),
    );

  withCommon(policy.command('show <repo>'))
    .description('the expiry period of each role')
    .example('cnabsec policy show ./repo')
    .example('cnabsec policy show ./repo --json')
    .action(
      runAction(async (dir: string, opts: KeyOptions) => {
        const p = showExpiryPolicy(await openRepository(dir));
        if (opts.json) printJson(policyJson(p.name, p.expiry));
        else for (const r of POLICY_ROLES) printLine(`${r.padEnd(9)} ${p.periods[r]}`);
      }),
    );
}
