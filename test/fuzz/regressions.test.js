// Every input the fuzz suite ever found failing (fuzz/regressions.json: the findings of the
// first campaign before the hardening fixes, and those found since) is regenerated from its
// (target, seed, case) and run again under the watchdog: each must now be accepted or refused
// with a CnabsecError, within the time and memory bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, failures, newStats, runJob } from '../../fuzz/engine.js';

const LIST = JSON.parse(readFileSync(new URL('../../fuzz/regressions.json', import.meta.url), 'utf8')).cases;
const FINDINGS = fileURLToPath(new URL('../../.fuzz-findings/regressions', import.meta.url));

test(`fuzz regressions: the ${LIST.length} past findings pass`, { timeout: 900_000 }, async () => {
  // one worker per (target, seed), the cases of each run in order
  const groups = new Map();
  for (const c of LIST) {
    const key = `${c.target}\0${c.seed}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  const queue = [...groups.values()];
  const failed = [];
  const lane = async () => {
    for (let g = queue.shift(); g !== undefined; g = queue.shift()) {
      for (const c of g.sort((a, b) => a.case - b.case)) {
        const stats = newStats(c.target);
        const opts = { ...DEFAULTS, seed: c.seed, hangMs: 10_000, findingsDir: FINDINGS };
        await runJob({ target: c.target, from: c.case, to: c.case + 1 }, opts, stats);
        assert.equal(stats.cases, 1, `${c.target} seed ${c.seed} case ${c.case} ran`);
        if (failures(stats) > 0)
          failed.push(
            `${c.target} seed ${c.seed} case ${c.case} (${c.finding}): ${[...stats.signatures.keys()].join('; ')}`,
          );
      }
    }
  };
  await Promise.all([lane(), lane()]);
  assert.deepEqual(failed, []);
});
