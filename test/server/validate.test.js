// The server's upload validation (issue 13 item 3, ADR 0019): real repositories built and
// published with the library, their published files taken as the stored state, uploads made of
// the roles a later publish changed (or forged from them). Every refusal names its code and role
// and leaves the state unchanged (validateUpload is pure). Root and delegation walks:
// ./validate-roots.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateUpload } from '../../dist/server/validate.js';
import { buildSnapshot, buildTimestamp, stateAfter } from '../../dist/server/build.js';
import { NAME, Sim } from '../helpers/sim.js';
import {
  LAYOUT,
  NOW,
  addBundle,
  assertRefused,
  changedRoles,
  copyState,
  forge,
  parse,
  part,
  roleSigners,
  stateOf,
  twoStates,
} from '../helpers/upload.js';

test('accepted: a normal publish (targets + snapshot + timestamp)', async (t) => {
  const { before, after, upload } = await twoStates(t, addBundle);
  assert.deepEqual(upload.map((p) => p.role).sort(), ['snapshot', 'targets', 'timestamp']);
  const copy = copyState(before);
  const r = validateUpload(before, upload, { now: NOW() });
  assert.equal(r.ok, true, r.refusal?.message);
  assert.deepEqual(
    r.accepted.map((a) => [a.role, a.version]),
    [
      ['targets', 2],
      ['snapshot', 2],
      ['timestamp', 2],
    ],
  );
  assert.equal(r.needSnapshot, false);
  assert.equal(r.needTimestamp, false);
  assert.ok(r.accepted.every((a) => a.bytes === after[a.role] && a.sha256.length === 64));
  assert.deepEqual(before, copy);
});

test('accepted: a new repository (root v1 self-signed, all four roles)', async (t) => {
  const sim = await Sim.create(t);
  const upload = changedRoles({}, stateOf(sim));
  const r = validateUpload({}, upload, { now: NOW() });
  assert.equal(r.ok, true, r.refusal?.message);
  assert.deepEqual(
    r.accepted.map((a) => a.role),
    ['root', 'targets', 'snapshot', 'timestamp'],
  );
  // a new repository without a root is not one
  assertRefused(
    {},
    upload.filter((p) => p.role !== 'root'),
    {},
    'BAD_HIERARCHY',
    'root',
  );
});

test('accepted without snapshot and timestamp when the server holds their keys; build* match publish', async (t) => {
  const { sim, before, after, upload } = await twoStates(t, addBundle);
  const serverKeyids = ['snapshot', 'timestamp'].flatMap((r) => sim.repo.root.signed.roles[r].keyIDs);
  const r = validateUpload(before, [part(upload, 'targets')], { now: NOW(), serverKeyids });
  assert.equal(r.ok, true, r.refusal?.message);
  assert.deepEqual(
    r.accepted.map((a) => a.role),
    ['targets'],
  );
  assert.equal(r.needSnapshot, true);
  assert.equal(r.needTimestamp, true);
  // what the server would sign is what publish signed
  const snap = parse(after.snapshot).signed;
  const built = buildSnapshot(stateAfter(before, r.accepted), {
    version: snap.version,
    expires: snap.expires,
  });
  assert.deepEqual(built, snap);
  const ts = parse(after.timestamp).signed;
  assert.deepEqual(buildTimestamp(after, { version: ts.version, expires: ts.expires }), ts);
  // a developer-uploaded timestamp cannot list the snapshot the server is about to make
  const withTs = [part(upload, 'targets'), part(upload, 'timestamp')];
  assertRefused(before, withTs, { serverKeyids }, 'BAD_HIERARCHY', 'timestamp', 'timestamp-before-snapshot');
});

test('refused: wrong _type (a targets file uploaded as snapshot)', async (t) => {
  const { before, after } = await twoStates(t, addBundle);
  assertRefused(before, [{ role: 'snapshot', bytes: after.targets }], {}, 'BAD_SNAPSHOT', 'snapshot', 'type');
});

test('refused: a bad signature (signed content changed after signing)', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  const json = parse(part(upload, 'targets').bytes);
  json.signed.targets[`${NAME}:evil`] = { length: 1, hashes: { sha256: 'ab'.repeat(32) } };
  const files = upload.map((p) =>
    p.role === 'targets' ? { role: 'targets', bytes: Buffer.from(JSON.stringify(json)) } : p,
  );
  const refusal = assertRefused(before, files, {}, 'BAD_TARGETS', 'targets', 'threshold');
  assert.match(refusal.message, /0\/1 valid signatures of the root v1 keys/);
});

