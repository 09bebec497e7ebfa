// Repository workflows of doc 302 at library level (no processes): refresh, expiry,
// status, detached threshold signing, delegation paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  refresh,
  publish,
  payload,
  appendSignature,
  signRole,
  addTarget,
  removeTarget,
  listTargets,
  repositoryStatus,
  parseDuration,
} from '../../dist/tuf/index.js';
import { Sim, NAME, newSigners } from '../helpers/sim.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('refresh is idempotent; it renews the timestamp within its window, and the snapshot when due', async (t) => {
  const sim = await Sim.create(t);
  const provider = sim.provider();
  assert.deepEqual((await refresh(sim.repo, { signers: provider })).published, []);
  assert.deepEqual((await refresh(sim.repo, { signers: provider })).published, []);
  // 13 h later the 1-day timestamp is within its default window (half its period)
  const later = new Date(Date.now() + 13 * HOUR);
  const r = await refresh(sim.repo, { signers: provider, now: later });
  assert.deepEqual(
    r.published.map((p) => `${p.role} v${p.version}`),
    ['snapshot v2', 'timestamp v2'],
  );
  assert.deepEqual((await refresh(sim.repo, { signers: provider, now: later })).published, []);
  // an explicit window: renew only what expires within 1 h
  assert.deepEqual((await refresh(sim.repo, { signers: provider, within: 3600, now: later })).published, []);
  const r2 = await refresh(sim.repo, { signers: provider, force: true });
  assert.deepEqual(
    r2.published.map((p) => p.role),
    ['timestamp'],
  );
});

test('status warns when less than a quarter of a period is left, and when expired', async (t) => {
  const sim = await Sim.create(t);
  const fresh = repositoryStatus(sim.repo);
  assert.deepEqual(fresh.warnings, []);
  const s = repositoryStatus(sim.repo, new Date(Date.now() + 19 * HOUR));
  assert.ok(
    s.warnings.some((w) => /^timestamp v1 expires in 4h/.test(w)),
    s.warnings.join('\n'),
  );
  const expired = repositoryStatus(sim.repo, new Date(Date.now() + 2 * DAY));
  const ts = expired.roles.find((r) => r.role === 'timestamp');
  assert.equal(ts.expired, true);
  assert.match(ts.warning, /expired/);
});

test('expired root at signing time: publish refuses (ROLE_EXPIRED), resign then publish works', async (t) => {
  const sim = await Sim.create(t, { now: new Date(Date.now() - 400 * DAY) });
  sim.addBundle('v1');
  await assert.rejects(sim.publish(), (e) => {
    assert.equal(e.code, 'ROLE_EXPIRED');
    assert.equal(e.details.role, 'root');
    assert.equal(e.details.version, 1);
    assert.match(e.hint, /resign/);
    return true;
  });
  sim.repo.edit('root', () => {}); // what `cnabsec resign <repo> root` does
  await sim.publish();
  assert.equal(sim.repo.published.get('root').signed.version, 2);
  assert.ok(await (await sim.client(1)).getTarget(`${NAME}:v1`));
});

test('threshold signing: publish names the missing keys; payload + detached signature complete it', async (t) => {
  const sim = await Sim.create(t, { keys: { targets: 3 }, thresholds: { targets: 2 } });
  const ids = sim.repo.root.signed.roles.targets.keyIDs;
  sim.addBundle('v1');
  // only one targets key available here
  const only = new Set([
    ids[0],
    ...['root', 'snapshot', 'timestamp'].flatMap((r) => sim.repo.root.signed.roles[r].keyIDs),
  ]);
  await assert.rejects(sim.publish({ only }), (e) => {
    assert.equal(e.code, 'THRESHOLD_NOT_MET');
    assert.match(e.message, /targets: 1\/2 valid signatures/);
    assert.deepEqual(e.details.needed.targets.sort(), ids.slice(1).sort());
    return true;
  });
  assert.equal(sim.repo.published.get('targets').signed.version, 1, 'nothing published');
  // a second developer signs the exact payload elsewhere
  const other = sim.signers.get(ids[1]);
  const sig = Buffer.from(await other.sign(payload(sim.repo, 'targets'))).toString('hex');
  assert.throws(() => appendSignature(sim.repo, 'targets', { keyid: ids[1], sig: '00'.repeat(64) }), {
    code: 'BAD_SIGNATURE',
  });
  const stranger = newSigners(1)[0];
  assert.throws(() => appendSignature(sim.repo, 'targets', { keyid: stranger.keyid, sig }), {
    code: 'KEY_NOT_AUTHORIZED',
  });
  await assert.rejects(signRole(sim.repo, 'targets', stranger), { code: 'KEY_NOT_AUTHORIZED' });
  appendSignature(sim.repo, 'targets', { keyid: ids[1], sig });
  await publish(sim.repo, { signers: sim.provider(only) });
  assert.ok(await (await sim.client()).getTarget(`${NAME}:v1`));
});

test('an edit after signing clears the signatures (they no longer cover the content)', async (t) => {
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  await signRole(sim.repo, 'targets', sim.signers.get(sim.repo.root.signed.roles.targets.keyIDs[0]));
  assert.equal(Object.keys(sim.repo.staged.get('targets').signatures).length, 1);
  sim.addBundle('v2');
  assert.equal(Object.keys(sim.repo.staged.get('targets').signatures).length, 0);
  assert.equal(sim.repo.staged.get('targets').signed.version, 2, 'one version bump per publish cycle');
});

test('delegation paths: a role cannot sign outside its paths; remove revokes a target', async (t) => {
  const sim = await Sim.create(t);
  sim.delegateReleases(1, [`${NAME}:*`]);
  assert.throws(
    () =>
      addTarget(
        sim.repo,
        'other.com/x:v1',
        { length: 1, hashes: { sha256: 'aa'.repeat(32) } },
        'targets/releases',
      ),
    { code: 'TARGET_NOT_DELEGATED' },
  );
  sim.addBundle('v1');
  await sim.publish();
  assert.deepEqual(
    listTargets(sim.repo).map((x) => [x.name, x.role]),
    [[`${NAME}:v1`, 'targets/releases']],
  );
  assert.deepEqual(removeTarget(sim.repo, `${NAME}:v1`), ['targets/releases']);
  assert.throws(() => removeTarget(sim.repo, `${NAME}:v1`), { code: 'TARGET_NOT_FOUND' });
  await sim.publish();
  await assert.rejects((await sim.client()).getTarget(`${NAME}:v1`), { code: 'TARGET_NOT_FOUND' });
});

test('durations', () => {
  assert.equal(parseDuration('30d'), 30 * 86400);
  assert.equal(parseDuration('12h'), 43200);
  for (const bad of ['', '0d', '5', '1.5d', '-1d', 'd'])
    assert.throws(() => parseDuration(bad), { code: 'INVALID_DURATION' });
});

test('formatDuration: no "-0s" for something that has just expired', async () => {
  const { formatDuration } = await import('../../dist/tuf/index.js');
  assert.equal(formatDuration(-0.4), '0s');
  assert.equal(formatDuration(-90), '-1m');
  assert.equal(formatDuration(2 * 86400 + 5), '2d');
});
