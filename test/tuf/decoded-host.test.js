// Delegated role files on static hosts that decode `%2F` (nginx, S3, ...; ADR 0012):
// tuf-js and python-tuf request `/<N>.targets%2Freleases.json`, which such a host looks up as
// the file `<N>.targets/releases.json`. publish writes both names with the same bytes, so the
// unmodified tuf-js Updaters (and our client) update through such a host; `cnabsec serve`,
// status and advisory are not confused by the new `<N>.targets/` directories.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Updater as Updater5 } from 'tuf-js';
import { Updater as Updater6 } from 'tuf-js-6';
import { CLI, childEnv, cliOk } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';

const NAME = 'example.com/org/decoded';
const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
const ctx = {};
const cli = (...args) => cliOk(args, { env: ctx.env });

/** A static file host that decodes the whole path, `%2F` included, as nginx does. */
async function decodingHost(root) {
  const requests = [];
  const server = createServer((req, res) => {
    void (async () => {
      let rel;
      try {
        rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      } catch {
        return res.writeHead(400).end();
      }
      requests.push(rel);
      const file = path.resolve(root, `.${rel}`);
      const st = file.startsWith(root + path.sep) ? await stat(file).catch(() => undefined) : undefined;
      if (st?.isFile() !== true) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(file).pipe(res);
    })();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-decoded-'));
  ctx.env = { CNABSEC_HOME: path.join(ctx.work, 'home'), CNABSEC_PASSPHRASE: 'decoded pass', CI: 'true' };
  ctx.repo = path.join(ctx.work, 'repo');
  ctx.meta = path.join(ctx.repo, 'metadata');
  cli('init', ctx.repo, '--name', NAME);
  cli('delegation', 'add', ctx.repo, 'targets/releases', '--paths', `${NAME}:*`);
  cli('bundle', 'add', ctx.repo, 'v1', '--thin', FIXTURE);
  cli('publish', ctx.repo);
  cli('bundle', 'add', ctx.repo, 'v2', '--thin', FIXTURE);
  cli('publish', ctx.repo);
  ctx.host = await decodingHost(ctx.meta);
});

after(async () => {
  await ctx.host?.close();
  await rm(ctx.work, { recursive: true, force: true });
});

test('every delegated role version is also written decoded, byte-identical', async () => {
  for (const v of [1, 2]) {
    const encoded = await readFile(path.join(ctx.meta, `${v}.targets%2Freleases.json`));
    const decoded = await readFile(path.join(ctx.meta, `${v}.targets`, 'releases.json'));
    assert.ok(encoded.equals(decoded), `version ${v}`);
  }
  // only the delegated roles get a directory; top-level roles have one file each
  const dirs = (await readdir(ctx.meta, { withFileTypes: true })).filter((d) => d.isDirectory());
  assert.deepEqual(dirs.map((d) => d.name).sort(), ['1.targets', '2.targets']);
});

for (const [label, Updater] of [
  ['tuf-js 5', Updater5],
  ['tuf-js 6', Updater6],
]) {
  test(`the unmodified ${label} Updater updates through a host that decodes %2F`, async () => {
    const dir = await mkdtemp(path.join(ctx.work, 'client-'));
    await copyFile(path.join(ctx.meta, '1.root.json'), path.join(dir, 'root.json'));
    const updater = new Updater({ metadataDir: dir, metadataBaseUrl: ctx.host.url });
    await updater.refresh();
    const info = await updater.getTargetInfo(`${NAME}:v2`);
    assert.equal(info?.path, `${NAME}:v2`);
    // the request went out encoded and was looked up decoded
    assert.ok(ctx.host.requests.includes('/2.targets/releases.json'), ctx.host.requests.join(' '));
  });
}

test('our client (trust add + lookup) also updates through the decoding host', async () => {
  cli('trust', 'add', NAME, '--root', path.join(ctx.meta, '1.root.json'), '--url', ctx.host.url);
  // asynchronously: the host runs in this process's event loop
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'lookup', `${NAME}:v1`, '--json'], {
    env: childEnv(ctx.env),
  });
  const out = JSON.parse(stdout);
  assert.equal(out.name, `${NAME}:v1`);
  assert.equal(out.tag, 'v1');
});

test('cnabsec serve, status and advisory are not confused by the decoded directories', async (t) => {
  const server = await startServe(ctx.repo, ctx.env);
  t.after(() => server.close());
  const encoded = await fetch(`${server.url}/2.targets%2Freleases.json`);
  assert.equal(encoded.status, 200);
  assert.ok(
    Buffer.from(await encoded.arrayBuffer()).equals(
      await readFile(path.join(ctx.meta, '2.targets%2Freleases.json')),
    ),
  );
  assert.equal((await fetch(`${server.url}/2.targets`)).status, 404);
  assert.equal((await fetch(`${server.url}/2.targets/`)).status, 404);
  const dir = await mkdtemp(path.join(ctx.work, 'serve-client-'));
  await copyFile(path.join(ctx.meta, '1.root.json'), path.join(dir, 'root.json'));
  const updater = new Updater5({ metadataDir: dir, metadataBaseUrl: server.url });
  await updater.refresh();
  assert.equal((await updater.getTargetInfo(`${NAME}:v2`))?.path, `${NAME}:v2`);

  const status = JSON.parse(cli('status', ctx.repo, '--json'));
  const releases = status.roles.find((r) => r.role === 'targets/releases');
  assert.equal(releases.publishedVersion, 2);
  assert.deepEqual(status.roles.map((r) => r.role).sort(), [
    'root',
    'snapshot',
    'targets',
    'targets/releases',
    'timestamp',
  ]);
  const [rel] = JSON.parse(cli('delegation', 'list', ctx.repo, '--json')).delegations;
  const adv = JSON.parse(
    cli('advisory', ctx.repo, '--since', '1', '--role', 'targets/releases', '--key', rel.keyids[0], '--json'),
  );
  assert.ok(JSON.stringify(adv).includes(`${NAME}:v2`), JSON.stringify(adv));
});
