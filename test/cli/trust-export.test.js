// `cnabsec trust export` / `trust import` and offline `verify` (issue 14 items 5-6, ADR 0030)
// with the real CLI: site A trusts a repository served over HTTP (a child process), exports a
// trust archive with the bundle; site B (another CNABSEC_HOME) imports it; then A's server is
// stopped (the network is gone) and `verify <name>:<tag>` passes at B with no bundle option,
// from the imported metadata and bundle — thin, and thick with in-toto provenance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, cliOk, runCli } from '../helpers/cli.js';
import { publishedRepository } from '../helpers/published.js';
import { tempDir } from '../helpers/tmp.js';

const SERVER = fileURLToPath(new URL('../helpers/static-server.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));

/** Serve `dir` on 127.0.0.1 from a child process; `stop()` ends it (also after the test). */
async function serve(t, dir) {
  const child = spawn(process.execPath, [SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  t.after(stop);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`static server exited ${code}`)));
  });
  return { url, stop };
}

test('trust export/import: thin bundle, A stopped, verify at B offline from the archive', async (t) => {
  const a = await publishedRepository(t, 'airgap');
  const name = 'example.com/org/airgap';
  cliOk(['bundle', 'add', a.repo, 'v1', '--thin', a.bundle], { env: a.env });
  cliOk(['publish', a.repo], { env: a.env });
  const server = await serve(t, a.repo);
  const root = path.join(a.repo, 'metadata', '1.root.json');
  cliOk(['trust', 'add', name, '--root', root, '--url', `${server.url}/metadata`], { env: a.env });
  const archive = path.join(a.dir, 'trust.tgz');
  const out = JSON.parse(
    cliOk(['trust', 'export', `${name}:v1`, '-o', archive, '--with-bundle', '--thin', a.bundle, '--json'], {
      env: a.env,
    }),
  );
  assert.equal(out.bundle.kind, 'thin');
  await server.stop(); // the network of site A is gone

  const b = { CNABSEC_HOME: path.join(a.dir, 'home-b'), CI: 'true' };
  const refused = runCli(['trust', 'import', archive], { env: b });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /\[TRUST_NOT_FOUND\].*never pinned/);
  assert.match(refused.stderr, /--root/);
  const imported = cliOk(['trust', 'import', archive, '--root', root], { env: b });
  assert.match(imported, /imported example\.com\/org\/airgap:v1/);
  assert.match(cliOk(['trust', 'list'], { env: b }), /\(offline, imported /);
  const listed = JSON.parse(cliOk(['trust', 'list', '--json'], { env: b }));
  assert.equal(listed.repositories[0].offline, true);
  const v = cliOk(['verify', `${name}:v1`], { env: b });
  assert.match(v, /^verified example\.com\/org\/airgap:v1/);
  // another tag was not exported: the usual error, which names the import
  const none = runCli(['verify', `${name}:v2`], { env: b });
  assert.equal(none.status, 1);
});

