// Interop: repositories produced by our CLI, served over loopback HTTP, are updated by the
// unmodified tuf-js 5 and 6 Updaters (with their own default HTTP fetchers) and by our client
// (`cnabsec trust add` + `lookup`): fresh, after 50 refreshes, with 2-of-3 root and targets
// thresholds and a delegated role `targets/releases`. An expired timestamp is refused by all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Updater as Updater5 } from 'tuf-js';
import { Updater as Updater6 } from 'tuf-js-6';
import { startServe } from '../helpers/serve.js';
import { FsMetadataStore, LocalRepository, addDelegation } from '../../dist/tuf/index.js';
import { cliOk, runCli } from '../helpers/cli.js';

const NAME = 'example.com/org/bundle';
const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
let work, env, repo, server;
const cli = (...args) => cliOk(args, { env });

async function tufjs(Updater, cacheDir) {
  const dir = cacheDir ?? (await mkdtemp(path.join(work, 'client-')));
  await copyFile(path.join(repo, 'metadata', '1.root.json'), path.join(dir, 'root.json'));
  return { dir, updater: new Updater({ metadataDir: dir, metadataBaseUrl: server.url }) };
}

async function findWith(Updater, target, cacheDir) {
  const { updater, dir } = await tufjs(Updater, cacheDir);
  await updater.refresh();
  return { info: await updater.getTargetInfo(target), dir };
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cnabsec-interop-'));
  env = { CNABSEC_HOME: path.join(work, 'home'), CNABSEC_PASSPHRASE: 'interop pass', CI: 'true' };
  repo = path.join(work, 'repo');
  cli(
    'init',
    repo,
    '--name',
    NAME,
    '--root-keys',
    '3',
    '--root-threshold',
    '2',
    '--targets-keys',
    '3',
    '--targets-threshold',
    '2',
  );
  cli('bundle', 'add', repo, 'v1', '--thin', FIXTURE);
  cli('publish', repo);
  // Delegate bundle versions and links to targets/releases (doc 301), signed by targets 2-of-3.
  const relKey = JSON.parse(cli('key', 'generate', '--label', 'targets/releases', '--json'));
  const r = await LocalRepository.open(new FsMetadataStore(repo));
  addDelegation(r, 'targets', {
    name: 'targets/releases',
    keys: [relKey.publicKey],
    threshold: 1,
    paths: [`${NAME}:*`, `${NAME}/in-toto-metadata/*/*.link`],
  });
  await r.saveStaged();
  cli('bundle', 'add', repo, 'v2', '--thin', FIXTURE);
  cli('publish', repo);
  server = await startServe(repo, env);
  cli('trust', 'add', NAME, '--root', path.join(repo, 'metadata', '1.root.json'), '--url', server.url);
});

after(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

const CLIENTS = [
  ['tuf-js 5', Updater5],
  ['tuf-js 6', Updater6],
];

test('fresh clients find targets of targets and of the delegated targets/releases', async () => {
  const status = JSON.parse(cli('status', repo, '--json'));
  const rel = status.roles.find((x) => x.role === 'targets/releases');
  assert.equal(rel.publishedVersion, 1);
  for (const [label, Updater] of CLIENTS) {
    for (const tag of ['v1', 'v2']) {
      const { info } = await findWith(Updater, `${NAME}:${tag}`);
      assert.ok(info, `${label} finds ${tag}`);
      assert.equal(info.length, (await import('node:fs')).statSync(FIXTURE).size);
    }
  }
  const ours = JSON.parse(cli('lookup', `${NAME}:v2`, '--json'));
  assert.equal(ours.length, (await import('node:fs')).statSync(FIXTURE).size);
});

test('after 50 refreshes: fresh and previously updated clients still update', async () => {
  const earlier = {};
  for (const [label, Updater] of CLIENTS) earlier[label] = (await findWith(Updater, `${NAME}:v1`)).dir;
  for (let i = 0; i < 50; i++) cli('refresh', repo, '--force');
  const status = JSON.parse(cli('status', repo, '--json'));
  assert.equal(status.roles.find((x) => x.role === 'timestamp').publishedVersion, 52); // 2 publishes + 50 refreshes
  for (const [label, Updater] of CLIENTS) {
    assert.ok((await findWith(Updater, `${NAME}:v2`)).info, `${label} fresh`);
    assert.ok((await findWith(Updater, `${NAME}:v2`, earlier[label])).info, `${label} cached`);
  }
  assert.match(cli('lookup', `${NAME}:v1`), /sha256 [0-9a-f]{64}/);
});

test('expired timestamp over HTTP: refused by tuf-js 5, tuf-js 6 and ours (TUF_EXPIRED_METADATA)', async () => {
  const dir = path.join(work, 'expiring');
  const name = 'example.com/org/expiring';
  cli('init', dir, '--name', name);
  // init refuses a timestamp period under the refresh rule (tuf/policy.ts): set 1 s by hand
  const config = JSON.parse(await readFile(path.join(dir, 'cnabsec.json'), 'utf8'));
  config.expiry.timestamp = 1;
  await writeFile(path.join(dir, 'cnabsec.json'), JSON.stringify(config));
  cli('bundle', 'add', dir, 'v1', '--thin', FIXTURE);
  cli('publish', dir);
  const s = await startServe(dir, env);
  try {
    cli('trust', 'add', name, '--root', path.join(dir, 'metadata', '1.root.json'), '--url', s.url);
    await new Promise((r) => setTimeout(r, 2100));
    for (const [, Updater] of CLIENTS) {
      const cache = await mkdtemp(path.join(work, 'client-'));
      await copyFile(path.join(dir, 'metadata', '1.root.json'), path.join(cache, 'root.json'));
      await assert.rejects(new Updater({ metadataDir: cache, metadataBaseUrl: s.url }).refresh(), /expired/i);
    }
    const r = runCli(['lookup', `${name}:v1`], { env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^cnabsec: error \[TUF_EXPIRED_METADATA\]: .*timestamp v1 from remote .*expires /);
  } finally {
    await s.close();
  }
});

test('serve --json prints one JSON line; files are served with Notary-style cache headers', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI, childEnv } = await import('../helpers/cli.js');
  const child = spawn(process.execPath, [CLI, 'serve', repo, '--json'], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    const info = JSON.parse(line);
    assert.equal(info.name, NAME);
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ts = await fetch(`${info.url}/timestamp.json`);
    assert.equal(ts.status, 200);
    assert.equal(ts.headers.get('cache-control'), 'public, max-age=300');
    const v1 = await fetch(`${info.url}/1.root.json`);
    assert.match(v1.headers.get('cache-control'), /immutable/);
    assert.equal((await fetch(`${info.url}/../../etc/passwd`)).status, 404);
  } finally {
    child.kill('SIGTERM');
  }
});
