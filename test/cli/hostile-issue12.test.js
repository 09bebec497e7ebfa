// Hostile review of issue 12: inputs an attacker or a confused Notary user gives the CLI, each
// of which once hung, exited 70, leaked an internal name or wrote half a repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { access, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { hostname } from 'node:os';
import { canonicalize } from '@tufjs/canonical-json';
import { CLI, childEnv, cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { publishedRepository } from '../helpers/published.js';

const NAME = 'example.com/org/hostile';
const BUNDLE = {
  schemaVersion: 'v1.0.0',
  name: 'hostile',
  version: '0.1.0',
  invocationImages: [{ imageType: 'docker', image: 'cnab/hostile:0.1.0' }],
};
const published = (t) => publishedRepository(t, 'hostile');

/** Start the CLI without waiting (runCli blocks): resolves to {status, stdout, stderr}. */
function startCli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** Exit 1, one typed error line (plus hint), no stack trace, within the time limit. */
function userError(r, what, code) {
  assert.equal(r.signal, null, `${what}: finished (did not block on the file)`);
  assert.equal(r.status, 1, `${what}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^cnabsec: error \\[${code ?? '[A-Z_]+'}\\]`), what);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |TufError|TypeError/, what);
}

test('a FIFO or /dev/zero as --custom, --layout, --map or a signature file: exit 1, never blocks', async (t) => {
  const { dir, repo, env, bundle } = await published(t);
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const before = await snapshotTree(repo);
  for (const f of [fifo, '/dev/zero']) {
    const cases = [
      [['bundle', 'add', repo, 'v1', '--thin', bundle, '--custom', f], 'INVALID_ARGUMENT'],
      [['layout', 'add', repo, 'l1', '--layout', f, '--layout-key', f], undefined],
      [['add-signature', repo, 'targets', f], 'BAD_SIGNATURE'],
      [['verify', `${NAME}:v1`, '--thin', bundle, '--map', f], 'MAP_INVALID'],
    ];
    for (const [args, code] of cases) {
      const r = runCli(args, { env, timeout: 15_000 });
      userError(r, args.join(' '), code);
    }
  }
  assert.deepEqual(await snapshotTree(repo), before, 'nothing written, no lock left behind');
});

test('a key label with control characters (hand-edited backup, --label) is never printed raw', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const label = 'evil\u001b[2J\u001b]0;owned\u0007\nforged line';
  const { keyid } = JSON.parse(cliOk(['key', 'generate', '--label', label, '--json'], { env }));
  for (const args of [
    ['key', 'list'],
    ['key', 'remove', keyid],
  ]) {
    const r = runCli(args, { env });
    assert.equal(r.status, 0, r.stderr);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/, `${args.join(' ')}: no raw control`);
    assert.equal(r.stdout.trim().split('\n').length, 1, `${args.join(' ')}: one line per key`);
    assert.match(r.stdout, /evil\\u001b\[2J/, args.join(' '));
  }
});

test('key passwd run three times at once on one key: one wins, the others are refused, not silently lost', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const env = { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: 'old', CI: 'true' };
  const { keyid } = JSON.parse(cliOk(['key', 'generate', '--label', 'k', '--json'], { env }));
  const runs = await Promise.all(
    ['n1', 'n2', 'n3'].map((n) => startCli(['key', 'passwd', keyid], { ...env, CNABSEC_NEW_PASSPHRASE: n })),
  );
  const won = runs.map((r, i) => (r.status === 0 ? `n${i + 1}` : undefined)).filter((n) => n !== undefined);
  assert.equal(won.length, 1, `exactly one passwd reports success: ${runs.map((r) => r.stderr).join('')}`);
  for (const r of runs.filter((r) => r.status !== 0)) userError(r, 'the losing passwd');
  const payload = path.join(dir, 'payload');
  await writeFile(payload, 'x');
  cliOk(['key', 'sign', keyid, payload], { env: { ...env, CNABSEC_PASSPHRASE: won[0] } });
  assert.deepEqual(
    (await readdir(path.join(home, 'keys'))).filter((n) => !n.endsWith('.key')),
    [],
    'no lock or temporary file left in the key store',
  );
});

