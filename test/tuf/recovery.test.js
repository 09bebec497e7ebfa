// Root key compromise recovery (issue 4, item 3) and trust reset, with both our client
// (trust store + TrustClient over file://) and the unmodified tuf-js Updater.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { Updater } from 'tuf-js';
import {
  addTarget,
  addTrust,
  clientFor,
  resetTrust,
  stageRecovery,
  saveRecovery,
  writeRecoveryPackage,
  rotateKeys,
} from '../../dist/tuf/index.js';
import { FileFetcher } from '../../dist/tuf/client/index.js';
import { NAME, Sim, forge, matchesFailure, sha256, target } from '../helpers/rotation-sim.js';
import { tempDir } from '../helpers/tmp.js';

const T1 = target('v1');

/** A repository in a directory, a cnabsec trust home and a tuf-js metadata dir, both pinned at v1. */
async function setup(t, options = {}) {
  const dir = await tempDir(t);
  const sim = await Sim.create({ dir: path.join(dir, 'repo'), ...options });
  addTarget(sim.repo, T1.name, T1.info);
  await sim.publish();
  const url = pathToFileURL(path.join(dir, 'repo', 'metadata')).href;
  const home = path.join(dir, 'home');
  await addTrust(home, NAME, sim.rootBytes(1), url);
  const tufjsDir = path.join(dir, 'tufjs');
  await (await import('node:fs/promises')).mkdir(tufjsDir);
  await writeFile(path.join(tufjsDir, 'root.json'), sim.rootBytes(1));
  const ours = () => clientFor(home, { name: NAME, url }).getTarget(T1.name);
  const tufjs = async () => {
    const u = new Updater({ metadataDir: tufjsDir, metadataBaseUrl: url, fetcher: new FileFetcher() });
    await u.refresh();
    return u.getTargetInfo(T1.name);
  };
  await ours();
  await tufjs();
  return { dir, sim, home, url, tufjsDir, ours, tufjs };
}

/** The tuf-js equivalent of `trust reset`: replace the trusted root, drop the cache. */
async function resetTufjs(tufjsDir, rootBytes) {
  for (const f of await readdir(tufjsDir)) await rm(path.join(tufjsDir, f));
  await writeFile(path.join(tufjsDir, 'root.json'), rootBytes);
}

test('recovery: clients refuse the new root until trust reset, then update; old keys are useless', async (t) => {
  const env = await setup(t, { keys: { root: 2 }, thresholds: { root: 1 } });
  const { sim } = env;
  const compromised = sim.keys.root;
  const fresh = [sim.newKey(), sim.newKey()];
  const plan = stageRecovery(sim.repo, { rootKeys: fresh.map((k) => k.publicKey), threshold: 2 });
  assert.equal(plan.version, 2);
  assert.deepEqual(
    plan.signing[0].authorities.map((a) => a.source),
    ['root v2'],
    'the compromised root does not sign',
  );
  await saveRecovery(sim.repo);
  await sim.reopen();
  for (const k of compromised) sim.withheld.add(k.keyid); // and they would not be used anyway
  await sim.publish();
  const v2 = JSON.parse(Buffer.from(sim.rootBytes(2)).toString());
  assert.deepEqual(v2.signatures.map((s) => s.keyid).sort(), fresh.map((k) => k.keyid).sort());

  // a normal update refuses the new root, with the trust reset hint
  await assert.rejects(env.ours(), (e) => {
    assert.equal(e.code, 'TUF_UNSIGNED_METADATA');
    assert.match(e.hint, /trust reset/);
    return true;
  });
  await assert.rejects(env.tufjs(), (e) => matchesFailure('tuf-js', 'unsigned', e));

  // the out-of-band package
  const pkgDir = path.join(env.dir, 'pkg');
  const pkg = await writeRecoveryPackage(sim.repo, pkgDir);
  const rootBytes = await readFile(path.join(pkgDir, 'root.json'));
  assert.equal(pkg.sha256, sha256(rootBytes));
  const readme = await readFile(path.join(pkgDir, 'README.txt'), 'utf8');
  assert.match(readme, new RegExp(`cnabsec trust reset ${NAME} --root root.json`));
  assert.match(readme, new RegExp(pkg.sha256));
  for (const k of fresh) assert.match(readme, new RegExp(k.keyid));

  // re-pin: both clients update again
  const reset = await resetTrust(env.home, NAME, rootBytes);
  assert.equal(reset.previous.version, 1);
  assert.deepEqual(
    reset.previous.keyids,
    compromised.map((k) => k.keyid),
  );
  assert.equal(reset.current.version, 2);
  assert.equal((await env.ours()).hashes.sha256, T1.info.hashes.sha256);
  await resetTufjs(env.tufjsDir, rootBytes);
  assert.equal((await env.tufjs()).hashes.sha256, T1.info.hashes.sha256);

  // an attacker with the compromised root keys serves root v3: refused after the reset
  sim.serve(
    '3.root.json',
    await forge(
      sim,
      '2.root.json',
      (s) => {
        s.version = 3;
        s.roles.root.keyids = compromised.map((k) => k.keyid);
        s.roles.root.threshold = 1;
        for (const k of compromised) s.keys[k.keyid] = k.publicKey;
      },
      compromised,
    ),
  );
  await writeFile(path.join(env.dir, 'repo', 'metadata', '3.root.json'), sim.overlay.get('3.root.json'));
  await assert.rejects(env.ours(), { code: 'TUF_UNSIGNED_METADATA' });
  await assert.rejects(env.tufjs(), (e) => matchesFailure('tuf-js', 'unsigned', e));
});

