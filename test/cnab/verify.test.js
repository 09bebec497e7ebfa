// The doc 303 workflow for bundles given as files: one error code per failing step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { verifyBundle } from '../../dist/cnab/index.js';
import { addTarget } from '../../dist/tuf/index.js';
import { Sim, NAME } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const BUNDLE = Buffer.from(
  '{"invocationImages":[],"name":"demo","schemaVersion":"v1.0.0","version":"1.0.0"}',
);

async function setup(t, { custom, now } = {}) {
  const sim = await Sim.create(t, now ? { now } : {});
  const sha256 = createHash('sha256').update(BUNDLE).digest('hex');
  addTarget(sim.repo, `${NAME}:v1`, {
    length: BUNDLE.length,
    hashes: { sha256 },
    ...(custom ? { custom } : {}),
  });
  await sim.publish(now ? { now: new Date(now.getTime() + DAY) } : {});
  const dir = await tempDir(t);
  const file = path.join(dir, 'bundle.json');
  await writeFile(file, BUNDLE);
  return { sim, file, dir };
}

test('a matching thin bundle verifies and returns the bundle.json', async (t) => {
  const { sim, file } = await setup(t);
  const r = await verifyBundle({
    target: `${NAME}:v1`,
    home: '/nonexistent',
    thin: file,
    client: await sim.client(),
  });
  assert.equal(r.bundle.name, 'demo');
  assert.equal(r.length, BUNDLE.length);
});

const failures = [
  [
    'altered content, same length',
    (b) => Buffer.from(b.toString().replace('demo', 'evil')),
    'BUNDLE_HASH_MISMATCH',
  ],
  [
    'different length',
    (b) => Buffer.from(b.toString().replace('demo', 'demo-other')),
    'BUNDLE_HASH_MISMATCH',
  ],
  // the same bundle, only not canonical: said so (issue 12), test/cnab/verify-not-canonical
  ['trailing space', (b) => Buffer.concat([b, Buffer.from(' ')]), 'BUNDLE_NOT_CANONICAL'],
];
for (const [what, mutate, code] of failures) {
  test(`step 3 refuses: ${what} → ${code}`, async (t) => {
    const { sim, file } = await setup(t);
    await writeFile(file, mutate(BUNDLE));
    await assert.rejects(
      verifyBundle({ target: `${NAME}:v1`, home: '/x', thin: file, client: await sim.client() }),
      (e) => {
        assert.equal(e.code, code);
        assert.equal(e.details.step, 3);
        assert.equal(e.details.trusted.length, BUNDLE.length);
        return true;
      },
    );
  });
}

test('step 1: unknown tag → TARGET_NOT_FOUND; expired metadata → TUF_UPDATE_FAILED with the TUF cause', async (t) => {
  const { sim, file } = await setup(t);
  await assert.rejects(
    verifyBundle({ target: `${NAME}:v2`, home: '/x', thin: file, client: await sim.client() }),
    {
      code: 'TARGET_NOT_FOUND',
    },
  );
  const old = await setup(t, { now: new Date(Date.now() - 3 * DAY) });
  await assert.rejects(
    verifyBundle({ target: `${NAME}:v1`, home: '/x', thin: old.file, client: await old.sim.client() }),
    (e) => {
      assert.equal(e.code, 'TUF_UPDATE_FAILED');
      assert.equal(e.details.tufCode, 'TUF_EXPIRED_METADATA');
      assert.equal(e.cause.code, 'TUF_EXPIRED_METADATA');
      return true;
    },
  );
});

test('steps 4-5: a target whose in-toto list has no links for it is refused, never passed unverified', async (t) => {
  const { sim, file } = await setup(t, { custom: { 'in-toto': [`${NAME}/in-toto-metadata/root.layout`] } });
  await assert.rejects(
    verifyBundle({ target: `${NAME}:v1`, home: '/x', thin: file, client: await sim.client() }),
    (e) => {
      assert.equal(e.code, 'INTOTO_METADATA_MISSING');
      assert.equal(e.details.step, 4);
      return true;
    },
  );
});

test('untrusted repository → TUF_UPDATE_FAILED naming trust add', async (t) => {
  const { file, dir } = await setup(t);
  await assert.rejects(verifyBundle({ target: `${NAME}:v1`, home: dir, thin: file }), (e) => {
    assert.equal(e.code, 'TUF_UPDATE_FAILED');
    assert.match(e.hint, /trust add/);
    return true;
  });
});
