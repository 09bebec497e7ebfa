// kill -9 at every rename of a publish (test/helpers/kill-at-rename.js), with and without a new
// root (key rotations): after each crash, clients pinned at the first root and clients that
// updated before the publish, with the unmodified tuf-js 5 and 6 Updaters and our TrustClient
// over loopback HTTP, all update and see either the old or the new state; then a plain
// `cnabsec publish` (taking over the dead process's lock, removing its temporary files)
// finishes, and every client sees the new state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Updater as Updater5 } from 'tuf-js';
import { Updater as Updater6 } from 'tuf-js-6';
import { CLI, childEnv, cliOk } from '../helpers/cli.js';
import { TrustClient } from '../../dist/tuf/index.js';
import { serveDirectory } from '../../dist/server/static.js';

const NAME = 'example.com/org/crash';
const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
const HOOK = new URL('../helpers/kill-at-rename.js', import.meta.url).pathname;
let work;

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cnabsec-crash-'));
});
after(() => rm(work, { recursive: true, force: true }));

const envOf = (base) => ({
  CNABSEC_HOME: path.join(base, 'home'),
  CNABSEC_PASSPHRASE: 'crash pass',
  CI: 'true',
});

function publishWithHook(base, extra) {
  return spawnSync(process.execPath, ['--import', HOOK, CLI, 'publish', path.join(base, 'repo')], {
    env: childEnv({ ...envOf(base), ...extra }),
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const keyids = (base, role) =>
  JSON.parse(cliOk(['status', path.join(base, 'repo'), '--json'], { env: envOf(base) })).roles.find(
    (r) => r.role === role,
  ).keyids;

function rotate(role) {
  return (base) => {
    const [old] = keyids(base, role);
    cliOk(['key', 'rotate', path.join(base, 'repo'), role, '--add-key', 'new', '--remove-key', old], {
      env: envOf(base),
    });
  };
}

const SCENARIOS = [
  ['a bundle (no new root)', []],
  [
    'a new root rotating timestamp, snapshot and targets keys',
    [rotate('timestamp'), rotate('snapshot'), rotate('targets')],
  ],
  ['a new root rotating the root key', [rotate('root')]],
];

const CLIENTS = {
  'tuf-js 5': async (url, cache, tag) => {
    const u = new Updater5({ metadataDir: cache, metadataBaseUrl: url });
    await u.refresh();
    return (await u.getTargetInfo(`${NAME}:${tag}`)) !== undefined;
  },
  'tuf-js 6': async (url, cache, tag) => {
    const u = new Updater6({ metadataDir: cache, metadataBaseUrl: url });
    await u.refresh();
    return (await u.getTargetInfo(`${NAME}:${tag}`)) !== undefined;
  },
  ours: async (url, cache, tag) => {
    const c = new TrustClient({ name: NAME, metadataUrl: url, cacheDir: cache });
    try {
      return (await c.getTarget(`${NAME}:${tag}`)) !== undefined;
    } catch (e) {
      if (e.code === 'TARGET_NOT_FOUND') return false;
      throw e;
    }
  },
};

/** A cache pinned at the first root; `updatedFrom` copies a cache that updated earlier. */
async function cacheFor(base, label, kind) {
  const dir = path.join(base, 'caches', `${label}-${kind}`);
  await rm(dir, { recursive: true, force: true });
  if (kind === 'updated') await cp(path.join(base, 'caches-before', label), dir, { recursive: true });
  else {
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'root.json'),
      await readFile(path.join(base, 'repo', 'metadata', '1.root.json')),
    );
  }
  return dir;
}

/** Every client updates; returns whether they see v2 (the new state), which must agree. */
async function clientsUpdate(base, what) {
  const server = await serveDirectory(path.join(base, 'repo', 'metadata'), { host: '127.0.0.1' });
  try {
    const seen = new Set();
    for (const [label, find] of Object.entries(CLIENTS)) {
      for (const kind of ['pinned', 'updated']) {
        const cache = await cacheFor(base, label, kind);
        const at = `${what}: ${label} (${kind})`;
        const v1 = await find(server.url, cache, 'v1').catch((e) =>
          assert.fail(`${at} cannot update: ${e.message}`),
        );
        assert.ok(v1, `${at} finds v1`);
        seen.add(await find(server.url, cache, 'v2'));
      }
    }
    assert.equal(seen.size, 1, `${what}: every client sees the same state (old or new)`);
    return [...seen][0];
  } finally {
    await server.close();
  }
}

async function template(name, stage) {
  const base = path.join(work, name.replace(/\W+/g, '-'), 'template');
  const repo = path.join(base, 'repo');
  cliOk(['init', repo, '--name', NAME], { env: envOf(base) });
  cliOk(['bundle', 'add', repo, 'v1', '--thin', FIXTURE], { env: envOf(base) });
  cliOk(['publish', repo], { env: envOf(base) });
  // clients that updated before the publish under test
  const server = await serveDirectory(path.join(repo, 'metadata'), { host: '127.0.0.1' });
  try {
    for (const [label, find] of Object.entries(CLIENTS)) {
      const dir = path.join(base, 'caches-before', label);
      await mkdir(dir, { recursive: true });
      await writeFile(
        path.join(dir, 'root.json'),
        await readFile(path.join(repo, 'metadata', '1.root.json')),
      );
      assert.ok(await find(server.url, dir, 'v1'));
    }
  } finally {
    await server.close();
  }
  for (const s of stage) s(base);
  cliOk(['bundle', 'add', repo, 'v2', '--thin', FIXTURE], { env: envOf(base) });
  return base;
}

for (const [name, stage] of SCENARIOS) {
  test(`kill -9 at every rename of a publish of ${name}: clients update, the next publish finishes`, async () => {
    const tpl = await template(name, stage);
    const probe = path.join(path.dirname(tpl), 'probe');
    await cp(tpl, probe, { recursive: true });
    const log = path.join(probe, 'renames.log');
    assert.equal(publishWithHook(probe, { RENAME_LOG: log }).status, 0);
    const renames = (await readFile(log, 'utf8')).trim().split('\n').length;
    const rootsBefore = (await readdir(path.join(tpl, 'repo', 'metadata'))).filter((f) =>
      /^\d+\.root\.json$/.test(f),
    );
    const newRoot = stage.length > 0;
    for (let n = 1; n <= renames; n++) {
      const base = path.join(path.dirname(tpl), `kill-${n}`);
      await cp(tpl, base, { recursive: true });
      const r = publishWithHook(base, { KILL_AT_RENAME: String(n) });
      assert.equal(r.signal, 'SIGKILL', `killed at rename ${n}: ${r.stderr}`);
      await clientsUpdate(base, `after a kill at rename ${n}/${renames}`);
      cliOk(['publish', path.join(base, 'repo')], { env: envOf(base) });
      assert.equal(await clientsUpdate(base, `publish after a kill at rename ${n}`), true, 'new state');
      const roots = (await readdir(path.join(base, 'repo', 'metadata'))).filter((f) =>
        /^\d+\.root\.json$/.test(f),
      );
      assert.equal(roots.length, rootsBefore.length + (newRoot ? 1 : 0), 'the new root is published');
      const left = (await readdir(path.join(base, 'repo', 'metadata'))).filter((f) => f.endsWith('.tmp'));
      assert.deepEqual(left, [], 'no temporary files left');
      await rm(base, { recursive: true, force: true });
    }
  });
}