/** A child serving `dir` on 127.0.0.1 that answers timestamp.json only after `delayMs`. */
async function slowServer(t, dir, delayMs) {
  const script = `
    const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
    const s = http.createServer((req, res) => {
      const rel = decodeURIComponent(req.url.split('?')[0]).replace(/^\\/+/, '');
      const send = () => fs.readFile(path.join(${JSON.stringify(dir)}, rel), (e, b) =>
        e || rel.includes('..') ? res.writeHead(404).end() : res.writeHead(200).end(b));
      if (rel === 'timestamp.json') setTimeout(send, ${delayMs}); else send();
    });
    s.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + s.address().port));
    process.on('SIGTERM', () => { s.closeAllConnections(); s.close(() => process.exit(0)); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGTERM'));
  return new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
}

test('trust remove while a lookup runs: the lookup says the trust was removed, not "the repository is broken"', async (t) => {
  const { dir, repo, env, bundle } = await published(t);
  cliOk(['bundle', 'add', repo, 'v1', '--thin', bundle], { env });
  cliOk(['publish', repo], { env });
  const url = await slowServer(t, path.join(repo, 'metadata'), 1500);
  const client = { ...env, CNABSEC_HOME: path.join(dir, 'client') };
  cliOk(['trust', 'add', NAME, '--root', path.join(repo, 'metadata', 'root.json'), '--url', url], {
    env: client,
  });
  const lookup = startCli(['lookup', `${NAME}:v1`, '--json'], client);
  await new Promise((resolve) => setTimeout(resolve, 700));
  cliOk(['trust', 'remove', NAME], { env: client });
  const r = await lookup;
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.code, 'TRUST_NOT_FOUND', r.stdout);
  assert.doesNotMatch(doc.error.hint, /trust reset|owner has fixed/, 'no blame on the repository');
  await assert.rejects(access(path.join(dir, 'client', 'trust', encodeURIComponent(NAME))), 'not re-created');
});

test('init --root-keys 1000000 is a usage error before any key is generated (was: generating keys until killed)', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  for (const flag of ['--root-keys', '--timestamp-keys', '--releases-keys']) {
    const r = runCli(['init', path.join(dir, 'r'), '--name', NAME, flag, '1000000', '--json'], {
      env,
      timeout: 20_000,
    });
    assert.equal(r.status, 2, `${flag}: ${r.stdout}${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.error.code, 'CLI_USAGE');
    assert.match(doc.error.message, new RegExp(`${flag} <n>.*1000000.*from 1 to 50`));
  }
  assert.deepEqual(await snapshotTree(dir), {}, 'no key store, no repository');
});

test('60 repeated --key new / --add-key new: refused before any key is generated (was: keys until killed)', async (t) => {
  const { dir, repo, env } = await published(t);
  const keys = path.join(dir, 'home', 'keys');
  const before = [await snapshotTree(repo), await snapshotTree(keys)];
  const many = (flag) => Array.from({ length: 60 }, () => [flag, 'new']).flat();
  for (const args of [
    ['delegation', 'add', repo, 'targets/releases', '--paths', `${NAME}:v*`, ...many('--key')],
    ['key', 'rotate', repo, 'timestamp', ...many('--add-key')],
    ['recover', repo, ...many('--new-root-key'), '-o', path.join(dir, 'pkg')],
  ]) {
    const r = runCli([...args, '--json'], { env, timeout: 30_000 });
    assert.equal(r.status, 1, `${args[0]} ${args[1]}: ${r.stdout}${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.error.code, 'WORKFLOW_INVALID_PLAN', r.stdout);
    assert.match(doc.error.message, /60 keys/);
  }
  assert.deepEqual(
    [await snapshotTree(repo), await snapshotTree(keys)],
    before,
    'nothing generated or staged',
  );
});

test('Ctrl-C (SIGINT) during init: the keys it already generated are removed again', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const env = { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'repo');
  const child = spawn(process.execPath, [CLI, 'init', repo, '--name', NAME, '--root-keys', '50'], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal })));
  // wait until some keys exist, then interrupt
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const n = await readdir(path.join(home, 'keys')).then(
      (l) => l.length,
      () => 0,
    );
    if (n >= 3) break;
  }
  child.kill('SIGINT');
  const r = await done;
  assert.notEqual(r.status, 0, 'interrupted init does not report success');
  assert.doesNotMatch(stderr, /internal error|\n\s+at /);
  const left = await readdir(path.join(home, 'keys')).catch(() => []);
  assert.deepEqual(left, [], 'no orphan keys');
  await assert.rejects(access(repo), 'no repository');
});

test('trust add --url with user:password@ is refused without echoing the password (every lookup would fail)', async (t) => {
  const dir = await tempDir(t);
  const { repo } = await published(t);
  const env = { CNABSEC_HOME: path.join(dir, 'client'), CI: 'true' };
  const root = path.join(repo, 'metadata', 'root.json');
  for (const url of ['http://user:s3cret@127.0.0.1:9/', 'https://token@example.com/md']) {
    const r = runCli(['trust', 'add', NAME, '--root', root, '--url', url, '--json'], { env });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.error.code, 'INVALID_ARGUMENT');
    assert.match(doc.error.message, /credentials/);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret|token/, 'the secret is not printed');
  }
  assert.deepEqual(await snapshotTree(path.join(dir, 'client', 'trust')), {}, 'nothing trusted');
});

test('a repository path with control characters is never echoed raw on stdout (init, publish, bundle add, status)', async (t) => {
  const dir = await tempDir(t);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const repo = path.join(dir, 'r\u001b[2J\nforged');
  const bundle = path.join(dir, 'bundle.json');
  await writeFile(bundle, canonicalize(BUNDLE));
  for (const args of [
    ['init', repo, '--name', NAME],
    ['publish', repo],
    ['bundle', 'add', repo, 'v1', '--thin', bundle],
    ['status', repo],
  ]) {
    const out = cliOk(args, { env });
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f]|\nforged/, args[0]);
    if (args[0] !== 'publish') assert.match(out, /r\\u001b\[2J\\nforged/, args[0]);
  }
});

test('intoto run/record with a step name that is empty, has a path separator, .. or a control character: refused, nothing written', async (t) => {
  const dir = await tempDir(t);
  const work = path.join(dir, 'a', 'b', 'work'); // ../../evil stays inside dir
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CI: 'true' };
  execFileSync('mkdir', ['-p', work]);
  cliOk(['intoto', 'keygen', path.join(work, 'k')], { env, cwd: work });
  const before = await snapshotTree(dir);
  for (const step of ['', '../../evil', 'a/b', '..', 'a\\b', 'x\u001b[2J']) {
    for (const args of [
      ['intoto', 'run', '-n', step, '-k', 'k', '--json', '--', 'true'],
      ['intoto', 'record', 'start', '-n', step, '-k', 'k', '--json'],
    ]) {
      const r = runCli(args, { env, cwd: work });
      assert.equal(r.status, 1, `${JSON.stringify(step)} ${args[1]}: ${r.stdout}${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).error.code, 'INTOTO_BAD_FORMAT', r.stdout);
    }
  }
  assert.deepEqual(await snapshotTree(dir), before, 'no link written anywhere');
});

