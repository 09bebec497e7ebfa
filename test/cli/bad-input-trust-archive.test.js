// Bad input to `cnabsec trust export` and `trust import` (issue 14 items 5 and 7, ADR 0030), in
// the style of ./bad-input-client.test.js: the real CLI, exit 1 (2 for usage), one error line
// with a code and a hint, nothing on stdout, and the trust store (and the output path)
// unchanged. Set-up: the simulator's repository on disk (file://), a home trusting it, and a
// valid archive of `<name>:v1` exported from it.
import { after, before, test } from 'node:test';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalize } from '@tufjs/canonical-json';
import { cliOk } from '../helpers/cli.js';
import { expectUsageError, expectUserError } from '../helpers/bad-input.js';
import { Sim, NAME } from '../helpers/sim.js';
import { writeMetadata } from '../helpers/client-repo.js';

const ctx = {};

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bad-archive-'));
  const w = (...p) => path.join(ctx.work, ...p);
  const bundle = Buffer.from(
    canonicalize({ schemaVersion: 'v1.0.0', name: 'x', version: '1.0.0', invocationImages: [] }),
  );
  const sim = await Sim.create({ after: () => undefined });
  sim.addBundle('v1', bundle);
  await sim.publish();
  const metadata = await writeMetadata(sim, ctx.work);
  ctx.root = path.join(metadata, '1.root.json');
  ctx.home = w('home');
  ctx.env = { CNABSEC_HOME: ctx.home, CI: 'true', CNABSEC_LOCK_WAIT: '0' };
  cliOk(['trust', 'add', NAME, '--root', ctx.root, '--url', pathToFileURL(metadata).href], { env: ctx.env });
  ctx.bundle = w('bundle.json');
  await writeFile(ctx.bundle, bundle);
  ctx.other = w('other.json');
  await writeFile(
    ctx.other,
    canonicalize({ schemaVersion: 'v1.0.0', name: 'y', version: '1.0.0', invocationImages: [] }),
  );
  ctx.archive = w('trust.tgz');
  cliOk(['trust', 'export', `${NAME}:v1`, '-o', ctx.archive, '--with-bundle', '--thin', ctx.bundle], {
    env: ctx.env,
  });
  ctx.out = w('out');
  await mkdir(ctx.out);
  ctx.notGzip = w('not-gzip.tgz');
  await writeFile(ctx.notGzip, 'not a gzip file\n');
  const tar = gunzipSync(await readFile(ctx.archive));
  const at = tar.indexOf(Buffer.from('"_type":"timestamp"')) + 12;
  tar[at] = tar[at] === 0x61 ? 0x62 : 0x61;
  ctx.tampered = w('tampered.tgz');
  await writeFile(ctx.tampered, gzipSync(tar));
  ctx.homeB = w('home-b');
  await mkdir(ctx.homeB);
  ctx.envB = { CNABSEC_HOME: ctx.homeB, CI: 'true', CNABSEC_LOCK_WAIT: '0' };
});

after(() => rm(ctx.work, { recursive: true, force: true }));

const exp = (...args) => ['trust', 'export', ...args];
const imp = (...args) => ['trust', 'import', ...args];

test('trust export: usage errors', async () => {
  const watch = [ctx.home, ctx.out];
  const o = path.join(ctx.out, 'a.tgz');
  await expectUsageError({ args: exp(`${NAME}:v1`), env: ctx.env, names: ['--output'], watch });
  await expectUsageError({
    args: exp(`${NAME}:v1`, '-o', o, '--with-bundle', '--thin', ctx.bundle, '--registry', `${NAME}:v1`),
    env: ctx.env,
    names: ['--with-bundle'],
    watch,
  });
  await expectUsageError({
    args: exp(`${NAME}:v1`, '-o', o, '--thin', ctx.bundle),
    env: ctx.env,
    names: ['--with-bundle'],
    watch,
  });
  await expectUsageError({
    args: exp(`${NAME}:v1`, '-o', o, '--grace', 'soon'),
    env: ctx.env,
    names: ['--grace'],
    watch,
  });
});

test('trust export: an untrusted repository, an unsigned tag, a bundle that does not verify', async () => {
  const watch = [ctx.home, ctx.out];
  const o = path.join(ctx.out, 'a.tgz');
  await expectUserError({
    args: exp('example.com/org/other:v1', '-o', o),
    env: ctx.env,
    code: 'TRUST_NOT_FOUND',
    watch,
  });
  await expectUserError({
    args: exp(`${NAME}:v9`, '-o', o),
    env: ctx.env,
    code: 'TARGET_NOT_FOUND',
    names: [`${NAME}:v9`],
    watch,
  });
  await expectUserError({
    args: exp(`${NAME}:v1`, '-o', o, '--with-bundle', '--thin', ctx.other),
    env: ctx.env,
    code: 'BUNDLE_HASH_MISMATCH',
    watch,
  });
  await expectUserError({
    args: exp(`${NAME}:v1`, '-o', o, '--with-bundle', '--thin', path.join(ctx.work, 'missing.json')),
    env: ctx.env,
    code: 'BUNDLE_NOT_FOUND',
    watch,
  });
});

