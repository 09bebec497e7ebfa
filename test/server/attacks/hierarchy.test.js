// Hierarchy attacks (issue 15 item 5) against the real stack over HTTP, each refused with its
// code and rule and nothing stored: a delegated role signing targets outside its paths
// (another repository, a name that only starts like its pattern, a deeper path than `*`
// reaches); a snapshot listing versions the server does not have; a root rotation signed by
// the old root only, by the new root only, or by neither; a timestamp uploaded to a
// repository whose timestamp the server signs (the owner holds no timestamp key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME, newSigners } from '../../helpers/sim.js';
import { changedRoles, forge, part, roleSigners, stateOf } from '../../helpers/upload.js';
import { parseJson } from '../../helpers/service.js';
import { httpUpload } from '../../helpers/server-app.js';
import { assertNothingStored, published } from './kit.js';

const replace = (files, role, bytes) => files.map((p) => (p.role === role ? { role, bytes } : p));

async function refused(srv, files, { status = 400, code, role, rule }, what) {
  const res = await httpUpload(srv.url, NAME, files);
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
  const [e] = res.json.errors;
  assert.equal(e.code, 'UPLOAD_REFUSED', `${what}: ${e.message}`);
  assert.equal(e.detail.code, code, `${what}: ${e.message}`);
  if (role !== undefined) assert.equal(e.detail.role, role, `${what}: ${e.message}`);
  if (rule !== undefined) assert.equal(e.detail.rule, rule, `${what}: ${e.message}`);
  assert.doesNotMatch(e.message, /\n/);
  return e;
}

const target = (sha) => ({ length: 1, hashes: { sha256: sha.repeat(32) } });

/** A published repository that delegates `targets/releases` (paths `${NAME}:*`), uploaded. */
async function withReleases(t) {
  const p = await published(t);
  const { srv, sim } = p;
  assert.equal((await httpUpload(srv.url, NAME, p.next)).status, 200);
  const before = stateOf(sim);
  const releases = sim.delegateReleases(1, [`${NAME}:*`, `${NAME}/in-toto-metadata/*/*.link`]);
  await sim.publish({ now: srv.now() });
  const up = changedRoles(before, stateOf(sim)).filter((f) => f.role !== 'timestamp');
  const res = await httpUpload(srv.url, NAME, up);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { ...p, releases };
}

/** The delegated role at its next version listing `name`, and the snapshot that lists it. */
async function releasesListing(sim, releases, name) {
  const state = stateOf(sim);
  const rel = await forge(
    state['targets/releases'],
    (s) => {
      s.version += 1;
      s.targets[name] = target('cd');
    },
    releases,
  );
  const snap = await forge(
    state.snapshot,
    (s) => {
      s.version += 1;
      s.meta['targets/releases.json'] = { version: parseJson(rel).signed.version };
    },
    roleSigners(sim, 'snapshot'),
  );
  return [
    { role: 'targets/releases', bytes: rel },
    { role: 'snapshot', bytes: snap },
  ];
}

test('a delegated role signing outside its paths is BAD_TARGETS delegated-paths, nothing stored', async (t) => {
  const { srv, sim, releases } = await withReleases(t);
  const outside = [
    'other.example/app:v1',
    `${NAME}-evil:v1`,
    `${NAME}x:v1`,
    `${NAME}/in-toto-metadata/root.layout`,
    `${NAME}/in-toto-metadata/a/b/c.link`,
    `example.com/org/${NAME}:v1`,
  ];
  await assertNothingStored(srv, async () => {
    for (const name of outside) {
      const e = await refused(
        srv,
        await releasesListing(sim, releases, name),
        { code: 'BAD_TARGETS', role: 'targets/releases', rule: 'delegated-paths' },
        name,
      );
      assert.ok(e.message.includes(name), e.message);
    }
    // the top-level targets key cannot sign for the delegated role either
    const [rel] = await releasesListing(sim, roleSigners(sim, 'targets'), `${NAME}:v9`);
    const [, snap] = await releasesListing(sim, releases, `${NAME}:v9`);
    await refused(
      srv,
      [rel, snap],
      { code: 'BAD_TARGETS', role: 'targets/releases', rule: 'threshold' },
      'signed by the targets key',
    );
  });
  // inside its paths: accepted
  const ok = await httpUpload(srv.url, NAME, await releasesListing(sim, releases, `${NAME}:v9`));
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
});

