// Target files stored in the repository and downloaded through TUF (layouts, keys, links).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { addTargetFile, publish, targetFilePath } from '../../dist/tuf/index.js';
import { Sim, NAME, BASE } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';

const LAYOUT = `${NAME}/in-toto-metadata/root.layout`;
const LINK = `${NAME}/in-toto-metadata/${'ab'.repeat(32)}/build.0123abcd.link`;

async function withDelegation(t) {
  const sim = await Sim.create(t);
  sim.delegateReleases();
  return sim;
}

test('files are published content-addressed and downloaded by our client and tuf-js 5/6', async (t) => {
  const sim = await withDelegation(t);
  assert.equal(await addTargetFile(sim.repo, LAYOUT, Buffer.from('{"layout":1}')), 'targets');
  assert.equal(await addTargetFile(sim.repo, LINK, Buffer.from('{"link":1}')), 'targets/releases');
  await sim.publish();
  const dir = await tempDir(t);
  const ours = await sim.client();
  for (const [name, body] of [
    [LAYOUT, '{"layout":1}'],
    [LINK, '{"link":1}'],
  ]) {
    const info = await ours.getTarget(name);
    const out = await ours.downloadTarget(info, path.join(dir, path.basename(name)));
    assert.equal(await readFile(out, 'utf8'), body);
    assert.ok(sim.store.files.has(targetFilePath(name, info.hashes.sha256)));
    for (const major of [5, 6]) {
      const u = await sim.tufjs(major, 1);
      await u.refresh();
      const ti = await u.getTargetInfo(name);
      const p = await u.downloadTarget(
        ti,
        path.join(dir, `${major}-${path.basename(name)}`),
        `${BASE}/targets`,
      );
      assert.equal(await readFile(p, 'utf8'), body);
    }
  }
  assert.ok(![...sim.store.files.keys()].some((k) => k.startsWith('staged/')), 'staged bytes cleared');
});

test('a failed publish removes the copied files; a retry publishes them', async (t) => {
  const sim = await Sim.create(t);
  await addTargetFile(sim.repo, LAYOUT, Buffer.from('v1'));
  await assert.rejects(
    publish(sim.repo, {
      signers: sim.provider(),
      beforeWrite: (f) => {
        if (f.endsWith('snapshot.json')) throw new Error('injected');
      },
    }),
    { code: 'PUBLISH_FAILED' },
  );
  assert.ok(![...sim.store.files.keys()].some((k) => k.startsWith('metadata/targets/')));
  await sim.publish();
  assert.ok([...sim.store.files.keys()].some((k) => k.startsWith('metadata/targets/')));
});

test('file names that would leave the repository are refused', async (t) => {
  const sim = await Sim.create(t);
  for (const bad of ['../x', `${NAME}/../../x`, '/etc/passwd', `${NAME}//x`, `${NAME}/./x`]) {
    await assert.rejects(addTargetFile(sim.repo, bad, Buffer.from('x')), { code: 'INVALID_ARGUMENT' }, bad);
  }
});