test('refused: below the threshold (one of two targets signatures)', async (t) => {
  const { before, upload } = await twoStates(t, addBundle, {
    keys: { targets: 2 },
    thresholds: { targets: 2 },
  });
  const json = parse(part(upload, 'targets').bytes);
  assert.equal(json.signatures.length, 2);
  json.signatures.pop();
  const files = upload.map((p) =>
    p.role === 'targets' ? { role: 'targets', bytes: Buffer.from(JSON.stringify(json)) } : p,
  );
  const refusal = assertRefused(before, files, {}, 'BAD_TARGETS', 'targets', 'threshold');
  assert.match(refusal.message, /1\/2 valid signatures/);
});

test('refused: the same and a lower version', async (t) => {
  const { sim, before, after, upload } = await twoStates(t, addBundle);
  // the current targets v1 again
  assertRefused(
    before,
    [{ role: 'targets', bytes: before.targets }],
    {},
    'OLD_VERSION',
    'targets',
    'version',
  );
  // targets v1 against a state at v2 (a rollback)
  assertRefused(after, [{ role: 'targets', bytes: before.targets }], {}, 'OLD_VERSION', 'targets', 'version');
  // the current root again
  assertRefused(before, [{ role: 'root', bytes: before.root }], {}, 'OLD_VERSION', 'root', 'version');
  // a snapshot with the current version, properly signed
  const snap = await forge(
    part(upload, 'snapshot').bytes,
    (s) => (s.version = 1),
    roleSigners(sim, 'snapshot'),
  );
  const files = upload.map((p) => (p.role === 'snapshot' ? { role: 'snapshot', bytes: snap } : p));
  assertRefused(before, files, {}, 'OLD_VERSION', 'snapshot', 'version');
});

test('refused: an expired role', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  const later = new Date(Date.now() + 40 * 86_400_000); // targets expire after 30 days
  const refusal = assertRefused(before, upload, { now: later }, 'EXPIRED', 'targets', 'expires');
  assert.equal(refusal.version, 2);
});

test('refused: a snapshot listing a wrong version', async (t) => {
  const sim = await Sim.create(t);
  const before = stateOf(sim);
  await sim.refresh({ within: 10 * 86_400 }); // snapshot v2, still listing targets v1
  const stale = stateOf(sim).snapshot;
  assert.equal(parse(stale).signed.version, 2);
  sim.addBundle('v1');
  await sim.publish();
  const upload = changedRoles(before, stateOf(sim)).filter((p) => p.role === 'targets');
  const refusal = assertRefused(
    before,
    [...upload, { role: 'snapshot', bytes: stale }],
    {},
    'BAD_SNAPSHOT',
    'snapshot',
    'snapshot-meta',
  );
  assert.match(refusal.message, /targets\.json" v1, but v2 will be current/);
});

test('refused: a timestamp listing another snapshot', async (t) => {
  const { sim, before, upload } = await twoStates(t, addBundle);
  const ts = await forge(
    part(upload, 'timestamp').bytes,
    (s) => (s.meta['snapshot.json'].version = 3),
    roleSigners(sim, 'timestamp'),
  );
  const files = upload.map((p) => (p.role === 'timestamp' ? { role: 'timestamp', bytes: ts } : p));
  assertRefused(before, files, {}, 'BAD_TIMESTAMP', 'timestamp', 'snapshot-meta');
});

test('refused: a missing snapshot the server does not hold', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  assertRefused(
    before,
    [part(upload, 'targets')],
    {},
    'BAD_HIERARCHY',
    'snapshot',
    'snapshot-not-server-held',
  );
  // holding only the timestamp key is not enough
  const { sim } = await twoStates(t, addBundle);
  const tsOnly = sim.repo.root.signed.roles.timestamp.keyIDs;
  assertRefused(before, [part(upload, 'targets')], { serverKeyids: tsOnly }, 'BAD_HIERARCHY', 'snapshot');
});

test('refused: a delegated role signing outside its paths, or one nobody delegates', async (t) => {
  let releases;
  const { before, after, upload } = await twoStates(t, (s) => {
    releases = s.delegateReleases(1, [`${NAME}:*`]);
  });
  const r0 = validateUpload(before, upload, { now: NOW() });
  assert.equal(r0.ok, true, r0.refusal?.message);
  assert.deepEqual(
    r0.accepted.map((a) => a.role),
    ['targets', 'targets/releases', 'snapshot', 'timestamp'],
  );
  const evil = await forge(
    after['targets/releases'],
    (s) => {
      s.version = 2;
      s.targets['other.example/app:v1'] = { length: 1, hashes: { sha256: 'cd'.repeat(32) } };
    },
    releases,
  );
  const refusal = assertRefused(
    after,
    [{ role: 'targets/releases', bytes: evil }],
    {},
    'BAD_TARGETS',
    'targets/releases',
    'delegated-paths',
  );
  assert.match(refusal.message, /other\.example\/app:v1/);
  // a role no targets role delegates
  const orphan = await forge(after['targets/releases'], (s) => (s.version = 2), releases);
  assertRefused(
    before,
    [{ role: 'targets/other', bytes: orphan }],
    {},
    'BAD_HIERARCHY',
    'targets/other',
    'not-delegated',
  );
});

