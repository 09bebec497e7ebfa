// Doc 303 step 1 end to end on a real repository directory, without python in-toto: the TUF
// freeze and rollback attacks of test/cnab/provenance-e2e.test.js, split from its in-toto parts
// so that they run on every machine. A repository on disk (root, targets, snapshot, timestamp
// and the doc 301 delegation targets/releases) is read by our client over file://.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KeyObjectSigner, generateKeyPair } from '../../dist/crypto/index.js';
import {
  FileFetcher,
  FsMetadataStore,
  LocalRepository,
  TrustClient,
  addDelegation,
  addTarget,
  publish,
  refresh,
} from '../../dist/tuf/index.js';
import { verifyBundle } from '../../dist/cnab/index.js';
import { tempDir } from '../helpers/tmp.js';

const R = 'example.com/org/bundle';
const DAY = 86_400_000;
const BUNDLE = Buffer.from(
  '{"invocationImages":[],"name":"demo","schemaVersion":"v1.0.0","version":"1.0.0"}',
);

/** A published repository on disk with targets/releases signing `${R}:v1`; a client pinned to root v1. */
async function repository(t) {
  const work = await tempDir(t);
  const dir = path.join(work, 'repo');
  const signers = new Map();
  const keys = (n) =>
    Array.from({ length: n }, () => {
      const s = new KeyObjectSigner(generateKeyPair('ed25519').privateKey);
      signers.set(s.keyid, s);
      return s.publicKey;
    });
  const roles = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    roles[role] = { keys: keys(1), threshold: 1 };
  const repo = await LocalRepository.create(new FsMetadataStore(dir), { name: R, roles });
  const provider = async (_role, keyid) => signers.get(keyid);
  await publish(repo, { signers: provider });
  addDelegation(repo, 'targets', {
    name: 'targets/releases',
    keys: keys(2),
    threshold: 1,
    paths: [`${R}:*`, `${R}/in-toto-metadata/*/*.link`],
  });
  addTarget(repo, `${R}:v1`, {
    length: BUNDLE.length,
    hashes: { sha256: createHash('sha256').update(BUNDLE).digest('hex') },
  });
  await publish(repo, { signers: provider });
  const thin = path.join(work, 'bundle.json');
  await writeFile(thin, BUNDLE);
  const cache = path.join(work, 'cache');
  await mkdir(cache);
  await cp(path.join(dir, 'metadata', '1.root.json'), path.join(cache, 'root.json'));
  const client = () =>
    new TrustClient({
      name: R,
      metadataUrl: pathToFileURL(path.join(dir, 'metadata')).href,
      cacheDir: cache,
      fetcher: new FileFetcher(),
    });
  return { repo, dir, thin, client, signers: provider, home: work };
}

test('setup: the repository verifies (targets/releases signs the bundle)', async (t) => {
  const r = await repository(t);
  assert.deepEqual(Object.keys(r.repo.targetsOf('targets/releases').signed.targets), [`${R}:v1`]);
  const ok = await verifyBundle({ target: `${R}:v1`, home: r.home, thin: r.thin, client: r.client() });
  assert.equal(ok.length, BUNDLE.length);
});

test('attack: expired timestamp (freeze) → TUF_UPDATE_FAILED (TUF_EXPIRED_METADATA)', async (t) => {
  const r = await repository(t);
  await refresh(r.repo, { signers: r.signers, force: true, now: new Date(Date.now() - 3 * DAY) });
  await assert.rejects(
    verifyBundle({ target: `${R}:v1`, home: r.home, thin: r.thin, client: r.client() }),
    (e) => {
      assert.equal(e.code, 'TUF_UPDATE_FAILED');
      assert.equal(e.details.tufCode, 'TUF_EXPIRED_METADATA');
      assert.equal(e.details.step, 1);
      return true;
    },
  );
});

test('attack: rollback of targets/releases → TUF_UPDATE_FAILED (TUF_ROLLBACK)', async (t) => {
  const r = await repository(t);
  r.repo.edit('targets/releases', () => {});
  await publish(r.repo, { signers: r.signers });
  const meta = path.join(r.dir, 'metadata');
  await cp(path.join(meta, '1.targets%2Freleases.json'), path.join(meta, '2.targets%2Freleases.json'));
  await assert.rejects(
    verifyBundle({ target: `${R}:v1`, home: r.home, thin: r.thin, client: r.client() }),
    (e) => {
      assert.equal(e.code, 'TUF_UPDATE_FAILED');
      assert.equal(e.details.tufCode, 'TUF_ROLLBACK');
      assert.match(e.message, /targets\/releases v1/);
      return true;
    },
  );
});
