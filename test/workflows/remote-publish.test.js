// Publishing to the metadata repository server as a library (src/workflows/remote-publish.ts,
// remote-clone.ts) against the real server in this process: planInit with a server lists the
// server's timestamp key; a publish that loses the race at the server itself (after its own
// staleness check passed) is PUBLISH_CONFLICT and writes nothing locally; every request carries
// the token; cnabsec.json without `server` still opens, a broken `server` is REPO_CORRUPT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository, addTarget } from '../../dist/tuf/index.js';
import { parseConfig } from '../../dist/tuf/repository-io.js';
import {
  RemoteRepository,
  applyInit,
  cloneRepository,
  planInit,
  publishRemote,
  pullRepository,
} from '../../dist/workflows/index.js';
import { targetChanges } from '../../dist/workflows/remote-rebase.js';
import { snapshotTree } from '../helpers/cli.js';
import { recordingAuthenticator, startMetadataServer } from '../helpers/metadata-server.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';
const open = (dir) => LocalRepository.open(new FsMetadataStore(dir));

function stage(repo, tag) {
  addTarget(repo, `${NAME}:${tag}`, { length: tag.length, hashes: { sha256: 'ab'.repeat(32) } });
  return repo.saveStaged();
}

test('remote publish: a race lost at the server is PUBLISH_CONFLICT, nothing written locally', async (t) => {
  const auth = recordingAuthenticator();
  const server = await startMetadataServer(t, { authenticator: auth });
  const work = await tempDir(t);
  const home = path.join(work, 'home');
  const keyStore = new KeyStore(home);
  const passphrases = fixedPassphrases();
  const signers = async (role, keyid) =>
    (await keyStore.has(keyid)) ? keyStore.signer(keyid, passphrases, role) : undefined;
  const [a, b] = [path.join(work, 'a'), path.join(work, 'b')];

  const plan = await planInit({ dir: a, name: NAME, keyStore, server: { url: server.url, token: 'tok' } });
  const serverKey = await server.service.publicKey(NAME, 'timestamp');
  assert.deepEqual(plan.server, { url: server.url, managed: ['timestamp'] });
  assert.deepEqual(plan.roles.timestamp.keys, [serverKey.public]);
  await assert.rejects(
    planInit({
      dir: a,
      name: NAME,
      keyStore,
      server: { url: server.url },
      roles: { timestamp: { count: 2 } },
    }),
    { code: 'WORKFLOW_INVALID_PLAN', message: /timestamp is held by the server/ },
  );
  const init = await applyInit(plan, { keyStore, passphrases, home });
  assert.equal(init.generated.includes(serverKey.keyid), false);

  const remote = new RemoteRepository({ server: server.url, repo: NAME, token: 'tok' });
  const repoA = await open(a);
  await stage(repoA, 'v1');
  const first = await publishRemote(repoA, remote, { signers });
  assert.ok(first.published.some((p) => p.role === 'timestamp' && p.signedByServer));
  const cloned = await cloneRepository({ server: server.url, name: NAME, dir: b, token: 'tok' });
  assert.deepEqual(cloned.managed, ['timestamp']);

  const repoB = await open(b);
  await stage(repoA, 'v2');
  await stage(repoB, 'v2b');
  const before = await snapshotTree(b);
  await assert.rejects(
    publishRemote(repoB, remote, {
      signers,
      // A publishes between B's staleness check and B's upload: the server refuses B
      beforeUpload: () => publishRemote(repoA, remote, { signers }).then(() => undefined),
    }),
    (e) => {
      assert.equal(e.code, 'PUBLISH_CONFLICT');
      assert.equal(e.message, `${NAME}: someone published first: run \`cnabsec pull <dir>\` and retry`);
      assert.ok(['VERSION_CONFLICT', 'UPLOAD_REFUSED'].includes(e.details.serverCode), e.details.serverCode);
      return true;
    },
  );
  assert.deepEqual(await snapshotTree(b), before);
  const pulled = await pullRepository(await open(b), { token: 'tok' });
  assert.deepEqual([pulled.rebased, pulled.dropped], [['targets'], []]);
  // B's own change (v2b) replayed on A's targets v2: staged v3 with both tags; publish succeeds
  const rebased = await open(b);
  assert.equal(rebased.published.get('targets').signed.version, 2);
  assert.equal(rebased.staged.get('targets').signed.version, 3);
  assert.deepEqual(Object.keys(rebased.staged.get('targets').signed.targets).sort(), [
    `${NAME}:v1`,
    `${NAME}:v2`,
    `${NAME}:v2b`,
  ]);
  await publishRemote(rebased, remote, { signers });
  assert.ok(auth.calls.length > 10);
  assert.deepEqual(new Set(auth.calls.map((c) => c.authorization)), new Set(['Bearer tok']));
});

test('remote config: cnabsec.json without server opens as before; a broken server entry is REPO_CORRUPT', () => {
  const base = { _type: 'cnabsec-repository', version: 1, name: NAME, serverManaged: false };
  const expiry = { root: 1, targets: 1, snapshot: 1, timestamp: 1, delegated: 1 };
  const bytes = (o) => Buffer.from(JSON.stringify({ ...base, expiry, ...o }));
  assert.equal(parseConfig(bytes({}), 'r').server, undefined);
  const server = { url: 'http://127.0.0.1:4443', managed: ['snapshot', 'timestamp'] };
  assert.deepEqual(parseConfig(bytes({ server }), 'r').server, server);
  for (const bad of [{ url: 'ftp://x', managed: [] }, { url: 'http://x', managed: ['root'] }, 'http://x'])
    assert.throws(() => parseConfig(bytes({ server: bad }), 'r'), { code: 'REPO_CORRUPT' });
});

test('remote rebase: only target entries are replayed; a changed delegation is not', () => {
  const md = (targets, delegations) => ({
    signed: { toJSON: () => ({ targets, ...(delegations ? { delegations } : {}) }) },
  });
  const base = md({ a: { length: 1 }, b: { length: 2 } });
  assert.deepEqual(targetChanges('targets', base, md({ a: { length: 1 }, c: { length: 3 } })), {
    set: { c: { length: 3 } },
    removed: ['b'],
  });
  assert.deepEqual(targetChanges('targets/releases', undefined, md({ a: { length: 9 } })), {
    set: { a: { length: 9 } },
    removed: [],
  });
  assert.equal(targetChanges('targets', base, md({ a: { length: 1 } }, { roles: [] })), undefined);
  assert.equal(targetChanges('root', base, base), undefined);
});
