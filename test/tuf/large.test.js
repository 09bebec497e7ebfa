// Large flat repositories: a targets.json over tuf-js's default 5 MB cap still updates,
// because the snapshot lists each role's length; (de)serialization is linear (ADR 0005).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, NAME } from '../helpers/sim.js';

test('45 000 targets (> 5 MB targets.json): snapshot lists lengths; ours and tuf-js 5 update', async (t) => {
  const sim = await Sim.create(t);
  const n = 45_000;
  sim.repo.edit('targets', (signed) => {
    for (let i = 0; i < n; i++) {
      signed.targets[`${NAME}:v${i}`] = {
        length: 1000 + i,
        hashes: { sha256: i.toString(16).padStart(64, '0') },
      };
    }
  });
  const started = Date.now();
  await sim.publish();
  const targetsBytes = sim.file('2.targets.json').length;
  assert.ok(targetsBytes > 5 * 1024 * 1024, `targets.json is ${targetsBytes} bytes`);
  const snapshot = JSON.parse(Buffer.from(sim.file('2.snapshot.json')).toString()).signed;
  assert.deepEqual(snapshot.meta['targets.json'], { version: 2, length: targetsBytes });
  const ours = await (await sim.client()).getTarget(`${NAME}:v44999`);
  assert.equal(ours.length, 1000 + 44999);
  const u = await sim.tufjs(5);
  await u.refresh();
  assert.equal((await u.getTargetInfo(`${NAME}:v123`)).length, 1123);
  t.diagnostic(`publish + two client updates of ${n} targets: ${Date.now() - started} ms`);
});
