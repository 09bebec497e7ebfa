// workflows/rotation, recover and resign as a library: a plan validates with stand-in keys and
// generates nothing; apply does what the plan previewed, and removes the keys it generated
// when the change fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository, publish } from '../../dist/tuf/index.js';
import {
  applyDelegation,
  applyInit,
  applyRecovery,
  applyResign,
  applyRotation,
  planDelegation,
  planInit,
  planRecovery,
  planResign,
  planRotation,
} from '../../dist/workflows/index.js';
import { snapshotTree } from '../helpers/cli.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const pp = fixedPassphrases();

async function published(t) {
  const work = await tempDir(t, 'cnabsec-wf-rot-');
  const home = path.join(work, 'home');
  const dir = path.join(work, 'repo');
  const store = new KeyStore(home);
  await applyInit(
    await planInit({ dir, name: 'example.com/org/app', roles: { root: { count: 2, threshold: 1 } } }),
    {
      keyStore: store,
      passphrases: pp,
    },
  );
  const signers = async (role, keyid) =>
    (await store.has(keyid)) ? store.signer(keyid, pp, role) : undefined;
  const open = () => LocalRepository.open(new FsMetadataStore(dir));
  await publish(await open(), { signers });
  return { work, home, dir, store, signers, open };
}

const keyCount = async (home) => (await readdir(path.join(home, 'keys'))).length;

test('planRotation refuses bad changes and writes nothing, generates no key', async (t) => {
  const { work, open } = await published(t);
  const repo = await open();
  const before = await snapshotTree(work);
  const cases = [
    ['targets/nope', {}, 'ROLE_UNKNOWN'],
    ['Bad Role', {}, 'INVALID_ROLE_NAME'],
    ['root', { add: ['new'], keyType: 'dsa' }, 'KEY_UNSUPPORTED_TYPE'],
    ['root', { threshold: 5, add: ['new'] }, 'THRESHOLD_NOT_MET'],
    ['targets', { remove: ['00000000'] }, 'KEY_NOT_IN_ROLE'],
  ];
  for (const [role, opts, code] of cases)
    await assert.rejects(planRotation(repo, role, opts), (e) => {
      assert.equal(e.code, code, `${role} ${JSON.stringify(opts)}: ${e.code} ${e.message}`);
      return true;
    });
  assert.deepEqual(await snapshotTree(work), before);
  assert.equal(repo.staged.size, 0);
});

test('the rotation plan is what applyRotation stages', async (t) => {
  const { open, store, home, dir } = await published(t);
  const repo = await open();
  const oldRoot = repo.root.signed.roles.root.keyIDs;
  const plan = await planRotation(repo, 'root', {
    add: ['new'],
    remove: [oldRoot[0]],
    threshold: 2,
    keyStore: store,
  });
  assert.equal(plan.preview.dryRun, true);
  assert.equal(repo.staged.size, 0, 'the plan stages nothing');
  const keysBefore = await keyCount(home);
  const done = await applyRotation(repo, plan, { keyStore: store, passphrases: pp });
  assert.equal(await keyCount(home), keysBefore + 1);
  const shape = (p) => ({
    role: p.role,
    delegator: p.delegator,
    before: p.before,
    threshold: p.after.threshold,
    kept: p.after.keyids.filter((k) => !p.added.includes(k)).sort(),
    added: p.added.length,
    removed: p.removed,
    signing: p.signing.map((s) => [s.role, s.version, s.authorities.length]),
    clients: p.clients,
  });
  assert.deepEqual(shape({ ...done, clients: done.clients }), shape(plan.preview));
  assert.equal(done.dryRun, false);
  const saved = await LocalRepository.open(new FsMetadataStore(dir));
  assert.deepEqual(saved.root.signed.roles.root.keyIDs.sort(), [...done.after.keyids].sort());
});

