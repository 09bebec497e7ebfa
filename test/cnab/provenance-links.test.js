// `bundle add --links`: links checked against the layout's steps and thresholds before anything
// is staged (issue 12 item 4); refusals name the layout's target and the expected link file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';

const R = 'example.com/org/links';
const LAYOUT = `${R}/in-toto-metadata/root.layout`;
const ctx = {};
let n = 0;

const key = (name) => path.join(ctx.work, 'keys', name);

/** `cnabsec intoto run` of `step` signed by `signer`, writing its link into `dir`. */
function record(step, signer, dir) {
  cliOk(['intoto', 'run', '-n', step, '-k', key(signer), '-d', dir, '--', 'true']);
}

/** A directory holding the links of the given [step, signer] pairs. */
async function linkDir(pairs) {
  const dir = path.join(ctx.work, `links-${++n}`);
  await mkdir(dir);
  for (const [step, signer] of pairs) record(step, signer, dir);
  return dir;
}

/** A fresh copy of the repository (provenance set up with the cnab layout). */
async function freshRepo() {
  const dir = path.join(ctx.work, `repo-${++n}`);
  await cp(ctx.repo, dir, { recursive: true });
  return dir;
}

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-links-'));
  ctx.env = { CNABSEC_HOME: path.join(ctx.work, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  await mkdir(path.join(ctx.work, 'keys'));
  ctx.ids = {};
  for (const k of ['owner', 'dev', 'builder', 'builder2', 'packager', 'mallory'])
    ctx.ids[k] = cliOk(['intoto', 'keygen', key(k)]).trim();
  const layout = path.join(ctx.work, 'root.layout');
  cliOk([
    'intoto',
    'layout',
    'new',
    '--template',
    'cnab',
    '-f',
    `source=${key('dev.pub')}`,
    '-f',
    `build=${key('builder.pub')}`,
    '-f',
    `build=${key('builder2.pub')}`,
    '--threshold',
    'build=2',
    '-f',
    `package=${key('packager.pub')}`,
    '-s',
    key('owner'),
    '-o',
    layout,
  ]);
  ctx.repo = path.join(ctx.work, 'repo');
  cliOk(['init', ctx.repo, '--name', R, '--in-toto', '--layout', layout, '--layout-key', key('owner.pub')], {
    env: ctx.env,
  });
  cliOk(['publish', ctx.repo], { env: ctx.env });
  ctx.bundle = path.join(ctx.work, 'bundle.json');
  await writeFile(
    ctx.bundle,
    canonicalize({
      schemaVersion: 'v1.0.0',
      name: 'links',
      version: '0.1.0',
      invocationImages: [{ imageType: 'docker', image: 'cnab/links:0.1.0' }],
    }),
  );
  ctx.all = [
    ['source', 'dev'],
    ['build', 'builder'],
    ['build', 'builder2'],
    ['package', 'packager'],
  ];
});

after(() => rm(ctx.work, { recursive: true, force: true }));

const add = (repo, links) =>
  runCli(['bundle', 'add', repo, 'v1', '--thin', ctx.bundle, '--links', links], { env: ctx.env });

/** Refused with INTOTO_METADATA_MISSING and `message`, one line plus a hint, nothing staged. */
async function refused(links, message) {
  const repo = await freshRepo();
  const before = await snapshotTree(repo);
  const r = add(repo, links);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /^cnabsec: error \[INTOTO_METADATA_MISSING\]: /);
  assert.ok(lines[0].includes(message), `${lines[0]}\n  does not include\n${message}`);
  assert.match(lines[1], /^ {2}hint: /);
  assert.doesNotMatch(r.stderr, /\/tmp\/|cnabsec-links-.*layout/, 'no temporary path for the layout');
  assert.deepEqual(await snapshotTree(repo), before, 'nothing staged');
  return lines;
}

test('every step with its threshold of links: staged', async () => {
  const repo = await freshRepo();
  const r = add(repo, await linkDir(ctx.all));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^staged example\.com\/org\/links:v1 .* in targets\/releases/);
});

test('a step without any link: refused naming the step, the layout and the expected file', async () => {
  const links = await linkDir(ctx.all.filter(([s]) => s !== 'package'));
  await refused(
    links,
    `no link for step "package" of layout ${LAYOUT}: expected package.${ctx.ids.packager.slice(0, 8)}.link`,
  );
});

test('a step below its threshold: refused with the link found and the one expected', async () => {
  const links = await linkDir(ctx.all.filter(([, k]) => k !== 'builder2'));
  await refused(
    links,
    `step "build" of layout ${LAYOUT} needs 2 links by distinct functionaries, found 1 (build.${ctx.ids.builder.slice(0, 8)}.link): expected also build.${ctx.ids.builder2.slice(0, 8)}.link`,
  );
});

test('a link by a key that is not a functionary of its step: refused', async () => {
  const links = await linkDir([...ctx.all, ['package', 'mallory']]);
  await refused(
    links,
    `package.${ctx.ids.mallory.slice(0, 8)}.link: signed by ${ctx.ids.mallory.slice(0, 8)}, not a functionary of step "package" in layout ${LAYOUT}`,
  );
});

test('a link of a step the layout does not have: refused listing its steps', async () => {
  const links = await linkDir([...ctx.all, ['deploy', 'dev']]);
  await refused(
    links,
    `deploy.${ctx.ids.dev.slice(0, 8)}.link: step "deploy" is not a step of layout ${LAYOUT} (steps: source, build, package)`,
  );
});

test('a link changed after it was signed: refused', async () => {
  const links = await linkDir(ctx.all);
  const file = path.join(links, `source.${ctx.ids.dev.slice(0, 8)}.link`);
  const mb = JSON.parse(await readFile(file, 'utf8'));
  mb.signed.byproducts = { 'return-value': 1 };
  await writeFile(file, JSON.stringify(mb));
  await refused(
    links,
    `source.${ctx.ids.dev.slice(0, 8)}.link: its signature by ${ctx.ids.dev.slice(0, 8)} does not verify`,
  );
});
