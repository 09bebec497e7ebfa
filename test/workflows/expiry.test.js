// The expiry rules of issue 12 item 5: periods under the refresh rule are refused, and
// publish/refresh never write metadata that is already expired (ROLE_EXPIRED naming role and
// version, with a hint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import {
  FsMetadataStore,
  LocalRepository,
  MIN_REFRESHED_EXPIRY,
  REFRESH_INTERVAL,
  checkExpiryPolicy,
  publish,
  refresh,
} from '../../dist/tuf/index.js';
import { applyInit, planInit } from '../../dist/workflows/index.js';
import { snapshotTree } from '../helpers/cli.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const pp = fixedPassphrases();
const DAY = 86_400_000;

test('checkExpiryPolicy: snapshot and timestamp need at least twice the refresh interval', () => {
  assert.equal(MIN_REFRESHED_EXPIRY, 2 * REFRESH_INTERVAL);
  assert.deepEqual(checkExpiryPolicy({ timestamp: MIN_REFRESHED_EXPIRY, root: 1 }), {
    timestamp: MIN_REFRESHED_EXPIRY,
    root: 1,
  });
  for (const role of ['snapshot', 'timestamp'])
    assert.throws(
      () => checkExpiryPolicy({ [role]: MIN_REFRESHED_EXPIRY - 1 }),
      (e) => {
        assert.equal(e.code, 'EXPIRY_TOO_SHORT');
        assert.equal(e.details.role, role);
        assert.match(e.message, new RegExp(`^${role} expiry 7199s is shorter than 2h`));
        return true;
      },
    );
});

async function repoAt(t, now, expiry) {
  const work = await tempDir(t, 'cnabsec-wf-exp-');
  const store = new KeyStore(path.join(work, 'home'));
  const dir = path.join(work, 'repo');
  await applyInit(await planInit({ dir, name: 'example.com/org/exp', expiry }), {
    keyStore: store,
    passphrases: pp,
    now,
  });
  const signers = async (role, keyid) =>
    (await store.has(keyid)) ? store.signer(keyid, pp, role) : undefined;
  return { work, signers, open: () => LocalRepository.open(new FsMetadataStore(dir)) };
}

test('publish refuses a staged role that expired meanwhile; nothing is written', async (t) => {
  const { work, signers, open } = await repoAt(t, new Date(Date.now() - 2 * DAY + 3_600_000), {
    targets: '2d',
  });
  // targets v1 was staged with a two-day period almost two days ago: expired in an hour
  const before = await snapshotTree(work);
  await assert.rejects(publish(await open(), { signers, now: new Date(Date.now() + 2 * 3_600_000) }), (e) => {
    assert.equal(e.code, 'ROLE_EXPIRED');
    assert.match(e.message, /^staged targets v1 expired at /);
    assert.deepEqual([e.details.role, e.details.version], ['targets', 1]);
    assert.match(e.hint, /cnabsec resign <repo> targets/);
    return true;
  });
  assert.deepEqual(await snapshotTree(work), before);
});

test('refresh refuses while a published role is expired; nothing is written', async (t) => {
  const past = new Date(Date.now() - DAY / 2);
  const { work, signers, open } = await repoAt(t, past, { targets: '1d' });
  await publish(await open(), { signers, now: past });
  const before = await snapshotTree(work);
  const later = new Date(Date.now() + DAY);
  await assert.rejects(refresh(await open(), { signers, force: true, now: later }), (e) => {
    assert.equal(e.code, 'ROLE_EXPIRED');
    assert.match(e.message, /^targets v1 expired at /);
    assert.equal(e.details.staged, false);
    return true;
  });
  assert.deepEqual(await snapshotTree(work), before);
});