test('recovery: rotating every top-level key, clients update after the reset', async (t) => {
  const env = await setup(t);
  const { sim } = env;
  const k = () => [sim.newKey().publicKey];
  stageRecovery(sim.repo, {
    rootKeys: k(),
    rotate: { targets: k(), snapshot: k(), timestamp: k() },
  });
  await saveRecovery(sim.repo);
  await sim.publish();
  const root = sim.repo.published.get('root').signed;
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    assert.ok(!root.roles[role].keyIDs.includes(sim.keys[role][0].keyid), role);
  assert.equal(sim.repo.published.get('targets').signed.version, 2, 'targets re-signed by its new key');
  const { files } = await writeRecoveryPackage(sim.repo, path.join(env.dir, 'pkg'));
  assert.deepEqual(files, ['root.json', 'README.txt']);
  const bytes = await readFile(path.join(env.dir, 'pkg', 'root.json'));
  await assert.rejects(env.ours(), { code: 'TUF_UNSIGNED_METADATA' });
  await resetTrust(env.home, NAME, bytes);
  assert.ok(await env.ours());
  await resetTufjs(env.tufjsDir, bytes);
  assert.ok(await env.tufjs());
  // after the recovery, ordinary rotations cross-sign again
  const next = sim.newKey();
  const plan = rotateKeys(sim.repo, 'root', { add: [next.publicKey] });
  assert.deepEqual(
    plan.signing[0].authorities.map((a) => a.source),
    ['root v3 (new)', 'root v2 (trusted)'],
  );
  await sim.publish();
  assert.ok(await env.ours());
  assert.ok(await env.tufjs());
});

test('recovery: refusals (reused key, nothing published, package before publish, bad reset)', async (t) => {
  const env = await setup(t);
  const { sim } = env;
  assert.throws(
    () => stageRecovery(sim.repo, { rootKeys: [sim.keys.root[0].publicKey] }),
    (e) => {
      assert.equal(e.code, 'RECOVERY_KEY_REUSED');
      assert.match(e.message, new RegExp(sim.keys.root[0].keyid));
      return true;
    },
  );
  assert.equal(sim.repo.staged.size, 0);
  await assert.rejects(writeRecoveryPackage(sim.repo, path.join(env.dir, 'p')), {
    code: 'RECOVERY_NOT_PUBLISHED',
  });
  stageRecovery(sim.repo, { rootKeys: [sim.newKey().publicKey], dryRun: true });
  assert.equal(sim.repo.staged.size, 0);
  assert.equal(sim.repo.config.recovery, undefined);
  stageRecovery(sim.repo, { rootKeys: [sim.newKey().publicKey] });
  await saveRecovery(sim.repo);
  await assert.rejects(writeRecoveryPackage(sim.repo, path.join(env.dir, 'p')), (e) => {
    assert.equal(e.code, 'RECOVERY_NOT_PUBLISHED');
    assert.match(e.hint, /publish the staged root v2/);
    return true;
  });
  // trust reset refuses a root not signed by its own keys, and unknown repositories
  const bad = await forge(sim, '1.root.json', (s) => void (s.version = 7), []);
  await assert.rejects(resetTrust(env.home, NAME, bad), { code: 'TUF_UNSIGNED_METADATA' });
  assert.ok(await env.ours(), 'the pinned root is unchanged');
  await assert.rejects(resetTrust(env.home, 'example.com/other', sim.rootBytes(1)), {
    code: 'TRUST_NOT_FOUND',
  });
});