test('applyRotation removes the keys it generated when a later key fails', async (t) => {
  const { open, store, home, work } = await published(t);
  const repo = await open();
  const plan = await planRotation(repo, 'targets', { add: ['new', 'new'], keyStore: store });
  const before = await snapshotTree(work);
  let n = 0;
  const failing = async () => {
    if (++n === 2) throw new Error('no second passphrase');
    return 'pw';
  };
  await assert.rejects(
    applyRotation(repo, plan, { keyStore: store, passphrases: failing }),
    /no second passphrase/,
  );
  assert.deepEqual(await snapshotTree(work), before);
  assert.equal(repo.staged.size, 0);
  assert.ok((await keyCount(home)) > 0);
});

test('planDelegation checks with stand-in keys; applyDelegation stages it', async (t) => {
  const { open, store, work } = await published(t);
  const repo = await open();
  const before = await snapshotTree(work);
  await assert.rejects(planDelegation(repo, 'targets/releases', { paths: ['x:*'], threshold: 2 }), {
    code: 'THRESHOLD_NOT_MET',
  });
  const plan = await planDelegation(repo, 'targets/releases', {
    paths: ['example.com/org/app:*'],
    keyStore: store,
  });
  assert.deepEqual(await snapshotTree(work), before);
  const info = await applyDelegation(repo, plan, { keyStore: store, passphrases: pp });
  assert.deepEqual(
    [info.role, info.parent, info.threshold, info.keyids.length],
    ['targets/releases', 'targets', 1, 1],
  );
  assert.ok(await store.has(info.keyids[0]));
});

test('planResign: snapshot/timestamp and unknown roles are refused; applyResign stages a new version', async (t) => {
  const { open } = await published(t);
  const repo = await open();
  assert.throws(() => planResign(repo, 'timestamp'), { code: 'WORKFLOW_ROLE_REFUSED' });
  assert.throws(() => planResign(repo, 'targets/x'), { code: 'ROLE_UNKNOWN' });
  assert.throws(() => planResign(repo, 'targets', '3x'), { code: 'INVALID_DURATION' });
  const now = new Date('2030-01-01T00:00:00Z');
  const r = await applyResign(repo, planResign(repo, 'targets', '60d'), now);
  assert.deepEqual(r, { role: 'targets', version: 2, expires: '2030-03-02T00:00:00Z' });
  assert.equal(repo.staged.get('targets').signed.version, 2);
});

test('planRecovery refuses reused root keys without generating; applyRecovery publishes what it planned', async (t) => {
  const { open, store, home, work, signers } = await published(t);
  const repo = await open();
  const oldRoot = repo.root.signed.roles.root.keyIDs;
  const before = await snapshotTree(work);
  await assert.rejects(planRecovery(repo, { rootKeys: ['new', oldRoot[0]], keyStore: store }), {
    code: 'RECOVERY_KEY_REUSED',
  });
  await assert.rejects(planRecovery(repo, { rootKeys: ['new'], rotate: ['targets/releases'] }), {
    code: 'INVALID_ARGUMENT',
  });
  await assert.rejects(planRecovery(repo, { rootKeys: [] }), { code: 'INVALID_ARGUMENT' });
  const plan = await planRecovery(repo, { rootKeys: ['new', 'new'], threshold: 2, rotate: ['targets'] });
  assert.deepEqual(await snapshotTree(work), before);
  const keysBefore = await keyCount(home);
  const out = path.join(work, 'package');
  const r = await applyRecovery(repo, plan, { keyStore: store, passphrases: pp, signers, out });
  assert.equal(await keyCount(home), keysBefore + 3);
  assert.equal(r.plan.version, plan.preview.version);
  assert.deepEqual(
    r.plan.changes.map((c) => [c.role, c.after.threshold, c.after.keyids.length, c.removed]),
    plan.preview.changes.map((c) => [c.role, c.after.threshold, c.after.keyids.length, c.removed]),
  );
  assert.deepEqual(r.package.files, ['root.json', 'README.txt']);
  const after = await open();
  assert.equal(after.published.get('root').signed.version, plan.preview.version);
  assert.ok(after.root.signed.roles.root.keyIDs.every((k) => !oldRoot.includes(k)));
});
