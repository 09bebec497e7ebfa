// The one name grammar (src/tuf/names.ts, ADR 0012) and the library guards behind it:
// repository names, tags, trust names and role names that could escape a directory, split a
// log line or collide with a file are refused with typed errors; values no TUF peer signs the
// same way cannot be staged, and a staged one found on disk fails publish with a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import {
  FsMetadataStore,
  LocalRepository,
  MemoryMetadataStore,
  addDelegation,
  addTarget,
  checkBundleReference,
  isRepositoryName,
  isRoleName,
  isTag,
  publish,
  trustDir,
} from '../../dist/tuf/index.js';
import { bundleTargetName } from '../../dist/cnab/bundle.js';
import { newSigners, Sim, NAME } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshotTree } from '../helpers/cli.js';

const code = (c) => (e) => e?.code === c;

test('repository names follow the OCI distribution reference grammar', () => {
  const good = [
    'example.com/org/bundle',
    'localhost:5000/a/b',
    'Example.COM/a',
    '[::1]:5000/a',
    'a',
    'a.b_c__d--e-f',
    'org/app',
    'a'.repeat(255),
  ];
  const bad = [
    '',
    '.',
    '..',
    '../../etc',
    'a\nb',
    'A',
    'org/A',
    'a/',
    '/a',
    'a//b',
    'a%2Fb',
    'a%2F..',
    'a\0b',
    'a b',
    'a_',
    '_a',
    'a___b',
    'a:5000',
    'a'.repeat(256),
    'a'.repeat(300),
    'example.com:port/a',
  ];
  for (const n of good) assert.ok(isRepositoryName(n), JSON.stringify(n));
  for (const n of bad) assert.ok(!isRepositoryName(n), JSON.stringify(n));
  // No catastrophic backtracking: long near-misses are decided (the call returns).
  assert.ok(!isRepositoryName(`${'a-'.repeat(120)}!`));
  assert.ok(!isRepositoryName(`example.com/${'a'.repeat(240)}!`));
});

test('tags follow [\\w][\\w.-]{0,127}; bundle target names refuse the others with INVALID_TAG', () => {
  for (const t of ['A', 'v1', 'v1.0-rc.1', '_x', 'x'.repeat(128)]) assert.ok(isTag(t), t);
  for (const t of [
    '',
    '.',
    '..',
    '../../etc',
    '.a',
    '-a',
    'a\nb',
    'a/b',
    'a:b',
    'a%2Fb',
    'a\0b',
    'x'.repeat(129),
  ]) {
    assert.ok(!isTag(t), JSON.stringify(t));
    assert.throws(
      () => bundleTargetName(NAME, t),
      (e) => {
        assert.equal(e.code, 'INVALID_TAG');
        assert.ok(!/[\n\0]/.test(e.message), e.message);
        assert.match(e.hint, /\[\\w\]\[\\w\.-\]\{0,127\}/);
        return true;
      },
    );
  }
  assert.equal(bundleTargetName(NAME, 'A'), `${NAME}:A`);
});

test('bundle references split at the last : after the last /', () => {
  assert.deepEqual(checkBundleReference('localhost:5000/org/app:v1'), {
    repository: 'localhost:5000/org/app',
    tag: 'v1',
  });
  assert.throws(() => checkBundleReference('localhost:5000/org/app'), code('INVALID_NAME'));
  assert.throws(() => checkBundleReference('../x:v1'), code('INVALID_NAME'));
  assert.throws(() => checkBundleReference('org/app:v1\n'), code('INVALID_TAG'));
  assert.throws(() => checkBundleReference('org/app:'), code('INVALID_TAG'));
});

test('role names: no empty, . or .. segment, no control character, %, space or backslash', () => {
  for (const r of ['targets', 'targets/releases', 'A', 'releases', 'a.b/c', 'a/b/c.json', 'x'.repeat(200)])
    assert.ok(isRoleName(r), r);
  const bad = [
    '',
    '.',
    '..',
    'targets/../x',
    'targets/./x',
    'targets//x',
    'targets/\n',
    'targets/',
    '/x',
    'a%2Fb',
    'a\\b',
    'a b',
    'a\0b',
    'a\u2028b',
    'a.json/b',
    '\ud800',
    'x'.repeat(201),
    'a/'.repeat(100) + 'a', // 201 characters, more once encoded
  ];
  for (const r of bad) assert.ok(!isRoleName(r), JSON.stringify(r));
});

test('trust names cannot leave <home>/trust', () => {
  const home = path.resolve('/tmp/cnabsec-home');
  for (const n of ['..', '.', '../../etc', 'a\nb', 'A', '', 'a%2F..', 'a\0b', 'a'.repeat(300)])
    assert.throws(() => trustDir(home, n), code('INVALID_NAME'), JSON.stringify(n));
  assert.equal(trustDir(home, NAME), path.join(home, 'trust', encodeURIComponent(NAME)));
});

