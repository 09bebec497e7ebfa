// workflows/init as a library: planInit refuses bad inputs before anything is generated or
// written; applyInit creates what the plan says, records the repository, and rolls back
// (keys removed with KeyStore.remove, created files removed) when any step fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository } from '../../dist/tuf/index.js';
import { applyInit, knownRepositories, planInit } from '../../dist/workflows/index.js';
import { snapshotTree } from '../helpers/cli.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';

async function setup(t) {
  const work = await tempDir(t, 'cnabsec-wf-init-');
  const home = path.join(work, 'home');
  return { work, home, dir: path.join(work, 'repo'), store: new KeyStore(home) };
}

async function keyFiles(home) {
  return readdir(path.join(home, 'keys')).catch(() => []);
}

test('planInit refuses every bad input with a coded error and writes nothing', async (t) => {
  const { work, dir, store, home } = await setup(t);
  await mkdir(path.join(work, 'existing'));
  await writeFile(path.join(work, 'existing', 'cnabsec.json'), '{}');
  const unsigned = {
    layout: Buffer.from(
      JSON.stringify({
        signed: {
          _type: 'layout',
          expires: '2099-01-01T00:00:00Z',
          keys: {},
          steps: [],
          inspect: [],
          readme: '',
        },
        signatures: [],
      }),
    ),
    keys: [],
  };
  const cases = [
    [{ dir }, 'NAME_REQUIRED', /give --name <oci name>.*--name-from-dir/],
    [{ dir, name: NAME, nameFromDir: true }, 'WORKFLOW_INVALID_PLAN'],
    [{ dir, name: 'Upper/Case' }, 'INVALID_NAME'],
    [{ dir: path.join(work, 'Not An OCI Name'), nameFromDir: true }, 'INVALID_NAME'],
    [{ dir, name: NAME, keyType: 'rsa-1' }, 'KEY_UNSUPPORTED_TYPE'],
    [
      { dir, name: NAME, roles: { root: { count: 2, threshold: 3 } } },
      'THRESHOLD_NOT_MET',
      /root: threshold 3/,
    ],
    [{ dir, name: NAME, roles: { targets: { count: 0 } } }, 'WORKFLOW_INVALID_PLAN'],
    [{ dir, name: NAME, serverManaged: true }, 'INVALID_ARGUMENT', /server's snapshot public key/],
    [{ dir, name: NAME, expiry: { timestamp: '1h' } }, 'EXPIRY_TOO_SHORT', /timestamp expiry 1h/],
    [{ dir, name: NAME, expiry: { snapshot: 60 } }, 'EXPIRY_TOO_SHORT'],
    [{ dir, name: NAME, expiry: { root: '5q' } }, 'INVALID_DURATION'],
    [
      { dir, name: NAME, roles: { root: { keys: [path.join(work, 'no-such.pem')] } }, keyStore: store },
      'KEY_NOT_FOUND',
    ],
    [{ dir: path.join(work, 'existing'), name: NAME }, 'REPO_CORRUPT'],
    [{ dir, name: NAME, inToto: { layout: unsigned } }, 'INTOTO_SIGNATURE_INVALID'],
  ];
  const before = await snapshotTree(work);
  for (const [opts, code, message] of cases) {
    await assert.rejects(planInit(opts), (e) => {
      assert.equal(e.code, code, `${JSON.stringify(opts)}: ${e.message}`);
      if (message !== undefined) assert.match(`${e.message} ${e.hint ?? ''}`, message);
      return true;
    });
  }
  assert.deepEqual(await snapshotTree(work), before);
  assert.ok(!existsSync(home));
});

test('planInit: a threshold not given is a majority of the keys, and the plan says so', async (t) => {
  const { dir } = await setup(t);
  const plan = await planInit({
    dir,
    name: NAME,
    roles: { root: { count: 3 }, targets: { count: 4 }, snapshot: { count: 2, threshold: 1 } },
  });
  assert.deepEqual(
    Object.values(plan.roles).map((r) => [r.role, r.keys.length, r.threshold, r.thresholdDefault]),
    [
      ['root', 3, 2, 'majority'],
      ['targets', 4, 3, 'majority'],
      ['snapshot', 2, 1, undefined],
      ['timestamp', 1, 1, undefined],
    ],
  );
  assert.ok(plan.roles.root.keys.every((k) => k === 'new'));
  assert.ok(!existsSync(dir));
});

test('applyInit creates the planned repository and records it for key list', async (t) => {
  const { dir, store, home } = await setup(t);
  const plan = await planInit({
    dir,
    name: NAME,
    roles: { root: { count: 3 } },
    expiry: { timestamp: '2h' },
  });
  const r = await applyInit(plan, { keyStore: store, passphrases: fixedPassphrases() });
  assert.equal(r.generated.length, 6);
  assert.deepEqual((await keyFiles(home)).sort(), r.generated.map((k) => `${k}.key`).sort());
  assert.deepEqual(
    [r.roles.root.threshold, r.roles.root.keyids.length, r.roles.root.thresholdDefault],
    [2, 3, 'majority'],
  );
  const repo = await LocalRepository.open(new FsMetadataStore(dir));
  assert.equal(repo.config.name, NAME);
  assert.equal(repo.config.expiry.timestamp, 7200);
  assert.equal(repo.root.signed.roles.root.threshold, 2);
  assert.deepEqual(repo.root.signed.roles.root.keyIDs, r.roles.root.keyids);
  await assert.rejects(planInit({ dir, name: NAME }), { code: 'REPO_EXISTS' });
  const known = await knownRepositories(home);
  assert.deepEqual(
    known.map((k) => [k.name, k.location]),
    [[NAME, path.resolve(dir)]],
  );
});

test('applyInit: a passphrase source failing on the 3rd key leaves no key file, no home, no repository', async (t) => {
  const { dir, store, home } = await setup(t);
  const plan = await planInit({ dir, name: NAME });
  let calls = 0;
  const passphrases = async () => {
    calls += 1;
    if (calls === 3) throw new Error('passphrase source failed');
    return 'pw';
  };
  await assert.rejects(applyInit(plan, { keyStore: store, passphrases }), /passphrase source failed/);
  assert.equal(calls, 3);
  assert.ok(!existsSync(home), 'home removed');
  assert.ok(!existsSync(dir), 'repository not created');
});

test('applyInit rollback keeps what existed: other keys, the home, an empty directory', async (t) => {
  const { dir, store, home, work } = await setup(t);
  const other = await store.generate('ed25519', 'other', fixedPassphrases());
  await mkdir(dir);
  const before = await snapshotTree(work);
  const plan = await planInit({ dir, name: NAME, roles: { targets: { count: 2 } } });
  // two years ago: root (one year) would be expired already, refused after it was created
  const now = new Date(Date.now() - 2 * 365 * 86_400_000);
  await assert.rejects(applyInit(plan, { keyStore: store, passphrases: fixedPassphrases(), now }), (e) => {
    assert.equal(e.code, 'ROLE_EXPIRED');
    assert.match(e.message, /root v1 expired/);
    return true;
  });
  assert.deepEqual(await snapshotTree(work), before);
  assert.deepEqual(await keyFiles(home), [`${other.keyid}.key`]);
});

test('applyInit refuses a broken known-repositories registry before generating any key', async (t) => {
  const { dir, store, home, work } = await setup(t);
  await mkdir(home, { recursive: true });
  await writeFile(path.join(home, 'repositories.json'), '{"repositories": 3}');
  const before = await snapshotTree(work);
  const plan = await planInit({ dir, name: NAME });
  await assert.rejects(applyInit(plan, { keyStore: store, passphrases: fixedPassphrases() }), {
    code: 'KNOWN_REPOSITORIES_IO',
  });
  assert.deepEqual(await snapshotTree(work), before);
});

test('planInit --name-from-dir takes the directory name; given keys are resolved, not generated', async (t) => {
  const { work, store } = await setup(t);
  const dir = path.join(work, 'bundle');
  const root = await store.generate('ed25519', 'root', fixedPassphrases());
  const plan = await planInit({
    dir,
    nameFromDir: true,
    roles: { root: { keys: [root.keyid.slice(0, 12)], count: 2 } },
    keyStore: store,
  });
  assert.equal(plan.name, 'bundle');
  assert.deepEqual(plan.roles.root.keys, [root.publicKey, 'new']);
  const r = await applyInit(plan, { keyStore: store, passphrases: fixedPassphrases() });
  assert.ok(r.roles.root.keyids.includes(root.keyid));
  assert.equal(r.generated.length, 4);
  assert.ok(!r.generated.includes(root.keyid));
});