test('target files: accepted when listed; refused on a hash or length mismatch, or unlisted', async (t) => {
  const content = '{"_type":"layout"}';
  const { before, upload } = await twoStates(t, (sim) => sim.addFile(LAYOUT, content));
  const ok = validateUpload(before, [...upload, { path: LAYOUT, bytes: Buffer.from(content) }], {
    now: NOW(),
  });
  assert.equal(ok.ok, true, ok.refusal?.message);
  assert.deepEqual(
    ok.targetFiles.map((f) => [f.path, f.role, f.length]),
    [[LAYOUT, 'targets', content.length]],
  );
  const sameLength = Buffer.from(content.replace('layout', 'LAYOUT'));
  assertRefused(
    before,
    [...upload, { path: LAYOUT, bytes: sameLength }],
    {},
    'BAD_TARGET_FILE',
    LAYOUT,
    'sha256',
  );
  assertRefused(
    before,
    [...upload, { path: LAYOUT, bytes: Buffer.from(`${content}\n`) }],
    {},
    'BAD_TARGET_FILE',
    LAYOUT,
    'length',
  );
  const other = `${NAME}/in-toto-metadata/other.link`;
  assertRefused(
    before,
    [...upload, { path: other, bytes: Buffer.from('x') }],
    {},
    'BAD_TARGET_FILE',
    other,
    'not-listed',
  );
  assertRefused(
    before,
    [...upload, { path: '../escape', bytes: Buffer.from('x') }],
    {},
    'MALFORMED',
    '../escape',
    'target-path',
  );
});

test('refused: oversized roles and target files', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  const big = Buffer.alloc((1 << 20) + 1, 0x20);
  assertRefused(
    before,
    [...upload.filter((p) => p.role !== 'snapshot'), { role: 'snapshot', bytes: big }],
    {},
    'TOO_LARGE',
    'snapshot',
    'size-limit',
  );
  // targets may be larger (64 MiB by default); the limits are configurable
  const r = validateUpload(before, upload, { now: NOW(), limits: { role: 1 << 20 } });
  assert.equal(r.ok, true);
  assertRefused(before, upload, { limits: { targets: 100 } }, 'TOO_LARGE', 'targets');
  assertRefused(
    before,
    [...upload, { path: LAYOUT, bytes: Buffer.alloc(11) }],
    { limits: { targetFile: 10 } },
    'TOO_LARGE',
    LAYOUT,
  );
});

test('refused: duplicate parts, unknown role names, an empty upload', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  assertRefused(before, [...upload, part(upload, 'targets')], {}, 'MALFORMED', 'targets', 'duplicate-part');
  for (const role of ['foo', 'releases', 'targets/../root', 'targets/a b', ''])
    assertRefused(
      before,
      [...upload, { role, bytes: Buffer.from('{}') }],
      {},
      'MALFORMED',
      role,
      'unknown-role',
    );
  assertRefused(before, [], {}, 'MALFORMED', '', 'empty-upload');
});

test('refused: malformed JSON, a non-integer number, a wrong shape', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  const text = Buffer.from(part(upload, 'targets').bytes).toString('utf8');
  const without = upload.filter((p) => p.role !== 'targets');
  assertRefused(
    before,
    [...without, { role: 'targets', bytes: Buffer.from(text.slice(0, 40)) }],
    {},
    'MALFORMED',
    'targets',
    'json',
  );
  const float = Buffer.from(text.replace('"version":2', '"version":2.5'));
  const refusal = assertRefused(
    before,
    [...without, { role: 'targets', bytes: float }],
    {},
    'MALFORMED',
    'targets',
    'integers-only',
  );
  assert.match(refusal.message, /CNAB and TUF allow only integers/);
  assertRefused(
    before,
    [...without, { role: 'targets', bytes: Buffer.from('[1]') }],
    {},
    'MALFORMED',
    'targets',
    'shape',
  );
  const noExpires = Buffer.from(JSON.stringify({ signed: { _type: 'targets', version: 2 }, signatures: [] }));
  assertRefused(
    before,
    [...without, { role: 'targets', bytes: noExpires }],
    {},
    'MALFORMED',
    'targets',
    'shape',
  );
});

test('refused: a missing timestamp the server does not hold', async (t) => {
  const { before, upload } = await twoStates(t, addBundle);
  const files = upload.filter((p) => p.role !== 'timestamp');
  assertRefused(before, files, {}, 'BAD_HIERARCHY', 'timestamp', 'timestamp-not-server-held');
});
