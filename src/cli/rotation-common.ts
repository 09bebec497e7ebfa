/** CLI plumbing shared by `key rotate`, `delegation` and `recover`: printing plans (the workflows are in ../workflows). */
import type { LocalRepository } from '../tuf/repository.js';
import { expiryWarnings } from '../tuf/status.js';
import { describeKeySetChange, type KeySetChange } from '../tuf/keyset.js';
import type { RotationPlan, StagedSigning } from '../tuf/rotation.js';
import { printLine, warn } from './output.js';

export function signingLines(signing: StagedSigning[]): string[] {
  const lines = ['signatures needed before publish:'];
  for (const s of signing) {
    const needs = s.authorities.map(
      (a) => `${a.threshold} of [${a.keyids.map((k) => k.slice(0, 8)).join(' ')}] (${a.source})`,
    );
    lines.push(`  ${s.role} v${s.version}: ${needs.join(' AND ')}`);
  }
  return lines;
}

export function printChanges(changes: KeySetChange[], signing: StagedSigning[], clients: string[]): void {
  for (const c of changes) for (const l of describeKeySetChange(c)) printLine(l);
  for (const l of signingLines(signing)) printLine(l);
  printLine('clients:');
  for (const c of clients) printLine(`  - ${c}`);
}

export function printPlan(plan: RotationPlan, dir: string): void {
  printLine(`${plan.dryRun ? 'dry run (nothing written): ' : 'staged: '}key change of ${plan.role}`);
  printChanges([plan], plan.signing, plan.clients);
  if (!plan.dryRun) printLine(`next: cnabsec publish ${dir}  (signs with the keys available here)`);
}

/** Warn about roles that expire soon or have expired (status and every signing command). */
export function warnExpiring(repo: LocalRepository, now = new Date()): void {
  for (const w of expiryWarnings(repo, now)) warn(w);
}
