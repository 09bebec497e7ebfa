// The library side of `cnabsec reset` and `cnabsec policy set` (issue 12 items 3 and 5): plan
// and apply on an in-memory repository, without the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyObjectSigner, generateKeyPair } from '../../dist/crypto/index.js';
import {
  LocalRepository,
  MemoryMetadataStore,
  MIN_EXPIRY_SECONDS,
  addTarget,
  exactDuration,
  parseExpiryChanges,
  planReset,
  publish,
  resetStaged,
  setExpiryPolicy,
  showExpiryPolicy,
} from '../../dist/tuf/index.js';

const DAY = 86_400;

async function repository({ published = true } = {}) {
  const signer = new KeyObjectSigner(generateKeyPair('ed25519').privateKey);
  const roles = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    roles[role] = { keys: [signer.publicKey], threshold: 1 };
  const store = new MemoryMetadataStore('mem');
  const repo = await LocalRepository.create(store, { name: 'example.com/org/lib', roles });
  if (published) await publish(repo, { signers: async () => signer });
  return { repo, store };
}

test('resetStaged: dry run keeps the staged version; reset drops it, the published one stays', async () => {
  const { repo, store } = await repository();
  addTarget(repo, 'example.com/org/lib:v1', { length: 1, hashes: { sha256: 'ab'.repeat(32) } });
  await repo.saveStaged();
  const dry = await resetStaged(repo, { dryRun: true });
  assert.deepEqual(dry.roles, [{ role: 'targets', version: 2, publishedVersion: 1 }]);
  assert.equal(repo.staged.has('targets'), true);
  const plan = await resetStaged(repo);
  assert.equal(plan.dryRun, false);
  assert.equal(repo.staged.size, 0);
  const reopened = await LocalRepository.open(store);
  assert.equal(reopened.staged.size, 0);
  assert.equal(reopened.current('targets').signed.version, 1);
  assert.deepEqual((await planReset(reopened)).roles, []);
});

test('planReset refuses a repository never published (REPO_NOT_PUBLISHED)', async () => {
  const { repo } = await repository({ published: false });
  await assert.rejects(planReset(repo), { code: 'REPO_NOT_PUBLISHED' });
});

test('parseExpiryChanges and setExpiryPolicy: durations, the shortest period, nothing to change', async () => {
  assert.deepEqual(parseExpiryChanges({ timestamp: '2d', delegated: '36h' }), {
    timestamp: 2 * DAY,
    delegated: 36 * 3600,
  });
  assert.throws(() => parseExpiryChanges({ root: 'soon' }), { code: 'INVALID_DURATION' });
  assert.throws(() => parseExpiryChanges({ snapshot: `${MIN_EXPIRY_SECONDS - 1}s` }), {
    code: 'EXPIRY_TOO_SHORT',
  });
  assert.deepEqual(parseExpiryChanges({ snapshot: `${MIN_EXPIRY_SECONDS}s` }), {
    snapshot: MIN_EXPIRY_SECONDS,
  });
  const { repo, store } = await repository();
  await assert.rejects(setExpiryPolicy(repo, {}), { code: 'NOTHING_TO_CHANGE' });
  await assert.rejects(setExpiryPolicy(repo, { timestamp: 60 }), { code: 'EXPIRY_TOO_SHORT' });
  await assert.rejects(setExpiryPolicy(repo, { root: 0 }), { code: 'INVALID_DURATION' });
  const r = await setExpiryPolicy(repo, { targets: 90 * DAY });
  assert.deepEqual(r.changes, [{ role: 'targets', before: 30 * DAY, after: 90 * DAY }]);
  const reopened = await LocalRepository.open(store);
  assert.equal(reopened.config.expiry.targets, 90 * DAY);
  assert.equal(showExpiryPolicy(reopened).periods.targets, '90d');
  assert.deepEqual([exactDuration(36 * 3600), exactDuration(90), exactDuration(7200)], ['36h', '90s', '2h']);
});
