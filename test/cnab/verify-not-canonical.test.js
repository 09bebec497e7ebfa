// verify of a thin bundle that differs from its signed target only in its JSON form
// (indentation, key order, a trailing newline) says so with the canonicalize hint (issue 12
// item 4); any other difference stays a plain BUNDLE_HASH_MISMATCH.
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
  addTarget,
  publish,
} from '../../dist/tuf/index.js';
import { verifyBundle } from '../../dist/cnab/index.js';
import { tempDir } from '../helpers/tmp.js';

const R = 'example.com/org/bundle';
const VALUE = { invocationImages: [], name: 'demo', schemaVersion: 'v1.0.0', version: '1.0.0' };
const CANONICAL = Buffer.from(JSON.stringify(VALUE)); // keys already sorted, no spaces: canonical

async function repository(t) {
  const work = await tempDir(t);
  const dir = path.join(work, 'repo');
  const signer = new KeyObjectSigner(generateKeyPair('ed25519').privateKey);
  const roles = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    roles[role] = { keys: [signer.publicKey], threshold: 1 };
  const repo = await LocalRepository.create(new FsMetadataStore(dir), { name: R, roles });
  addTarget(repo, `${R}:v1`, {
    length: CANONICAL.length,
    hashes: { sha256: createHash('sha256').update(CANONICAL).digest('hex') },
  });
  await publish(repo, { signers: async () => signer });
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
  const verify = async (bytes) => {
    const thin = path.join(work, `bundle-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(thin, bytes);
    return { thin, result: verifyBundle({ target: `${R}:v1`, home: work, thin, client: client() }) };
  };
  return { verify };
}

test('the canonical bundle verifies (set-up)', async (t) => {
  const { verify } = await repository(t);
  const { result } = await verify(CANONICAL);
  assert.equal((await result).sha256, createHash('sha256').update(CANONICAL).digest('hex'));
});

const sameBundle = [
  ['a trailing newline', Buffer.concat([CANONICAL, Buffer.from('\n')])],
  ['pretty-printed', Buffer.from(JSON.stringify(VALUE, null, 2) + '\n')],
  // same length as the canonical bytes: only the hash differs
  [
    'keys in another order',
    Buffer.from(
      JSON.stringify({ version: '1.0.0', name: 'demo', schemaVersion: 'v1.0.0', invocationImages: [] }),
    ),
  ],
];

for (const [what, bytes] of sameBundle) {
  test(`verify: ${what} -> BUNDLE_NOT_CANONICAL with the canonicalize hint`, async (t) => {
    const { verify } = await repository(t);
    const { thin, result } = await verify(bytes);
    await assert.rejects(result, (e) => {
      assert.equal(e.code, 'BUNDLE_NOT_CANONICAL', e.message);
      assert.match(e.message, /is the signed bundle, but not in canonical JSON form/);
      assert.ok(e.hint.includes(`cnabsec bundle canonicalize ${thin}`), e.hint);
      return true;
    });
  });
}

const otherBundle = [
  ['another bundle, pretty-printed', Buffer.from(JSON.stringify({ ...VALUE, version: '1.0.1' }, null, 2))],
  ['another bundle of the same length', Buffer.from(JSON.stringify({ ...VALUE, version: '1.0.2' }))],
  ['not JSON', Buffer.from('{"invocationImages":[],"name":"demo"')],
];

for (const [what, bytes] of otherBundle) {
  test(`verify: ${what} -> the plain BUNDLE_HASH_MISMATCH`, async (t) => {
    const { verify } = await repository(t);
    const { result } = await verify(bytes);
    await assert.rejects(result, (e) => {
      assert.equal(e.code, 'BUNDLE_HASH_MISMATCH', e.message);
      assert.doesNotMatch(e.hint, /canonicalize/);
      return true;
    });
  });
}
