// Signature and version attacks (issue 15 item 5) against the real stack over HTTP, each
// refused with its code and rule and nothing stored (./kit.js assertNothingStored):
// signatures below the threshold, by keys of another role, by a stranger, one key's signature
// repeated to reach a threshold of two; a version rollback and an equal version; a replayed
// old upload (the exact bytes of an earlier accepted one); a delegated role signing targets
// outside its paths; a snapshot listing versions the server does not have; a root rotation
// not signed by the old root, or not by the new one; a timestamp uploaded to a repository
// whose timestamp the server signs. api-refused.test.js has one case of each refusal code;
// these are the variants an attacker tries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '@tufjs/canonical-json';
import { NAME, newSigners } from '../../helpers/sim.js';
import { forge, part, roleSigners, stateOf } from '../../helpers/upload.js';
import { addBundleUpload, fullUpload, parseJson, serverManagedRepo } from '../../helpers/service.js';
import { httpUpload } from '../../helpers/server-app.js';
import { assertNothingStored, published } from './kit.js';

const replace = (files, role, bytes) => files.map((p) => (p.role === role ? { role, bytes } : p));

/** Upload `files`; it is refused with `status`, and for 400 the refusal `code`/`role`/`rule`. */
async function refused(srv, files, { status = 400, code, role, rule }, what) {
  const res = await httpUpload(srv.url, NAME, files);
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
  const [e] = res.json.errors;
  if (status === 400) {
    assert.equal(e.code, 'UPLOAD_REFUSED', `${what}: ${e.message}`);
    assert.equal(e.detail.code, code, `${what}: ${e.message}`);
    if (role !== undefined) assert.equal(e.detail.role, role, `${what}: ${e.message}`);
    if (rule !== undefined) assert.equal(e.detail.rule, rule, `${what}: ${e.message}`);
  } else assert.equal(e.code, code, `${what}: ${e.message}`);
  assert.doesNotMatch(e.message, /\n/);
}

/** `bytes` (a role) with its signatures replaced by signatures of `signers` over its signed part. */
async function signedBy(bytes, signers, { keyids } = {}) {
  const json = parseJson(bytes);
  const data = Buffer.from(canonicalize(json.signed));
  json.signatures = [];
  for (const [i, s] of signers.entries())
    json.signatures.push({
      keyid: keyids?.[i] ?? s.keyid,
      sig: Buffer.from(await s.sign(data)).toString('hex'),
    });
  return Buffer.from(JSON.stringify(json));
}

test('signatures: none, a stranger, keys of another role, a signature under another key id: BAD_TARGETS threshold, nothing stored', async (t) => {
  const { srv, sim, next } = await published(t);
  const targets = part(next, 'targets').bytes;
  const [stranger] = newSigners(1);
  const [rootKey] = roleSigners(sim, 'root');
  const [snapshotKey] = roleSigners(sim, 'snapshot');
  const [targetsKey] = roleSigners(sim, 'targets');
  const cases = [
    ['no signature', await signedBy(targets, [])],
    ['a stranger', await signedBy(targets, [stranger])],
    ['the root key', await signedBy(targets, [rootKey])],
    ['the snapshot key', await signedBy(targets, [snapshotKey])],
    ['root, snapshot and a stranger', await signedBy(targets, [rootKey, snapshotKey, stranger])],
    // a stranger's signature filed under the targets key's id
    [
      'a stranger under the targets key id',
      await signedBy(targets, [stranger], { keyids: [targetsKey.keyid] }),
    ],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, bytes] of cases)
      await refused(
        srv,
        replace(next, 'targets', bytes),
        { code: 'BAD_TARGETS', role: 'targets', rule: 'threshold' },
        what,
      );
  });
  assert.equal((await httpUpload(srv.url, NAME, next)).status, 200);
});

