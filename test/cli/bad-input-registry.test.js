// Bad input to the registry commands (issue 14 item 7; the style of ./bad-input.test.js): push,
// pull <ref>, verify --registry, against real docker-registry 2.8 instances (anonymous and
// basic auth) and a closed port. Every case: exit 1 (2 for usage), one `cnabsec: error [CODE]:`
// line naming what was wrong plus a hint, nothing on stdout, the repository, the trust store and
// the output directory unchanged; a failed push never moves the tag.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { cliOk } from '../helpers/cli.js';
import { expectUsageError, expectUserError } from '../helpers/bad-input.js';
import { blobDataPath, startRegistry } from '../helpers/registry.js';
import { bundleDoc, digestOf, pushImage, registryFlow, trustIt } from '../helpers/registry-flow.js';

const ctx = {};
const closers = [];
const fakeT = { after: (fn) => closers.push(fn) };
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * docker-registry refuses a manifest over 4 MiB on PUT, so a hostile registry is a child
 * process (the CLI runs synchronously): it answers every manifest GET with a 5 MiB index.
 */
const HUGE = `
const http = require('node:http');
const body = Buffer.alloc(5 * 2 ** 20, 0x20);
const s = http.createServer((req, res) => {
  if (req.url === '/v2/') return res.writeHead(200).end('{}');
  res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'content-length': body.length });
  res.end(body);
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

async function hugeManifestServer() {
  const child = spawn(process.execPath, ['-e', HUGE], { stdio: ['ignore', 'pipe', 'inherit'] });
  closers.push(() => {
    child.kill('SIGTERM');
  });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
  return `127.0.0.1:${port}`;
}

before(async () => {
  const f = await registryFlow(fakeT);
  Object.assign(ctx, f);
  const out = cliOk(['push', f.bundle, f.ref, '--sign', f.repo, '--json', ...f.insecure], { env: f.env });
  ctx.digest = `sha256:${JSON.parse(out).index.hashes.sha256}`;
  cliOk(['publish', f.repo], { env: f.env });
  trustIt(f);
  ctx.out = path.join(f.dir, 'out');
  await mkdir(ctx.out);
  ctx.watch = [f.repo, f.user.CNABSEC_HOME, ctx.out];
  // a plain image manifest under a tag: not a bundle index
  ctx.plain = await pushImage(f.client, 'org/app', 'plain');
  await f.client.putManifest('org/app', 'plain', OCI_MANIFEST, ctx.plain.bytes);
  ctx.huge = await hugeManifestServer();
  ctx.dead = `127.0.0.1:${await closedPort()}`;
  ctx.basic = await startRegistry(fakeT, { auth: 'basic' });
  ctx.undigested = path.join(f.dir, 'undigested.json');
  await writeFile(
    ctx.undigested,
    canonicalize({
      ...bundleDoc(f.reg.host, f.image),
      invocationImages: [{ imageType: 'oci', image: `${f.reg.host}/org/app:latest` }],
    }),
  );
  ctx.missing = path.join(f.dir, 'missing-image.json');
  const ghost = { digest: `sha256:${'b'.repeat(64)}`, size: 300 };
  await writeFile(ctx.missing, canonicalize(bundleDoc(f.reg.host, ghost, '2.0.0')));
  ctx.notRepo = path.join(f.dir, 'not-a-repo');
  await mkdir(ctx.notRepo);
});

after(async () => {
  for (const c of closers.reverse()) await c();
});

const ins = () => ctx.insecure;
const o = (name = 'bundle.json') => path.join(ctx.out, name);
const user = (c) => ({ env: ctx.user, watch: ctx.watch, ...c });

test('push: unreachable registry', () =>
  expectUserError(
    user({
      args: ['push', ctx.bundle, `${ctx.dead}/org/app:v1`, '--insecure-registry', ctx.dead],
      code: 'REGISTRY_UNREACHABLE',
      names: [ctx.dead],
    }),
  ));

test('pull: 401 from a basic-auth registry, no credentials', () =>
  expectUserError(
    user({
      args: ['pull', `${ctx.basic.host}/org/app:v1`, '-o', o(), '--insecure-registry', ctx.basic.host],
      env: { CI: 'true', CNABSEC_HOME: ctx.user.CNABSEC_HOME },
      code: 'REGISTRY_AUTH_FAILED',
      names: [ctx.basic.host],
    }),
  ));

test('pull: missing tag', () =>
  expectUserError(
    user({
      args: ['pull', `${ctx.name}:nope`, '-o', o(), ...ins()],
      code: 'REGISTRY_NOT_FOUND',
      names: ['nope'],
    }),
  ));

test('pull: neither a repository directory nor a reference', () =>
  expectUserError(
    user({
      args: ['pull', 'Not//A:ref', '-o', o(), ...ins()],
      code: 'REPO_NOT_FOUND',
      names: ['Not//A:ref', 'repository directory', 'registry reference'],
    }),
  ));

test('push: bad reference', () =>
  expectUserError(
    user({
      args: ['push', ctx.bundle, `${ctx.reg.host}/Org/App:v1`, ...ins()],
      code: 'REGISTRY_BAD_REFERENCE',
      names: ['Org/App'],
    }),
  ));

test('pull: a plain image manifest under the tag (wrong media type)', async () => {
  const r = await expectUserError(
    user({
      args: ['pull', `${ctx.name}:plain`, '-o', o(), ...ins()],
      code: 'REGISTRY_LAYOUT_MISMATCH',
      names: [OCI_MANIFEST, 'not an OCI index'],
    }),
  );
  assert.match(r.stderr, /cnab-to-oci layout/);
});

test('pull: a manifest whose bytes do not match its digest', async () => {
  // the index as the registry stores it, changed in its storage directory
  const file = blobDataPath(ctx.reg.storageDir, ctx.digest);
  const { readFile } = await import('node:fs/promises');
  const good = await readFile(file);
  const bad = Buffer.from(good.toString('utf8').replace('app 1.0.0', 'apq 1.0.0')); // still JSON
  assert.notDeepEqual(bad, good);
  await writeFile(file, bad);
  try {
    await expectUserError(
      user({
        args: ['pull', `${ctx.name}@${ctx.digest}`, '-o', o(), ...ins()],
        code: 'REGISTRY_DIGEST_MISMATCH',
        names: [ctx.digest],
      }),
    );
  } finally {
    await writeFile(file, good);
  }
});

test('pull: an oversized manifest', () =>
  expectUserError(
    user({
      args: ['pull', `${ctx.huge}/org/app:huge`, '-o', o(), '--insecure-registry', ctx.huge],
      code: 'REGISTRY_TOO_LARGE',
      names: ['huge'],
    }),
  ));

test('push: an undigested image in bundle.json is refused before any request', () =>
  expectUserError(
    user({
      // a dead registry: a request would be REGISTRY_UNREACHABLE
      args: ['push', ctx.undigested, `${ctx.dead}/org/app:v1`, '--insecure-registry', ctx.dead],
      code: 'REGISTRY_IMAGE_NOT_DIGESTED',
      names: ['org/app:latest'],
    }),
  ));

test('push: --sign on a directory that is not a repository (nothing pushed)', async () => {
  await expectUserError(
    user({
      args: ['push', ctx.bundle, `${ctx.name}:signed-nowhere`, '--sign', ctx.notRepo, ...ins()],
      env: ctx.env,
      code: 'REPO_NOT_FOUND',
      names: [ctx.notRepo],
    }),
  );
  assert.ok(!(await ctx.client.listTags('org/app')).includes('signed-nowhere'));
});

test('pull: --verify of an untrusted repository', () =>
  expectUserError(
    user({
      args: [
        'pull',
        `${ctx.basic.host}/org/other:v1`,
        '--verify',
        '-o',
        o(),
        '--insecure-registry',
        ctx.basic.host,
      ],
      code: 'TUF_UPDATE_FAILED',
      names: [`${ctx.basic.host}/org/other:v1`],
    }),
  ));

test('push: images missing: REGISTRY_IMAGE_MISSING, the tag still serves the old digest, nothing staged', async () => {
  await expectUserError(
    user({
      args: ['push', ctx.missing, ctx.ref, '--sign', ctx.repo, ...ins()],
      env: ctx.env,
      code: 'REGISTRY_IMAGE_MISSING',
      names: ['b'.repeat(64)],
    }),
  );
  const served = await ctx.client.getManifest('org/app', 'v1');
  assert.equal(served.digest, ctx.digest);
});

test('pull: --verify of a digest without --target', () =>
  expectUserError(
    user({
      args: ['pull', `${ctx.name}@${ctx.digest}`, '--verify', '-o', o(), ...ins()],
      code: 'INVALID_NAME',
      names: [ctx.digest],
      hint: /--target/,
    }),
  ));

test('pull: the output file exists', async () => {
  const existing = path.join(ctx.dir, 'exists.json');
  await writeFile(existing, '{}');
  await expectUserError(
    user({
      args: ['pull', ctx.ref, '-o', existing, ...ins()],
      code: 'OUTPUT_WRITE_FAILED',
      names: [existing],
      hint: /--force/,
    }),
  );
});

test('pull: --token-file with a registry reference', () =>
  expectUsageError(
    user({ args: ['pull', ctx.ref, '--token-file', 'x', ...ins()], names: ['--token-file'] }),
  ));

test('pull: registry options with a repository directory', () =>
  expectUsageError(
    user({ args: ['pull', ctx.repo, '--verify', '-o', o()], names: ['-o/--output', '--verify'] }),
  ));

test('verify: --registry with --thin', () =>
  expectUsageError(
    user({
      args: ['verify', ctx.ref, '--registry', ctx.ref, '--thin', ctx.bundle, ...ins()],
      names: ['--registry'],
    }),
  ));

test('verify: --registry, a bad reference', () =>
  expectUserError(
    user({
      args: ['verify', ctx.ref, '--registry', 'a/B:c'],
      code: 'REGISTRY_BAD_REFERENCE',
      names: ['a/B:c'],
    }),
  ));

test('verify: --registry without a tag or digest is refused before the TUF update', () =>
  expectUserError(
    user({
      args: ['verify', `${ctx.basic.host}/org/other:v1`, '--registry', ctx.name, ...ins()],
      code: 'REGISTRY_BAD_TARGET',
      names: [ctx.name],
    }),
  ));

test('digestOf is sha256', () => assert.match(digestOf(Buffer.from('x')), /^sha256:[0-9a-f]{64}$/));
