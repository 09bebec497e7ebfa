/**
 * The rules every role of an upload is held to (./validate.ts, ./validate-meta.ts): signed by a
 * threshold of its authority, a newer version, not expired; and the walk state they share.
 */
import type { Metadata, Root } from '@tufjs/models';
import type { DelegatedRole } from '@tufjs/models/dist/role.js';
import { authorityStatus, type Authority } from '../tuf/authority.js';
import { badCode, refuse, type ParsedRole } from './upload-parse.js';

/** Everything the checks need: the stored state, the upload, the trusted root after the upload. */
export interface Walk {
  current: Map<string, ParsedRole>;
  uploaded: Map<string, ParsedRole>;
  root: Metadata<Root>;
  now: Date;
  /** Key ids the server holds, per online role. */
  held: { snapshot: ReadonlySet<string>; timestamp: ReadonlySet<string> };
}

/** One targets role that will be current, with the authority that signs it. */
export interface TargetsNode {
  role: string;
  parsed: ParsedRole;
  uploaded: boolean;
  authority: Authority;
  /** The delegating role and its delegation entry; undefined for top-level targets. */
  parent?: { role: string; delegation: DelegatedRole };
}

/** The keys and threshold `root` gives a top-level role. */
export function rootAuthority(root: Metadata<Root>, role: string, label = ''): Authority {
  const r = root.signed.roles[role];
  if (r === undefined)
    throw refuse('BAD_ROOT', 'root', root.signed.version, 'roles', `root lists no ${role} role`);
  return {
    source: `root v${root.signed.version}${label}`,
    keys: root.signed.keys,
    keyIDs: r.keyIDs,
    threshold: r.threshold,
  };
}

/** TUF §5.3.4 / §5.4.2 / §5.5.3 / §5.6.3: at least `threshold` distinct authorized keys signed it. */
export function needThreshold(p: ParsedRole, authority: Authority, rule = 'threshold', kept = false): void {
  const s = authorityStatus(p.md, authority);
  if (s.met) return;
  const what = kept ? ' (the current, not uploaded, version: re-sign and upload it)' : '';
  throw refuse(
    badCode(p.role),
    p.role,
    p.md.signed.version,
    rule,
    `${s.valid.length}/${s.threshold} valid signatures of the ${authority.source} keys${what}`,
  );
}

/** Rollback protection (TUF §5.4.3, §5.5.5, §5.6.4): strictly above the current version. */
export function needNewerVersion(p: ParsedRole, current: ParsedRole | undefined): void {
  const v = p.md.signed.version;
  if (current !== undefined && v <= current.md.signed.version)
    throw refuse(
      'OLD_VERSION',
      p.role,
      v,
      'version',
      `version ${v} is not above the current ${current.md.signed.version}`,
    );
}

/** Freeze-attack protection (TUF §5.3.10, §5.4.4, §5.5.6, §5.6.5). */
export function needNotExpired(p: ParsedRole, now: Date): void {
  if (p.md.signed.isExpired(now))
    throw refuse('EXPIRED', p.role, p.md.signed.version, 'expires', `expired at ${p.md.signed.expires}`);
}