test('signatures: one key signing three times does not make a threshold of two (MALFORMED: one signature per key id)', async (t) => {
  const { srv } = await published(t);
  const repo = 'example.com/org/two-keys';
  const asServer = { service: srv.service, keys: srv.keys, now: srv.now };
  const sim = await serverManagedRepo(t, asServer, {
    name: repo,
    now: srv.now(),
    thresholds: { targets: 1 },
  });
  assert.equal((await httpUpload(srv.url, repo, fullUpload(sim))).status, 200);
  // rotate root to v2 with two targets keys and a targets threshold of two
  const signers = newSigners(2);
  sim.addSigners(signers);
  const state = stateOf(sim);
  const [rootKey] = roleSigners(sim, 'root');
  const root2 = await forge(
    state.root,
    (s) => {
      s.version = 2;
      for (const k of signers) s.keys[k.keyid] = k.publicKey.toJSON?.() ?? k.publicKey;
      s.roles.targets = { keyids: signers.map((k) => k.keyid), threshold: 2 };
    },
    [rootKey],
  );
  const release = async (targetsSigners) => {
    const targets2 = await forge(state.targets, (s) => (s.version += 1), targetsSigners);
    const snap = await forge(
      state.snapshot,
      (s) => {
        s.version += 1;
        s.meta['targets.json'] = { version: parseJson(targets2).signed.version };
      },
      roleSigners(sim, 'snapshot'),
    );
    return [
      { role: 'root', bytes: root2 },
      { role: 'targets', bytes: targets2 },
      { role: 'snapshot', bytes: snap },
    ];
  };
  const before = await srv.store.currentState(repo);
  const res = await httpUpload(srv.url, repo, await release([signers[0], signers[0], signers[0]]));
  assert.equal(res.status, 400, JSON.stringify(res.json));
  const [e] = res.json.errors;
  // refused outright as metadata (tuf-js: one signature per key id), so never counted twice
  assert.equal(e.detail.code, 'MALFORMED', e.message);
  assert.equal(e.detail.role, 'targets', e.message);
  assert.match(e.message, /multiple signatures found for keyid/);
  assert.deepEqual(await srv.store.currentState(repo), before);
  // both keys: accepted
  const ok = await httpUpload(srv.url, repo, await release(signers));
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
});

test('versions: rollback, equal version, a replayed old upload (exact bytes) are refused, nothing stored', async (t) => {
  const { srv, sim, first, next } = await published(t);
  assert.equal((await httpUpload(srv.url, NAME, next)).status, 200);
  const later = await addBundleUpload(sim, 'v2', ['timestamp'], srv.now());
  const tv = parseJson(part(later, 'targets').bytes).signed.version;
  await assertNothingStored(srv, async () => {
    // replays: the first upload (targets v1 under v2) and the last accepted one
    await refused(srv, first, { status: 409, code: 'VERSION_CONFLICT' }, 'replay of the first upload');
    await refused(srv, next, { status: 409, code: 'VERSION_CONFLICT' }, 'replay of the last upload');
    await refused(
      srv,
      [part(first, 'targets')],
      { code: 'OLD_VERSION', role: 'targets' },
      'replayed targets v1 alone',
    );
    // a rollback re-signed by the right key: the version is what is wrong
    const rolled = await forge(
      part(later, 'targets').bytes,
      (s) => (s.version = 1),
      roleSigners(sim, 'targets'),
    );
    const snapRolled = await forge(
      part(later, 'snapshot').bytes,
      (s) => (s.meta['targets.json'] = { version: 1 }),
      roleSigners(sim, 'snapshot'),
    );
    await refused(
      srv,
      [
        { role: 'targets', bytes: rolled },
        { role: 'snapshot', bytes: snapRolled },
      ],
      { code: 'OLD_VERSION', role: 'targets' },
      'targets rolled back to v1',
    );
    // equal version with other content: a lost race or a fork, 409
    const equal = await forge(
      part(later, 'targets').bytes,
      (s) => (s.version = tv - 1),
      roleSigners(sim, 'targets'),
    );
    const snapEqual = await forge(
      part(later, 'snapshot').bytes,
      (s) => (s.meta['targets.json'] = { version: tv - 1 }),
      roleSigners(sim, 'snapshot'),
    );
    const res = await httpUpload(srv.url, NAME, [
      { role: 'targets', bytes: equal },
      { role: 'snapshot', bytes: snapEqual },
    ]);
    assert.ok([400, 409].includes(res.status), JSON.stringify(res.json));
  });
  assert.equal((await httpUpload(srv.url, NAME, later)).status, 200);
});