test('a snapshot listing versions the server does not have is BAD_SNAPSHOT snapshot-meta, nothing stored', async (t) => {
  const { srv, sim, next } = await published(t);
  const snapshot = part(next, 'snapshot').bytes;
  const signers = roleSigners(sim, 'snapshot');
  const tv = parseJson(part(next, 'targets').bytes).signed.version;
  const cases = [
    ['targets one version ahead', (s) => (s.meta['targets.json'].version = tv + 1)],
    ['targets far ahead', (s) => (s.meta['targets.json'].version = 2 ** 40)],
    ['targets behind', (s) => (s.meta['targets.json'].version = tv - 1)],
    ['a delegated role nobody uploaded', (s) => (s.meta['targets/ghost.json'] = { version: 1 })],
    ['the wrong length', (s) => (s.meta['targets.json'].length = 7)],
    ['the wrong hash', (s) => (s.meta['targets.json'].hashes = { sha256: 'ee'.repeat(32) })],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, mutate] of cases) {
      const bytes = await forge(snapshot, mutate, signers);
      const res = await httpUpload(srv.url, NAME, replace(next, 'snapshot', bytes));
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.json)}`);
      const e = res.json.errors[0];
      assert.ok(['BAD_SNAPSHOT', 'BAD_HIERARCHY'].includes(e.detail.code), `${what}: ${e.message}`);
    }
  });
  assert.equal((await httpUpload(srv.url, NAME, next)).status, 200);
});

test('a root rotation not signed by the old root, or not by the new one, is BAD_ROOT, nothing stored', async (t) => {
  const { srv, sim, next } = await published(t);
  const state = stateOf(sim);
  const [oldRoot] = roleSigners(sim, 'root');
  const [newRoot, stranger] = newSigners(2);
  const rotate = (signers) =>
    forge(
      state.root,
      (s) => {
        s.version = 2;
        const old = s.roles.root.keyids[0];
        delete s.keys[old];
        s.keys[newRoot.keyid] = newRoot.publicKey;
        s.roles.root = { keyids: [newRoot.keyid], threshold: 1 };
      },
      signers,
    );
  const cases = [
    ['signed by the new root only', [newRoot]],
    ['signed by the old root only', [oldRoot]],
    ['signed by a stranger', [stranger]],
    ['signed by nobody', []],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, signers] of cases)
      await refused(
        srv,
        [{ role: 'root', bytes: await rotate(signers) }, ...next],
        { code: 'BAD_ROOT', role: 'root' },
        what,
      );
    // a rotation skipping a version (v3 after v1), even signed by both
    const skip = await forge(await rotate([]), (s) => (s.version = 3), [oldRoot, newRoot]);
    await refused(
      srv,
      [{ role: 'root', bytes: skip }, ...next],
      { code: 'BAD_ROOT', role: 'root' },
      'v3 after v1',
    );
  });
  // signed by both: accepted (the rest re-signed under root v2 is not needed: same keys)
  const ok = await httpUpload(srv.url, NAME, [
    { role: 'root', bytes: await rotate([oldRoot, newRoot]) },
    ...next,
  ]);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
});

test('a timestamp uploaded to a repository whose timestamp the server signs is refused, nothing stored', async (t) => {
  const { srv, sim, next } = await published(t);
  const state = stateOf(sim);
  const snapshot = part(next, 'snapshot').bytes;
  const sv = parseJson(snapshot).signed.version;
  const ts = (signers) =>
    forge(
      state.timestamp,
      (s) => {
        s.version += 5;
        s.meta['snapshot.json'] = { version: sv };
      },
      signers,
    );
  const [stranger] = newSigners(1);
  const cases = [
    ['signed by a stranger', [stranger]],
    ['signed by the targets key', roleSigners(sim, 'targets')],
    ['signed by the snapshot key', roleSigners(sim, 'snapshot')],
    ['signed by the root key', roleSigners(sim, 'root')],
    ['unsigned', []],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, signers] of cases)
      await refused(
        srv,
        [...next, { role: 'timestamp', bytes: await ts(signers) }],
        { code: 'BAD_TIMESTAMP', role: 'timestamp', rule: 'threshold' },
        what,
      );
  });
  assert.equal((await httpUpload(srv.url, NAME, next)).status, 200);
});
