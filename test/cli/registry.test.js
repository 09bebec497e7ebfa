// The thin-bundle flow of issue 14 at the CLI against a real docker-registry 2.8
// (test/helpers/registry.js; the CLI runs async, so the token issuer in this process answers), with a real TUF repository: init (named after the registry
// repository, host:port included), push --sign, publish, trust add, pull --verify by tag,
// pull by digest, verify --registry; with anonymous, basic and bearer-token registries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { cliOk, cliOkAsync, runCli } from '../helpers/cli.js';
import { blobDataPath } from '../helpers/registry.js';
import { bundleDoc, digestOf, pushImage, registryFlow, trustIt } from '../helpers/registry-flow.js';

const lines = (s) => s.trim().split('\n');

for (const auth of ['none', 'basic', 'token']) {
  test(`registry (${auth}): push --sign, publish, pull --verify by tag, pull by digest, verify --registry`, async (t) => {
    const f = await registryFlow(t, { auth });
    const out = await cliOkAsync(['push', f.bundle, f.ref, '--sign', f.repo, ...f.insecure], { env: f.env });
    const [pushed, , staged, next] = lines(out);
    const digest = /digest (sha256:[0-9a-f]{64})$/.exec(pushed)?.[1];
    assert.ok(digest, out);
    assert.equal(pushed, `pushed ${f.ref}: digest ${digest}`);
    assert.match(
      staged,
      new RegExp(
        `^staged ${f.name.replace(/\./g, '\\.')}:v1 \\(\\d+ bytes, sha256 [0-9a-f]{64}\\) in targets v2$`,
      ),
    );
    assert.equal(next, `next: cnabsec publish ${f.repo}`);
    await cliOkAsync(['publish', f.repo], { env: f.env });
    trustIt(f);

    const bytes = await readFile(f.bundle);
    const o = path.join(f.dir, 'pulled.json');
    const pulled = await cliOkAsync(['pull', f.ref, '--verify', '-o', o, ...f.insecure], { env: f.user });
    assert.match(pulled, new RegExp(`^pulled ${f.ref.replace(/\./g, '\\.')}: digest ${digest}, `, 'm'));
    assert.match(pulled, new RegExp(`^verified ${f.ref.replace(/\./g, '\\.')} \\(doc 303\\)$`, 'm'));
    assert.deepEqual(await readFile(o), bytes);

    const byDigest = path.join(f.dir, 'by-digest.json');
    const j = JSON.parse(
      await cliOkAsync(['pull', `${f.name}@${digest}`, '-o', byDigest, '--json', ...f.insecure], {
        env: f.user,
      }),
    );
    assert.equal(j.pinned, `${f.name}@${digest}`);
    assert.deepEqual(j.index, { hashes: { sha256: digest.slice(7) } });
    assert.equal(j.verified, false);
    assert.deepEqual(j.config, { length: bytes.length, hashes: { sha256: digestOf(bytes).slice(7) } });
    assert.deepEqual(await readFile(byDigest), bytes);

    const v = path.join(f.dir, 'verified.json');
    const verified = await cliOkAsync(
      ['verify', f.ref, '--registry', `${f.name}@${digest}`, '-o', v, ...f.insecure],
      {
        env: f.user,
      },
    );
    assert.match(
      verified,
      new RegExp(`^verified ${f.ref.replace(/\./g, '\\.')}: ${bytes.length} bytes, sha256 `),
    );
    assert.deepEqual(await readFile(v), bytes);
    // pull --verify of a digest names the signed target with --target
    const withTarget = path.join(f.dir, 'with-target.json');
    await cliOkAsync(
      ['pull', `${f.name}@${digest}`, '--verify', '--target', f.ref, '-o', withTarget, ...f.insecure],
      {
        env: f.user,
      },
    );
    assert.deepEqual(await readFile(withTarget), bytes);
  });
}

test('registry: push --sign stages exactly what bundle add --thin stages for the same file', async (t) => {
  const f = await registryFlow(t);
  const viaPush = JSON.parse(
    cliOk(['push', f.bundle, f.ref, '--sign', f.repo, '--json', ...f.insecure], { env: f.env }),
  );
  cliOk(['reset', f.repo], { env: f.env });
  const viaAdd = JSON.parse(
    cliOk(['bundle', 'add', f.repo, 'v1', '--thin', f.bundle, '--json'], { env: f.env }),
  );
  assert.deepEqual(
    { ...viaPush.staged, location: undefined },
    { name: viaAdd.name, tag: viaAdd.tag, role: viaAdd.role, version: viaAdd.version, location: undefined },
  );
  assert.deepEqual(viaPush.config, { length: viaAdd.length, hashes: viaAdd.hashes });
});

test('registry: a blob altered in the registry storage: pull refuses (digest), verify refuses', async (t) => {
  const f = await registryFlow(t);
  cliOk(['push', f.bundle, f.ref, '--sign', f.repo, ...f.insecure], { env: f.env });
  cliOk(['publish', f.repo], { env: f.env });
  trustIt(f);
  const bytes = await readFile(f.bundle);
  const file = blobDataPath(f.reg.storageDir, digestOf(bytes));
  const altered = Buffer.from(bytes);
  altered[altered.indexOf('app 1.0.0')] = 0x41; // same length, other bytes
  await writeFile(file, altered);
  const o = path.join(f.dir, 'out.json');
  for (const args of [
    ['pull', f.ref, '-o', o, ...f.insecure],
    ['pull', f.ref, '--verify', '-o', o, ...f.insecure],
    ['verify', f.ref, '--registry', f.ref, ...f.insecure],
  ]) {
    const r = runCli(args, { env: f.user });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^cnabsec: error \[REGISTRY_DIGEST_MISMATCH\]: /, args.join(' '));
    assert.equal(r.stdout, '');
  }
  await assert.rejects(readFile(o), { code: 'ENOENT' });
});

