// A broken disk under a repository or the trust store is reported as such (hardening issue):
// only "does not exist" (ENOENT) means absent. A directory where a metadata file or
// cnabsec.json should be, a file where a directory should be, or a symlink loop is STORE_IO /
// TRUST_STORE_IO with the path and errno, never "not published", "no repository" or a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import {
  FsMetadataStore,
  LocalRepository,
  TufError,
  addTrust,
  listTrust,
  publish,
} from '../../dist/tuf/index.js';
import { tempDir, fixedPassphrases } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

function storeIo(abs, errno) {
  return (e) => {
    assert.ok(e instanceof TufError, `${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, 'STORE_IO', e.message);
    assert.equal(e.details.path, abs);
    if (errno !== undefined) assert.equal(e.details.errno, errno, e.message);
    assert.ok(e.message.includes(abs), e.message);
    return true;
  };
}

/** A published repository (one key for every role). */
async function published(t) {
  const dir = await tempDir(t);
  const keys = new KeyStore(path.join(dir, 'home'));
  const pp = fixedPassphrases();
  const k = await keys.generate('ed25519', 'all', pp);
  const roles = {};
  for (const r of ['root', 'targets', 'snapshot', 'timestamp'])
    roles[r] = { keys: [k.publicKey], threshold: 1 };
  const repoDir = path.join(dir, 'repo');
  const repo = await LocalRepository.create(new FsMetadataStore(repoDir), { name: 'example.com/a/b', roles });
  await publish(repo, { signers: async () => keys.signer(k.keyid, pp) });
  return { dir, repoDir };
}

test('FsMetadataStore: absent is undefined / [], anything else is STORE_IO', async (t) => {
  const dir = await tempDir(t);
  const store = new FsMetadataStore(dir);
  assert.equal(await store.read('none.json'), undefined);
  assert.deepEqual(await store.list('none'), []);
  await mkdir(path.join(dir, 'metadata', 'timestamp.json'), { recursive: true });
  await writeFile(path.join(dir, 'metadata', '1.root.json'), '{}');
  // A directory in place of a file is listed, so that reading it reports the damage.
  assert.deepEqual((await store.list('metadata')).sort(), ['1.root.json', 'timestamp.json']);
  const ts = path.join(dir, 'metadata', 'timestamp.json');
  await assert.rejects(store.read('metadata/timestamp.json'), storeIo(ts, 'EISDIR'));
  await assert.rejects(store.write('metadata/timestamp.json', Buffer.from('x')), storeIo(ts));
  // A file where a directory should be.
  await writeFile(path.join(dir, 'staged'), 'x');
  await assert.rejects(store.list('staged'), storeIo(path.join(dir, 'staged'), 'ENOTDIR'));
  await assert.rejects(
    store.read('staged/root.json'),
    storeIo(path.join(dir, 'staged', 'root.json'), 'ENOTDIR'),
  );
  // A symlink loop.
  const loop = path.join(dir, 'loop.json');
  await symlink(loop, loop);
  await assert.rejects(store.read('loop.json'), storeIo(loop, 'ELOOP'));
});

test(
  'FsMetadataStore: an unreadable directory is STORE_IO EACCES',
  { skip: isRoot && 'root reads any file' },
  async (t) => {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'metadata'));
    await chmod(path.join(dir, 'metadata'), 0);
    t.after(() => chmod(path.join(dir, 'metadata'), 0o700));
    await assert.rejects(
      new FsMetadataStore(dir).list('metadata'),
      storeIo(path.join(dir, 'metadata'), 'EACCES'),
    );
  },
);

test('LocalRepository: cnabsec.json replaced by a directory is STORE_IO for open and create', async (t) => {
  const { repoDir } = await published(t);
  const store = new FsMetadataStore(repoDir);
  assert.equal((await LocalRepository.open(store)).published.get('timestamp')?.signed.version, 1);
  const abs = path.join(repoDir, 'cnabsec.json');
  await rm(abs);
  await mkdir(abs);
  await assert.rejects(LocalRepository.open(store), storeIo(abs, 'EISDIR'));
  await assert.rejects(LocalRepository.create(store, { name: 'x', roles: {} }), storeIo(abs, 'EISDIR'));
});

test('LocalRepository.open: each published file as a directory, one at a time', async (t) => {
  for (const file of [
    'metadata/timestamp.json',
    'metadata/1.snapshot.json',
    'metadata/1.targets.json',
    'cnabsec.json',
  ]) {
    const { repoDir } = await published(t);
    const abs = path.join(repoDir, ...file.split('/'));
    await rm(abs);
    await mkdir(abs);
    await assert.rejects(LocalRepository.open(new FsMetadataStore(repoDir)), storeIo(abs, 'EISDIR'), file);
  }
});

test('trust store: only a missing store or entry is absent', async (t) => {
  const home = await tempDir(t);
  assert.deepEqual(await listTrust(home), []);
  const trust = path.join(home, 'trust');
  await writeFile(trust, 'x');
  await assert.rejects(listTrust(home), (e) => e.code === 'TRUST_STORE_IO' && e.details.errno === 'ENOTDIR');
  await rm(trust);
  await mkdir(path.join(trust, 'example.com%2Fa', 'trust.json'), { recursive: true });
  await assert.rejects(listTrust(home), (e) => e.code === 'TRUST_STORE_IO' && e.details.errno === 'EISDIR');
  await rm(path.join(trust, 'example.com%2Fa', 'trust.json'), { recursive: true });
  await writeFile(path.join(trust, 'example.com%2Fa', 'trust.json'), '{"name": 1}');
  await assert.rejects(
    listTrust(home),
    (e) => e.code === 'TRUST_STORE_CORRUPT' && e.message.includes('trust.json'),
  );
  await writeFile(
    path.join(trust, 'example.com%2Fa', 'trust.json'),
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
  );
  await assert.rejects(listTrust(home), { code: 'TRUST_STORE_CORRUPT' });
  await writeFile(
    path.join(trust, 'example.com%2Fa', 'trust.json'),
    '{"name": "example.com/a", "url": "file:///x"}',
  );
  await writeFile(path.join(trust, 'stray-file'), 'not an entry');
  await mkdir(path.join(trust, 'empty-dir'));
  assert.deepEqual(
    (await listTrust(home)).map((e) => e.name),
    ['example.com/a'],
  );
});

test('trust add: a trust entry path that is not a directory is TRUST_STORE_IO, not a crash', async (t) => {
  const { repoDir } = await published(t);
  const home = await tempDir(t);
  const root = await readFile(path.join(repoDir, 'metadata', '1.root.json'));
  const name = 'example.com/a/b';
  await mkdir(path.join(home, 'trust'));
  const entry = path.join(home, 'trust', encodeURIComponent(name));
  await writeFile(entry, 'a file where the entry directory should be');
  for (const replace of [false, true]) {
    await assert.rejects(addTrust(home, name, root, 'file:///x', replace), (e) => {
      assert.equal(e.code, 'TRUST_STORE_IO', e.message);
      assert.equal(e.details.errno, 'ENOTDIR', e.message);
      assert.ok(e.message.includes(entry), e.message);
      return true;
    });
  }
  await rm(entry);
  assert.equal((await addTrust(home, name, root, 'file:///x')).name, name);
  assert.deepEqual(
    (await listTrust(home)).map((e) => e.name),
    [name],
  );
});

test('deep or unsafe-number repository files are refused with a code, not a stack overflow', async (t) => {
  const { repoDir } = await published(t);
  const store = new FsMetadataStore(repoDir);
  const deep = '['.repeat(20000) + ']'.repeat(20000);
  // a staged role nested 20 000 levels deep
  await mkdir(path.join(repoDir, 'staged'), { recursive: true });
  await writeFile(path.join(repoDir, 'staged', 'targets.json'), `{"signed":${deep},"signatures":[]}`);
  await assert.rejects(LocalRepository.open(store), (e) => {
    assert.ok(e instanceof TufError, `${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, 'REPO_CORRUPT', e.message);
    assert.equal(e.cause?.code, 'JSON_TOO_DEEP');
    return true;
  });
  // a published snapshot whose version is a number JSON.parse would round
  await rm(path.join(repoDir, 'staged', 'targets.json'));
  const snap = path.join(repoDir, 'metadata', '1.snapshot.json');
  const text = (await readFile(snap, 'utf8')).replace('"version":1', '"version":12345678901234567890');
  await writeFile(snap, text);
  await assert.rejects(
    LocalRepository.open(store),
    (e) => e instanceof TufError && e.cause?.code === 'JSON_NUMBER_UNSAFE',
  );
  // cnabsec.json nested deeply
  await writeFile(path.join(repoDir, 'cnabsec.json'), deep);
  await assert.rejects(
    LocalRepository.open(store),
    (e) => e instanceof TufError && e.cause?.code === 'JSON_TOO_DEEP',
  );
});
