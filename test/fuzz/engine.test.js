// The fuzzer itself: the watchdog records crashes, wrapped engine errors, slow cases, hangs and
// memory blow-ups (from a target that misbehaves on purpose) and saves reproducible inputs;
// every real target generates the same input for the same (target, seed, case) in fresh processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { failures, regenerate, runCampaign } from '../../fuzz/engine.js';
import { TARGETS } from '../../fuzz/targets/index.js';
import { tempDir } from '../helpers/tmp.js';

test(
  'the watchdog records every kind of failure and goes on after a kill',
  { timeout: 120_000 },
  async (t) => {
    const findingsDir = await tempDir(t);
    process.env.FUZZ_SELFTEST_SLOW_MS = '600';
    // hangs and blow-ups cost a kill and a respawn each: fewer of them (seed 10 draws every kind)
    process.env.FUZZ_SELFTEST_KINDS = 'ok,refuse,crash,wrapped,slow,ok,refuse,crash,wrapped,slow,hang,memory';
    t.after(() => {
      delete process.env.FUZZ_SELFTEST_SLOW_MS;
      delete process.env.FUZZ_SELFTEST_KINDS;
    });
    const [s] = await runCampaign(['selftest'], 20, {
      seed: 10,
      findingsDir,
      slowMs: 300,
      // generous: on a loaded machine touching 256 MiB of pages can take a second or more
      hangMs: 5000,
      rssLimit: 256 * 1024 * 1024,
    });
    assert.equal(s.cases, 20, 'every case is accounted for, including the killed ones');
    for (const kind of ['crash', 'wrapped', 'slow', 'hang', 'memory'])
      assert.ok(s[kind] > 0, `${kind} recorded`);
    assert.ok(s.ok > 0 && s.rejected > 0);
    assert.equal(failures(s), s.cases - s.ok - s.rejected);
    // one saved input per signature, with its description; each is the input of its case
    const files = (await readdir(path.join(findingsDir, 'selftest'))).sort();
    const infos = await Promise.all(
      files
        .filter((f) => f.endsWith('.json'))
        .map(async (f) => JSON.parse(await readFile(path.join(findingsDir, 'selftest', f), 'utf8'))),
    );
    assert.equal(infos.length, s.signatures.size);
    for (const info of infos) {
      const bin = await readFile(
        path.join(findingsDir, 'selftest', path.basename(info.replay.split(' ').at(-1), '.json') + '.bin'),
      );
      assert.ok(bin.toString('latin1').startsWith(`${info.label}:`), `${info.kind}: input saved`);
      assert.ok(['crash', 'wrapped', 'slow', 'hang', 'memory'].includes(info.kind));
      const again = await regenerate('selftest', 10, info.case);
      assert.ok(again.bytes.equals(bin), `${info.kind}: case ${info.case} regenerates its input`);
    }
  },
);

test(
  'every target makes the same input for the same (target, seed, case) in another process',
  { timeout: 180_000 },
  async () => {
    const cases = [3, 11, 40, 41];
    for (const target of Object.keys(TARGETS)) {
      const [as, bs] = await Promise.all([regenerate(target, 5, cases), regenerate(target, 5, cases)]);
      as.forEach((a, k) => {
        assert.equal(a.label, bs[k].label, `${target} case ${cases[k]}`);
        assert.ok(a.bytes.equals(bs[k].bytes), `${target} case ${cases[k]}: same bytes`);
      });
      assert.ok(
        !as[0].bytes.equals(as[1].bytes) || !as[2].bytes.equals(as[3].bytes),
        `${target}: cases differ`,
      );
    }
  },
);

test(
  'every target accepts its own unmutated seeds (the fuzz starts from valid input)',
  { timeout: 120_000 },
  async (t) => {
    const { loadTarget } = await import('../../fuzz/targets/index.js');
    const { Rng } = await import('../../fuzz/rng.js');
    for (const name of Object.keys(TARGETS)) {
      const target = await loadTarget(name);
      const ctx = await target.setup({ seed: 3, dir: await tempDir(t) });
      const controls = target.controls?.(ctx) ?? ctx.seeds;
      assert.ok(controls.length > 0, name);
      for (const c of controls)
        await target.run(ctx, { label: c.label, bytes: c.bytes }, new Rng(name, 'control'));
    }
    // python in-toto's own link files are among the in-toto seeds
    const parse = await loadTarget('intoto-parse');
    const ctx = await parse.setup({ seed: 3, dir: await tempDir(t) });
    assert.ok(ctx.seeds.some((s) => /^python:.*\.link$/.test(s.label)));
  },
);
