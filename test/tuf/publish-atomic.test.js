// A publish that fails half-way leaves the previous published state intact and readable,
// keeps the staged changes, and a later publish succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  LocalRepository,
  FsMetadataStore,
  publish,
  addTarget,
  rotateKeys,
  FileFetcher,
  TrustClient,
} from '../../dist/tuf/index.js';
import { newSigners } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';
import { pathToFileURL } from 'node:url';

async function snapshotDir(dir) {
  const out = {};
  for (const name of (await readdir(dir)).sort()) {
    out[name] = createHash('sha256')
      .update(await readFile(path.join(dir, name)))
      .digest('hex');
  }
  return out;
}

async function setup(t) {
  const dir = await tempDir(t);
  const signers = newSigners(4);
  const roles = Object.fromEntries(
    ['root', 'targets', 'snapshot', 'timestamp'].map((r, i) => [
      r,
      { keys: [signers[i].publicKey], threshold: 1 },
    ]),
  );
  const repo = await LocalRepository.create(new FsMetadataStore(dir), {
    name: 'example.com/org/bundle',
    roles,
  });
  const provider = async (_r, keyid) => signers.find((s) => s.keyid === keyid);
  addTarget(repo, 'example.com/org/bundle:v1', { length: 3, hashes: { sha256: 'aa'.repeat(32) } });
  await publish(repo, { signers: provider });
  return { dir, provider, signers };
}

async function clientSees(t, dir, target) {
  const cache = await tempDir(t);
  await writeFile(path.join(cache, 'root.json'), await readFile(path.join(dir, 'metadata', '1.root.json')));
  const client = new TrustClient({
    name: 'example.com/org/bundle',
    metadataUrl: pathToFileURL(path.join(dir, 'metadata')).href,
    cacheDir: cache,
    fetcher: new FileFetcher(),
  });
  return client.getTarget(target);
}

/** Stage v2 and a new root (so root files are part of the publish), then publish failing at `failAt`. */
async function failingPublish(dir, provider, failAt) {
  const repo = await LocalRepository.open(new FsMetadataStore(dir));
  addTarget(repo, 'example.com/org/bundle:v2', { length: 4, hashes: { sha256: 'bb'.repeat(32) } });
  repo.edit('root', () => {});
  await repo.saveStaged();
  return publish(repo, {
    signers: provider,
    beforeWrite: (file) => {
      if (file === `metadata/${failAt}`) throw new Error('injected: disk full');
    },
  });
}

// Files written before the timestamp (the commit point; the new root comes after it).
for (const failAt of ['2.targets.json', '2.snapshot.json', 'timestamp.json']) {
  test(`publish failing before writing ${failAt}: previous state intact, staged kept, retry works`, async (t) => {
    const { dir, provider } = await setup(t);
    const meta = path.join(dir, 'metadata');
    const before = await snapshotDir(meta);
    let repo;
    await assert.rejects(failingPublish(dir, provider, failAt), (e) => {
      assert.equal(e.code, 'PUBLISH_FAILED');
      assert.match(e.cause.message, /injected/);
      return true;
    });
    assert.deepEqual(await snapshotDir(meta), before, 'published files unchanged');
    assert.equal((await clientSees(t, dir, 'example.com/org/bundle:v1')).length, 3);
    repo = await LocalRepository.open(new FsMetadataStore(dir));
    assert.deepEqual([...repo.staged.keys()].sort(), ['root', 'targets'], 'staged changes kept');
    await publish(repo, { signers: provider });
    assert.equal((await clientSees(t, dir, 'example.com/org/bundle:v2')).length, 4);
  });
}

test('a staged role already published (crash after publish, before clean-up) is dropped on open', async (t) => {
  const { dir, provider } = await setup(t);
  let repo = await LocalRepository.open(new FsMetadataStore(dir));
  addTarget(repo, 'example.com/org/bundle:v2', { length: 4, hashes: { sha256: 'bb'.repeat(32) } });
  await repo.saveStaged();
  const stagedBytes = await readFile(path.join(dir, 'staged', 'targets.json'));
  await publish(repo, { signers: provider });
  await writeFile(path.join(dir, 'staged', 'targets.json'), stagedBytes); // as if clean-up never ran
  repo = await LocalRepository.open(new FsMetadataStore(dir));
  assert.equal(repo.staged.size, 0);
  assert.equal(repo.published.get('targets').signed.version, 2);
});

// The new root is written after the timestamp: a failure there leaves the new timestamp,
// snapshot and targets visible, and they verify under the old root too (transition
// signatures), so clients update; a retry then writes the new root.
for (const failAt of ['2.root.json', 'root.json']) {
  test(`publish failing at ${failAt} (after the timestamp): clients update, the retry writes the root`, async (t) => {
    const { dir, provider } = await setup(t);
    let repo;
    await assert.rejects(failingPublish(dir, provider, failAt), (e) => {
      assert.equal(e.code, 'PUBLISH_FAILED');
      assert.match(e.message, /stopped after the new timestamp/);
      return true;
    });
    assert.equal((await clientSees(t, dir, 'example.com/org/bundle:v2')).length, 4);
    repo = await LocalRepository.open(new FsMetadataStore(dir));
    const rootStaged = failAt === '2.root.json';
    assert.deepEqual([...repo.staged.keys()], rootStaged ? ['root'] : []);
    await publish(repo, { signers: provider });
    assert.equal((await clientSees(t, dir, 'example.com/org/bundle:v2')).length, 4);
    const copy = await readFile(path.join(dir, 'metadata', 'root.json'));
    assert.deepEqual(copy, await readFile(path.join(dir, 'metadata', '2.root.json')), 'root.json repaired');
  });
}

test('a new root re-keying timestamp: the new timestamp is also signed by the old key (transition); without it, a warning', async (t) => {
  for (const oldKeyAvailable of [true, false]) {
    const { dir, provider, signers } = await setup(t);
    const [fresh] = newSigners(1);
    const repo = await LocalRepository.open(new FsMetadataStore(dir));
    rotateKeys(repo, 'timestamp', { add: [fresh.publicKey], remove: [signers[3].keyid] });
    const signersNow = async (role, keyid) =>
      keyid === fresh.keyid
        ? fresh
        : !oldKeyAvailable && keyid === signers[3].keyid
          ? undefined
          : provider(role, keyid);
    const result = await publish(repo, { signers: signersNow });
    const ts = JSON.parse(await readFile(path.join(dir, 'metadata', 'timestamp.json'), 'utf8'));
    const sigs = ts.signatures.map((s) => s.keyid).sort();
    if (oldKeyAvailable) {
      assert.deepEqual(sigs, [fresh.keyid, signers[3].keyid].sort());
      assert.equal(result.warnings, undefined);
    } else {
      assert.deepEqual(sigs, [fresh.keyid]);
      assert.match(
        result.warnings.join('\n'),
        /timestamp v2: 0\/1 signatures of root v1; an interrupted publish/,
      );
    }
    assert.equal((await clientSees(t, dir, 'example.com/org/bundle:v1')).length, 3);
  }
});
