// Issue 13 item 5 end to end against the real metadata repository server (in this process,
// test/helpers/metadata-server.js): init --server with a server-managed timestamp → bundle add
// → publish (the server signs the timestamp) → a user trusts the server and looks the bundle
// up; a second maintainer clones, stages and publishes; the first maintainer's stale publish is
// one line (PUBLISH_CONFLICT) and changes nothing locally; pull, then publish again. The bearer
// token reaches the server on every request; a server that is down is one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOkAsync, runCliAsync, snapshotTree } from '../helpers/cli.js';
import { recordingAuthenticator, startMetadataServer } from '../helpers/metadata-server.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/org/app';
const PASS = 'correct horse battery staple';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));

const json = async (args, env) => JSON.parse(await cliOkAsync([...args, '--json'], { env }));
const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

/** The Authorization headers of every request the server got from number `from` on (at least one). */
function tokensSince(server, from) {
  const seen = server.requests.slice(from);
  assert.ok(seen.length > 0, 'requests reached the server');
  return new Set(seen.map((r) => r.authorization));
}

test('remote: init --server, publish, trust --server + lookup, clone, stale publish, pull', async (t) => {
  const auth = recordingAuthenticator();
  const server = await startMetadataServer(t, { authenticator: auth });
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const one = { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: PASS, CI: 'true', CNABSEC_TOKEN: 'token-one' };
  const two = { ...one, CNABSEC_TOKEN: 'token-two' };
  const user = { CNABSEC_HOME: path.join(dir, 'user'), CI: 'true', CNABSEC_TOKEN: 'token-user' };
  const repo1 = path.join(dir, 'repo1');
  const repo2 = path.join(dir, 'repo2');

  // the first maintainer: the server holds the timestamp key
  const init = await json(
    ['init', repo1, '--name', NAME, '--server', server.url, '--server-managed', 'timestamp'],
    one,
  );
  assert.deepEqual(init.server, { url: server.url, managed: ['timestamp'] });
  const serverKey = await server.service.publicKey(NAME, 'timestamp');
  assert.deepEqual(init.roles.find((r) => r.role === 'timestamp').keyids, [serverKey.keyid]);
  assert.equal(init.generated.includes(serverKey.keyid), false);
  const config = await readJson(path.join(repo1, 'cnabsec.json'));
  assert.deepEqual(config.server, { url: server.url, managed: ['timestamp'] });

  await cliOkAsync(['bundle', 'add', repo1, 'v1', '--thin', FIXTURE], { env: one });
  const mark = server.requests.length;
  const authMark = auth.calls.length;
  const pub = await json(['publish', repo1], one);
  assert.deepEqual(pub.published.map((p) => p.role).sort(), ['root', 'snapshot', 'targets', 'timestamp']);
  assert.deepEqual(tokensSince(server, mark), new Set(['Bearer token-one']));
  // the Authenticator saw the token on reads and on the one upload
  const calls = auth.calls.slice(authMark);
  assert.deepEqual(new Set(calls.map((c) => c.authorization)), new Set(['Bearer token-one']));
  assert.ok(calls.some((c) => c.action === 'read'));
  assert.equal(server.requests.slice(mark).filter((r) => r.method === 'POST').length, 1, 'one upload');
  // the server signed the timestamp; the local published state is the server's
  const ts = await readJson(path.join(repo1, 'metadata', 'timestamp.json'));
  assert.deepEqual(
    ts.signatures.map((s) => s.keyid),
    [serverKey.keyid],
  );
  assert.deepEqual(
    Buffer.from(JSON.stringify(ts)),
    Buffer.from(
      JSON.stringify(JSON.parse((await server.service.current(NAME, 'timestamp')).bytes.toString())),
    ),
  );

  // a user trusts the server and finds the bundle; lookup sends the user's token
  await cliOkAsync(
    ['trust', 'add', NAME, '--root', path.join(repo1, 'metadata', '1.root.json'), '--server', server.url],
    { env: user },
  );
  const userMark = server.requests.length;
  const found = await json(['lookup', `${NAME}:v1`], user);
  assert.equal(found.name, `${NAME}:v1`);
  assert.deepEqual(tokensSince(server, userMark), new Set(['Bearer token-user']));

  // the second maintainer clones (metadata only) and publishes v2
  const cloneMark = server.requests.length;
  const cloned = await json(['clone', server.url, NAME, repo2], two);
  assert.deepEqual(cloned.server, { url: server.url, managed: ['timestamp'] });
  assert.equal(cloned.root.version, 1);
  await cliOkAsync(['bundle', 'add', repo2, 'v2', '--thin', FIXTURE], { env: two });
  await json(['publish', repo2], two);
  assert.deepEqual(tokensSince(server, cloneMark), new Set(['Bearer token-two']));

  // the first maintainer is stale: one line, exit 1, nothing changed locally
  await cliOkAsync(['bundle', 'add', repo1, 'v3', '--thin', FIXTURE], { env: one });
  const before = await snapshotTree(repo1);
  const stale = await runCliAsync(['publish', repo1], { env: one });
  assert.equal(stale.status, 1, stale.stderr);
  assert.equal(
    stale.stderr.split('\n')[0],
    `cnabsec: error [PUBLISH_CONFLICT]: ${NAME}: someone published first: run \`cnabsec pull <dir>\` and retry`,
  );
  assert.doesNotMatch(stale.stderr, /\n\s+at /);
  assert.deepEqual(await snapshotTree(repo1), before);

  // pull: the server's state; the staged v3 is replayed on the pulled targets; publish again
  const pulled = await json(['pull', repo1], one);
  assert.ok(pulled.updated.some((u) => u.role === 'targets' && u.version === 2));
  assert.deepEqual([pulled.rebased, pulled.dropped], [['targets'], []]);
  await json(['publish', repo1], one);
  for (const tag of ['v1', 'v2', 'v3'])
    assert.equal((await json(['lookup', `${NAME}:${tag}`], user)).name, `${NAME}:${tag}`);

  // a new root (a targets key added) goes through the server; the clone pulls the chain
  await cliOkAsync(['key', 'rotate', repo1, 'targets', '--add-key', 'new'], { env: one });
  await json(['publish', repo1], one);
  const chain = await json(['pull', repo2], two);
  assert.ok(
    chain.updated.some((u) => u.role === 'root' && u.version === 2),
    JSON.stringify(chain),
  );
  const meta2 = path.join(repo2, 'metadata');
  assert.deepEqual(
    await readFile(path.join(meta2, 'root.json')),
    await readFile(path.join(meta2, '2.root.json')),
  );
  assert.equal((await json(['lookup', `${NAME}:v3`], user)).name, `${NAME}:v3`);

  // the server is down: one line naming the URL and the reason
  await server.close();
  const down = await runCliAsync(['pull', repo1], { env: one });
  assert.equal(down.status, 1);
  assert.match(
    down.stderr.split('\n')[0],
    /^cnabsec: error \[TUF_SERVER_UNREACHABLE\]: cannot reach "http:\/\/127\.0\.0\.1:\d+\/v2\/example\.com\/org\/app\/_trust\/tuf\/timestamp\.json": connection refused$/,
  );
});

