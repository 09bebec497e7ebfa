// A repository that lost files is never mistaken for a new one: a missing timestamp.json,
// snapshot, listed role or root of the chain is REPOSITORY_INCOMPLETE naming the file (nothing
// is written, never version 1 again), and a publish never rewrites a versioned file nor
// reuses a version number found on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
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
import { snapshotTree } from '../helpers/cli.js';

const NAME = 'example.com/org/bundle';
const info = (n) => ({ length: n, hashes: { sha256: String(n % 10).repeat(64) } });

async function setup(t) {
  const dir = await tempDir(t);
  const signers = newSigners(5);
  const roles = Object.fromEntries(
    ['root', 'targets', 'snapshot', 'timestamp'].map((r, i) => [
      r,
      { keys: [signers[i].publicKey], threshold: 1 },
    ]),
  );
  let repo = await LocalRepository.create(new FsMetadataStore(dir), { name: NAME, roles });
  const provider = async (_r, keyid) => signers.find((s) => s.keyid === keyid);
  addTarget(repo, `${NAME}:v1`, info(1));
  await publish(repo, { signers: provider });
  repo = await LocalRepository.open(new FsMetadataStore(dir));
  rotateKeys(repo, 'root', { add: [signers[4].publicKey], remove: [] }); // root v2
  addTarget(repo, `${NAME}:v2`, info(2));
  await publish(repo, { signers: provider }); // targets v2, snapshot v2, timestamp v2
  return { dir, provider, meta: path.join(dir, 'metadata') };
}

const open = (dir) => LocalRepository.open(new FsMetadataStore(dir));

async function clientFinds(t, dir, tag) {
  const cache = await tempDir(t);
  await writeFile(path.join(cache, 'root.json'), await readFile(path.join(dir, 'metadata', '1.root.json')));
  const c = new TrustClient({
    name: NAME,
    metadataUrl: pathToFileURL(path.join(dir, 'metadata')).href,
    cacheDir: cache,
    fetcher: new FileFetcher(),
  });
  return c.getTarget(`${NAME}:${tag}`);
}

for (const [lost, names] of [
  [['timestamp.json'], 'metadata/timestamp.json'],
  [['2.snapshot.json'], 'metadata/2.snapshot.json'],
  [['2.targets.json'], 'metadata/2.targets.json'],
  [['1.root.json'], 'metadata/1.root.json'],
  [['timestamp.json', '1.root.json', '2.root.json', 'root.json'], 'metadata/timestamp.json'],
]) {
  test(`lost ${lost.join(', ')}: publish refuses with REPOSITORY_INCOMPLETE naming ${names}; nothing written`, async (t) => {
    const { dir, meta } = await setup(t);
    for (const f of lost) await unlink(path.join(meta, f));
    const before = await snapshotTree(dir);
    const check = (e) => {
      assert.equal(e.code, 'REPOSITORY_INCOMPLETE');
      assert.ok(e.message.includes(JSON.stringify(names)), e.message);
      assert.equal(e.details.path, names);
      assert.match(e.hint, /restore .* from a backup/);
      return true;
    };
    await assert.rejects(open(dir), check);
    await assert.rejects(
      LocalRepository.transaction(new FsMetadataStore(dir), async (repo) => {
        addTarget(repo, `${NAME}:v3`, info(3));
        await repo.saveStaged();
      }),
      check,
    );
    assert.deepEqual(await snapshotTree(dir), before, 'nothing written, the lock released');
  });
}

test('an orphan versioned file (interrupted publish) is never rewritten: new versions go above it', async (t) => {
  const { dir, provider, meta } = await setup(t);
  await writeFile(path.join(meta, '3.targets.json'), 'left by an interrupted publish');
  await writeFile(path.join(meta, '3.snapshot.json'), 'left by an interrupted publish');
  const repo = await open(dir);
  addTarget(repo, `${NAME}:v3`, info(3));
  assert.equal(repo.staged.get('targets').signed.version, 4);
  const result = await publish(repo, { signers: provider });
  assert.deepEqual(
    result.published.map((p) => `${p.role} v${p.version}`),
    ['targets v4', 'snapshot v4', 'timestamp v3'],
  );
  assert.equal(await readFile(path.join(meta, '3.targets.json'), 'utf8'), 'left by an interrupted publish');
  assert.equal(await readFile(path.join(meta, '3.snapshot.json'), 'utf8'), 'left by an interrupted publish');
  assert.ok(await clientFinds(t, dir, 'v3'));
});

test('a versioned file that appeared after staging is never overwritten: PUBLISHED_FILE_EXISTS', async (t) => {
  const { dir, provider, meta } = await setup(t);
  const repo = await open(dir);
  addTarget(repo, `${NAME}:v3`, info(3)); // targets v3
  await writeFile(path.join(meta, '3.targets.json'), 'someone else wrote this');
  const before = await snapshotTree(meta);
  await assert.rejects(publish(repo, { signers: provider }), (e) => {
    assert.equal(e.code, 'PUBLISHED_FILE_EXISTS');
    assert.match(e.message, /3\.targets\.json already exists/);
    assert.match(e.hint, /no timestamp ever listed it/);
    return true;
  });
  assert.deepEqual(await snapshotTree(meta), before);
  assert.ok(await clientFinds(t, dir, 'v2'));
});