test('registry: another bundle pushed to the signed tag: verify and pull --verify are BUNDLE_HASH_MISMATCH, nothing written', async (t) => {
  const f = await registryFlow(t);
  cliOk(['push', f.bundle, f.ref, '--sign', f.repo, ...f.insecure], { env: f.env });
  cliOk(['publish', f.repo], { env: f.env });
  trustIt(f);
  const other = path.join(f.dir, 'other.json');
  await writeFile(other, canonicalize(bundleDoc(f.reg.host, f.image, '6.6.6')));
  cliOk(['push', other, f.ref, ...f.insecure], { env: f.env }); // no --sign: the attacker's push
  const o = path.join(f.dir, 'out.json');
  for (const args of [
    ['verify', f.ref, '--registry', f.ref, ...f.insecure],
    ['pull', f.ref, '--verify', '-o', o, ...f.insecure],
  ]) {
    const r = runCli(args, { env: f.user });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^cnabsec: error \[BUNDLE_HASH_MISMATCH\]: /, args.join(' '));
  }
  await assert.rejects(readFile(o), { code: 'ENOENT' });
  // a larger bundle under the tag is refused before its config blob is downloaded
  const big = path.join(f.dir, 'big.json');
  await writeFile(big, canonicalize({ ...bundleDoc(f.reg.host, f.image), description: 'x'.repeat(5000) }));
  cliOk(['push', big, f.ref, ...f.insecure], { env: f.env });
  const r = runCli(['verify', f.ref, '--registry', f.ref, ...f.insecure], { env: f.user });
  assert.match(r.stderr, /^cnabsec: error \[BUNDLE_HASH_MISMATCH\]: .*is \d+ bytes, the signed one \d+\)/);
});

test('registry: push --sign to another registry repository than the signed name warns how to verify', async (t) => {
  const f = await registryFlow(t);
  // the local repository is example.com/org/app: the bytes live elsewhere
  const repo = path.join(f.dir, 'repo2');
  cliOk(['init', repo, '--name', 'example.com/org/app'], { env: f.env });
  const r = runCli(['push', f.bundle, f.ref, '--sign', repo, ...f.insecure], { env: f.env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `verify this copy with cnabsec verify example\\.com/org/app:v1 --registry ${f.ref.replace(/\./g, '\\.')}`,
    ),
  );
  cliOk(['publish', repo], { env: f.env });
  cliOk(
    [
      'trust',
      'add',
      'example.com/org/app',
      '--root',
      path.join(repo, 'metadata', 'root.json'),
      '--url',
      new URL(`file://${path.join(repo, 'metadata')}`).href,
    ],
    { env: f.user },
  );
  cliOk(['verify', 'example.com/org/app:v1', '--registry', f.ref, ...f.insecure], { env: f.user });
});

test('registry: in-toto provenance listed on the target is verified on the registry path too', async (t) => {
  const f = await registryFlow(t, { init: false });
  const sh = (args) => cliOk(args, { env: f.env, cwd: f.dir });
  for (const k of ['builder', 'owner']) sh(['intoto', 'keygen', `keys/${k}`]);
  sh([
    'intoto',
    'layout',
    'new',
    '-t',
    'minimal',
    '-f',
    'build=keys/builder.pub',
    '-s',
    'keys/owner',
    '-o',
    'root.layout',
  ]);
  sh([
    'intoto',
    'run',
    '--step',
    'build',
    '--key',
    'keys/builder',
    '-p',
    'bundle.json',
    '-d',
    'links',
    '--',
    'true',
  ]);
  sh([
    'init',
    f.repo,
    '--name',
    f.name,
    '--in-toto',
    '--layout',
    'root.layout',
    '--layout-key',
    'keys/owner.pub',
  ]);
  sh(['bundle', 'add', f.repo, 'v1', '--thin', 'bundle.json', '--links', 'links']);
  sh(['push', 'bundle.json', f.ref, ...f.insecure]); // the target is staged with its links already
  sh(['publish', f.repo]);
  trustIt(f);
  const o = path.join(f.dir, 'pulled.json');
  const pulled = cliOk(['pull', f.ref, '--verify', '-o', o, ...f.insecure], { env: f.user });
  assert.match(pulled, /\(doc 303, in-toto provenance verified\)$/m);
  const verified = cliOk(['verify', f.ref, '--registry', f.ref, ...f.insecure], { env: f.user });
  assert.match(verified, /, in-toto provenance verified$/m);
});

test('registry: push copies an image the bundle references from another repository into the bundle repository', async (t) => {
  const f = await registryFlow(t);
  const src = await pushImage(f.client, 'org/src', 'elsewhere');
  const file = path.join(f.dir, 'elsewhere.json');
  const doc = bundleDoc(f.reg.host, src);
  doc.invocationImages[0].image = `${f.reg.host}/org/src@${src.digest}`;
  await writeFile(file, canonicalize(doc));
  const r = JSON.parse(
    await cliOkAsync(['push', file, `${f.name}:v2`, '--json', ...f.insecure], { env: f.env }),
  );
  assert.match(r.pinned, /@sha256:[0-9a-f]{64}$/);
  assert.ok(await f.client.headManifest('org/app', src.digest), 'the image is now in the bundle repository');
  const j = JSON.parse(
    await cliOkAsync(['pull', `${f.name}:v2`, '-o', path.join(f.dir, 'v2.json'), '--json', ...f.insecure], {
      env: f.env,
    }),
  );
  assert.deepEqual(j.relocationMap, { [`${f.reg.host}/org/src@${src.digest}`]: `${f.name}@${src.digest}` });
});