test('remote: a server-managed snapshot and timestamp; the server signs both', async (t) => {
  const server = await startMetadataServer(t);
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: PASS, CI: 'true' };
  const repo = path.join(dir, 'repo');
  await json(
    ['init', repo, '--name', NAME, '--server', server.url, '--server-managed', 'snapshot,timestamp'],
    env,
  );
  await cliOkAsync(['bundle', 'add', repo, 'v1', '--thin', FIXTURE], { env });
  const pub = await json(['publish', repo], env);
  assert.ok(pub.published.some((p) => p.role === 'snapshot'));
  for (const role of ['snapshot', 'timestamp']) {
    const key = await server.service.publicKey(NAME, role);
    const file = role === 'timestamp' ? 'timestamp.json' : '1.snapshot.json';
    const md = await readJson(path.join(repo, 'metadata', file));
    assert.deepEqual(
      md.signatures.map((s) => s.keyid),
      [key.keyid],
      role,
    );
  }
  const status = await json(['status', repo], env);
  assert.equal(status.serverManaged, true);
  assert.deepEqual(status.staged, []);
});

test('remote: a developer-managed repository on the server (--server-managed none)', async (t) => {
  const server = await startMetadataServer(t);
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: PASS, CI: 'true' };
  const repo = path.join(dir, 'repo');
  const init = await json(
    ['init', repo, '--name', NAME, '--server', server.url, '--server-managed', 'none'],
    env,
  );
  assert.deepEqual(init.server, { url: server.url, managed: [] });
  const own = init.roles.find((r) => r.role === 'timestamp').keyids;
  assert.deepEqual(
    own,
    init.generated.filter((k) => own.includes(k)),
  );
  await cliOkAsync(['bundle', 'add', repo, 'v1', '--thin', FIXTURE], { env });
  const pub = await json(['publish', repo], env);
  assert.deepEqual(pub.published.map((p) => p.role).sort(), ['root', 'snapshot', 'targets', 'timestamp']);
  const stored = await server.service.current(NAME, 'timestamp');
  assert.deepEqual(
    JSON.parse(Buffer.from(stored.bytes).toString()).signatures.map((s) => s.keyid),
    own,
  );
  const cloned = await json(['clone', server.url, NAME, path.join(dir, 'clone')], env);
  assert.deepEqual(cloned.server.managed, []);
});