test('trust export/import: thick bundle with in-toto provenance, verified offline', async (t) => {
  const dir = await tempDir(t);
  const name = 'example.com/org/bundle';
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  const sh = (args) => cliOk(args, { env, cwd: dir });
  await mkdir(path.join(dir, 'src'));
  await copyFile(FIXTURE, path.join(dir, 'src', 'bundle.json'));
  await writeFile(path.join(dir, 'src', 'README'), 'sources\n');
  for (const k of ['dev', 'builder', 'packager', 'owner']) sh(['intoto', 'keygen', `keys/${k}`]);
  sh(
    [
      'intoto',
      'layout',
      'new',
      '--template',
      'cnab',
      '-f',
      'source=keys/dev.pub',
      '-f',
      'build=keys/builder.pub',
    ].concat(['-f', 'package=keys/packager.pub', '-s', 'keys/owner', '-o', 'root.layout']),
  );
  sh(['intoto', 'record', 'start', '--step', 'source', '--key', 'keys/dev']);
  sh(['intoto', 'record', 'stop', '--step', 'source', '--key', 'keys/dev', '-p', 'src', '-d', 'links']);
  const canon = `"${process.execPath}" "${CLI}" bundle canonicalize src/bundle.json > bundle.json`;
  sh(
    [
      'intoto',
      'run',
      '--step',
      'build',
      '--key',
      'keys/builder',
      '-m',
      'src',
      '-p',
      'src',
      'bundle.json',
    ].concat(['-d', 'links', '--', 'sh', '-c', canon]),
  );
  sh(
    [
      'intoto',
      'run',
      '--step',
      'package',
      '--key',
      'keys/packager',
      '-m',
      'bundle.json',
      '-p',
      'bundle.json',
    ].concat(['bundle.tgz', '-d', 'links', '--', 'tar', 'czf', 'bundle.tgz', 'bundle.json']),
  );
  const repo = path.join(dir, 'repo');
  sh([
    'init',
    repo,
    '--name',
    name,
    '--in-toto',
    '--layout',
    'root.layout',
    '--layout-key',
    'keys/owner.pub',
  ]);
  sh(['bundle', 'add', repo, 'v1', '--thick', 'bundle.tgz', '--links', './links']);
  sh(['publish', repo]);
  const server = await serve(t, repo);
  const root = path.join(repo, 'metadata', '1.root.json');
  sh(['trust', 'add', name, '--root', root, '--url', `${server.url}/metadata`]);
  const doc = JSON.parse(
    sh([
      'trust',
      'export',
      `${name}:v1`,
      '-o',
      'trust.tgz',
      '--with-bundle',
      '--thick',
      'bundle.tgz',
      '--json',
    ]),
  );
  assert.ok(doc.files.some((f) => f.name?.endsWith('.layout')));
  assert.ok(doc.files.filter((f) => f.name?.endsWith('.link')).length >= 3);
  assert.ok(doc.files.some((f) => f.name?.includes('/in-toto-pubkeys/')));
  await server.stop();

  const b = { CNABSEC_HOME: path.join(dir, 'home-b'), CI: 'true' };
  cliOk(['trust', 'import', path.join(dir, 'trust.tgz'), '--root', root], { env: b, cwd: dir });
  const v = cliOk(['verify', `${name}:v1`, '--json'], { env: b, cwd: dir });
  assert.ok(JSON.parse(v).custom['in-toto'].length >= 4);
  assert.match(cliOk(['verify', `${name}:v1`], { env: b, cwd: dir }), /in-toto provenance verified/);
});

test('trust import + verify --grace: expired at B fails with a hint about --grace; --grace 30d passes and warns', async (t) => {
  const { Sim, NAME } = await import('../helpers/sim.js');
  const { writeMetadata } = await import('../helpers/client-repo.js');
  const { canonicalize } = await import('@tufjs/canonical-json');
  const { pathToFileURL } = await import('node:url');
  const ago = new Date(Date.now() - 2 * 86_400_000); // timestamp (1 day) expired a day ago
  const sim = await Sim.create(t, { now: ago });
  const bundle = Buffer.from(
    canonicalize({ schemaVersion: 'v1.0.0', name: 'x', version: '1.0.0', invocationImages: [] }),
  );
  sim.addBundle('v1', bundle);
  await sim.publish({ now: ago });
  const dir = await tempDir(t);
  const metadata = await writeMetadata(sim, dir);
  await writeFile(path.join(dir, 'bundle.json'), bundle);
  const root = path.join(metadata, '1.root.json');
  const a = { CNABSEC_HOME: path.join(dir, 'a'), CI: 'true' };
  cliOk(['trust', 'add', NAME, '--root', root, '--url', pathToFileURL(metadata).href], { env: a });
  const archive = path.join(dir, 'trust.tgz');
  const args = [
    'trust',
    'export',
    `${NAME}:v1`,
    '-o',
    archive,
    '--with-bundle',
    '--thin',
    path.join(dir, 'bundle.json'),
  ];
  const expired = runCli(args, { env: a });
  assert.equal(expired.status, 1);
  assert.match(expired.stderr, /--grace/);
  const exported = runCli([...args, '--grace', '30d'], { env: a });
  assert.equal(exported.status, 0, exported.stderr);
  assert.match(exported.stderr, /warning: .*timestamp v\d+ expired .* ago; accepted within --grace/);

  const b = { CNABSEC_HOME: path.join(dir, 'b'), CI: 'true' };
  cliOk(['trust', 'import', archive, '--root', root, '--grace', '30d'], { env: b });
  const fails = runCli(['verify', `${NAME}:v1`], { env: b });
  assert.equal(fails.status, 1);
  assert.match(fails.stderr, /expired/);
  assert.match(fails.stderr, /hint: .*--grace <duration>/);
  const passes = runCli(['verify', `${NAME}:v1`, '--grace', '30d', '--json'], { env: b });
  assert.equal(passes.status, 0, passes.stderr);
  const doc = JSON.parse(passes.stdout);
  assert.ok(
    doc.warnings.some((w) => /timestamp v\d+ expired .*1d \d+h ago; accepted within --grace/.test(w)),
  );
  assert.match(passes.stderr, /cnabsec: warning: .*timestamp/);
});