test('the file store refuses paths outside its directory, whatever the caller', async (t) => {
  const dir = await tempDir(t);
  const store = new FsMetadataStore(path.join(dir, 'repo'));
  const before = await snapshotTree(dir);
  for (const f of ['../x', 'metadata/../../x', '..', 'a/../../x', '']) {
    await assert.rejects(store.write(f, new Uint8Array([1])), code('REPO_CORRUPT'), f);
    await assert.rejects(store.remove(f), code('REPO_CORRUPT'), f);
  }
  assert.deepEqual(await snapshotTree(dir), before);
});

test('LocalRepository.create and addDelegation refuse bad names before writing anything', async (t) => {
  const store = new MemoryMetadataStore();
  const key = newSigners(1)[0].publicKey;
  const roles = Object.fromEntries(
    ['root', 'targets', 'snapshot', 'timestamp'].map((r) => [r, { keys: [key], threshold: 1 }]),
  );
  for (const name of ['../../etc', 'a\nb', '', 'A'])
    await assert.rejects(LocalRepository.create(store, { name, roles }), code('INVALID_NAME'));
  assert.equal(store.files.size, 0);
  const sim = await Sim.create(t);
  for (const name of ['targets/../x', 'targets//x', 'targets/\n', '..', 'a%2Fb', 'a.json/b']) {
    assert.throws(
      () => addDelegation(sim.repo, 'targets', { name, keys: [key], threshold: 1, paths: ['x'] }),
      code('INVALID_ROLE_NAME'),
      JSON.stringify(name),
    );
  }
  assert.equal(sim.repo.staged.size, 0);
});

test('values peers sign differently cannot be staged (UNSIGNABLE_VALUE names the path)', async (t) => {
  const sim = await Sim.create(t);
  const info = (custom) => ({ length: 1, hashes: { sha256: '0'.repeat(64) }, custom });
  const cases = [
    [{ x: 1.5 }, /\/custom\/x/],
    [{ a: { b: [1, 1e21] } }, /\/custom\/a\/b\/1/],
    [{ big: 2 ** 60 }, /\/custom\/big/],
    [{ '\u{1F600}': 1, '\uffff': 2 }, /\/custom"/],
    [{ s: '\ud800' }, /\/custom\/s/],
  ];
  for (const [custom, at] of cases) {
    assert.throws(
      () => addTarget(sim.repo, `${NAME}:v1`, info(custom)),
      (e) => e.code === 'UNSIGNABLE_VALUE' && at.test(e.message),
      JSON.stringify(custom),
    );
  }
  assert.equal(sim.repo.staged.size, 0);
  addTarget(sim.repo, `${NAME}:v1`, info({ x: 1, n: Number.MAX_SAFE_INTEGER }));
  assert.ok(sim.repo.staged.has('targets'));
});

test('a value staged on disk by hand fails publish with UNSIGNABLE_VALUE; nothing is published', async (t) => {
  const dir = await tempDir(t);
  const signers = newSigners(4);
  const roles = Object.fromEntries(
    ['root', 'targets', 'snapshot', 'timestamp'].map((r, i) => [
      r,
      { keys: [signers[i].publicKey], threshold: 1 },
    ]),
  );
  const store = new FsMetadataStore(dir);
  const repo = await LocalRepository.create(store, { name: NAME, roles });
  addTarget(repo, `${NAME}:v1`, { length: 1, hashes: { sha256: '0'.repeat(64) }, custom: { x: 1 } });
  await repo.saveStaged();
  const file = path.join(dir, 'staged', 'targets.json');
  await writeFile(file, (await readFile(file, 'utf8')).replace('"x":1', '"x":1.5'));
  const reopened = await LocalRepository.open(store);
  const byId = new Map(signers.map((s) => [s.keyid, s]));
  await assert.rejects(
    publish(reopened, { signers: async (_r, k) => byId.get(k) }),
    (e) => e.code === 'UNSIGNABLE_VALUE' && /targets/.test(e.message) && /\/custom\/x/.test(e.message),
  );
  assert.deepEqual(await readdir(path.join(dir, 'metadata')).catch(() => []), []);
});

test('a staged file whose name decodes to a role outside the grammar is refused on open', async (t) => {
  const dir = await tempDir(t);
  const sim = await Sim.create(t);
  const store = new FsMetadataStore(dir);
  for (const [f, bytes] of sim.store.files) await store.write(f, bytes);
  await store.write('staged/..%2F..%2Fx.json', new TextEncoder().encode('{}'));
  await assert.rejects(LocalRepository.open(store), code('REPO_CORRUPT'));
});
