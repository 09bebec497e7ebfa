// The fuzz gate (CI portion of fuzz/): a few hundred seeded cases per target, run in child
// processes under the watchdog; any crash (an error that is not a CnabsecError), wrapped engine
// error, case over 2 s, hang or RSS over 1 GiB fails. Failing inputs are saved under
// .fuzz-findings/<target>/ — replay one with `npm run fuzz -- --replay <file>.json`.
// CNABSEC_FUZZ_CASES (per target) and CNABSEC_FUZZ_SEED change the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { failures, runCampaign, table } from '../../fuzz/engine.js';
import { TARGETS } from '../../fuzz/targets/index.js';

const PER_TARGET = Number(process.env.CNABSEC_FUZZ_CASES ?? 300);
const SEED = Number(process.env.CNABSEC_FUZZ_SEED ?? 1);
const FINDINGS = fileURLToPath(new URL('../../.fuzz-findings', import.meta.url));

test(
  `fuzz gate: ${PER_TARGET} cases per target, seed ${SEED}, find nothing`,
  { timeout: 900_000 },
  async () => {
    const stats = await runCampaign(Object.keys(TARGETS), PER_TARGET, {
      seed: SEED,
      jobs: 2,
      hangMs: 5000,
      findingsDir: FINDINGS,
      allowWrapped: process.env.CNABSEC_FUZZ_ALLOW_WRAPPED === '1',
    });
    for (const s of stats) assert.equal(s.cases, PER_TARGET, `${s.target}: every case ran`);
    const found = stats
      .filter((s) => s.signatures.size > 0)
      .map(
        (s) =>
          `${s.target}:\n${[...s.signatures]
            .map(
              ([sig, e]) =>
                `  ${e.count}x ${sig}${e.first?.file ? `\n     ${e.first.label} → ${e.first.file}` : ''}`,
            )
            .join('\n')}`,
      );
    const total = stats.reduce((n, s) => n + failures(s), 0);
    assert.equal(
      total,
      0,
      `${table(stats)}\n\n${found.join('\n')}\n\nreplay: npm run fuzz -- --replay <file>.json`,
    );
  },
);