test('-o into the repository itself (payload over staged/targets.json, verify over metadata/root.json) is refused', async (t) => {
  const { repo, env } = await published(t);
  cliOk(['resign', repo, 'targets'], { env });
  const before = await snapshotTree(repo);
  for (const out of [
    path.join(repo, 'staged', 'targets.json'),
    path.join(repo, 'metadata', 'root.json'),
    path.join(repo, 'metadata', 'new.json'),
    path.join(repo, 'cnabsec.json'),
  ]) {
    const r = runCli(['payload', repo, 'targets', '-o', out, '--json'], { env });
    assert.equal(r.status, 1, `${out}: ${r.stdout}${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.error.code, 'OUTPUT_WRITE_FAILED');
    assert.match(doc.error.message, /inside the cnabsec repository/);
  }
  assert.deepEqual(await snapshotTree(repo), before, 'the repository is intact');
  cliOk(['status', repo], { env });
});

test('key remove while a key passwd holds the key (its lock) is refused: the passwd would write the key back', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const env = { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const { keyid } = JSON.parse(cliOk(['key', 'generate', '--json'], { env }));
  const lock = path.join(home, 'keys', `${keyid}.key.lock`);
  // a key passwd in progress: a live process (this test) holds the key's lock
  const owner = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    nonce: 'a'.repeat(32),
  };
  await writeFile(lock, JSON.stringify(owner), { mode: 0o600 });
  const r = runCli(['key', 'remove', keyid, '--json'], { env });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const error = JSON.parse(r.stdout).error;
  assert.equal(error.code, 'KEY_BUSY');
  assert.match(error.message, new RegExp(`pid ${process.pid}`));
  assert.deepEqual((await readdir(path.join(home, 'keys'))).sort(), [`${keyid}.key`, `${keyid}.key.lock`]);
});

test('a key lock left by a process that died (kill -9 during key passwd) is taken over, not KEY_BUSY forever', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const env = { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: 'pw', CNABSEC_NEW_PASSPHRASE: 'pw2', CI: 'true' };
  const { keyid } = JSON.parse(cliOk(['key', 'generate', '--json'], { env }));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a pid that has exited
  const owner = {
    pid: dead,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    nonce: 'b'.repeat(32),
  };
  await writeFile(path.join(home, 'keys', `${keyid}.key.lock`), JSON.stringify(owner), { mode: 0o600 });
  cliOk(['key', 'passwd', keyid], { env });
  assert.deepEqual(await readdir(path.join(home, 'keys')), [`${keyid}.key`], 'the stale lock is gone');
  cliOk(['key', 'remove', keyid], { env: { ...env, CNABSEC_PASSPHRASE: 'pw2' } });
});

test('bundle add --layout without --links (silently ignored) is refused, nothing staged', async (t) => {
  const { repo, env, bundle } = await published(t);
  const before = await snapshotTree(repo);
  const r = runCli(['bundle', 'add', repo, 'v1', '--thin', bundle, '--layout', 'release-2', '--json'], {
    env,
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.code, 'INVALID_ARGUMENT');
  assert.match(doc.error.message, /--layout.*--links/);
  assert.deepEqual(await snapshotTree(repo), before);
});