test('trust export: an output in a missing directory, or a directory', async () => {
  const watch = [ctx.home, ctx.out];
  const missing = path.join(ctx.work, 'no-such-dir', 'a.tgz');
  await expectUserError({
    args: exp(`${NAME}:v1`, '-o', missing),
    env: ctx.env,
    code: 'ARCHIVE_WRITE_FAILED',
    names: [missing],
    watch,
  });
  await expectUserError({
    args: exp(`${NAME}:v1`, '-o', ctx.out),
    env: ctx.env,
    code: 'ARCHIVE_WRITE_FAILED',
    names: [ctx.out],
    watch,
  });
});

test('trust export: --registry unreachable, a bad reference, without --with-bundle', async () => {
  const watch = [ctx.home, ctx.out];
  const o = path.join(ctx.out, 'a.tgz');
  const reg = (ref) =>
    exp(`${NAME}:v1`, '-o', o, '--with-bundle', '--registry', ref, '--insecure-registry', '127.0.0.1:1');
  await expectUserError({
    args: reg('127.0.0.1:1/org/app:v1'),
    env: ctx.env,
    code: 'REGISTRY_UNREACHABLE',
    names: ['127.0.0.1:1'],
    watch,
  });
  await expectUserError({
    args: reg('Bad Ref'),
    env: ctx.env,
    code: 'REGISTRY_BAD_REFERENCE',
    names: ['Bad Ref'],
    watch,
  });
  await expectUsageError({
    args: exp(`${NAME}:v1`, '-o', o, '--registry', '127.0.0.1:1/org/app:v1'),
    env: ctx.env,
    names: ['--with-bundle'],
    watch,
  });
});

test('trust import: unreadable, not gzip, altered archives', async () => {
  const watch = [ctx.homeB];
  const missing = path.join(ctx.work, 'missing.tgz');
  await expectUserError({
    args: imp(missing, '--root', ctx.root),
    env: ctx.envB,
    code: 'TRUST_ARCHIVE_INVALID',
    names: [missing],
    watch,
  });
  await expectUserError({
    args: imp(ctx.notGzip, '--root', ctx.root),
    env: ctx.envB,
    code: 'TRUST_ARCHIVE_INVALID',
    names: ['not-gzip'],
    watch,
  });
  await expectUserError({
    args: imp(ctx.tampered, '--root', ctx.root),
    env: ctx.envB,
    code: 'TRUST_ARCHIVE_INVALID',
    names: ['metadata/timestamp.json', 'sha256'],
    watch,
  });
});

test('trust import: a grace over 366 days', async () => {
  await expectUserError({
    args: imp(ctx.archive, '--root', ctx.root, '--grace', '2y'),
    env: ctx.envB,
    code: 'INVALID_DURATION',
    names: ['--grace 2y'],
    watch: [ctx.homeB],
  });
});

test('trust import: trust decisions (no --root, --root for a trusted repository, a bad root)', async () => {
  await expectUserError({
    args: imp(ctx.archive),
    env: ctx.envB,
    code: 'TRUST_NOT_FOUND',
    hint: /--root/,
    watch: [ctx.homeB],
  });
  await expectUserError({
    args: imp(ctx.archive, '--root', ctx.root),
    env: ctx.env,
    code: 'TRUST_EXISTS',
    hint: /trust reset/,
    watch: [ctx.home],
  });
  await expectUserError({
    args: imp(ctx.archive, '--root', ctx.bundle),
    env: ctx.envB,
    code: 'REPO_CORRUPT',
    watch: [ctx.homeB],
  });
  await expectUsageError({ args: imp(), env: ctx.envB, watch: [ctx.homeB] });
});

test('verify: --grace over 366 days; no bundle given and none imported (the hint names trust import)', async () => {
  const watch = [ctx.home];
  await expectUserError({
    args: ['verify', `${NAME}:v1`, '--thin', ctx.bundle, '--grace', '400d'],
    env: ctx.env,
    code: 'INVALID_DURATION',
    watch,
  });
  await expectUserError({
    args: ['verify', `${NAME}:v1`],
    env: ctx.env,
    code: 'BUNDLE_NOT_FOUND',
    hint: /trust import/,
    watch,
  });
});

test("verify: --grace with --map is refused (the map's repositories would be updated without it)", async () => {
  await expectUsageError({
    args: ['verify', `${NAME}:v1`, '--thin', ctx.bundle, '--map', ctx.bundle, '--grace', '1d'],
    env: ctx.env,
    names: ['--grace', '--map'],
    watch: [ctx.home],
  });
});
