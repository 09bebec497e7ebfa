// docker credential helpers (src/registry/credential-helper.ts) with fake helpers written into
// a temp PATH dir: credHelpers before credsStore, the host (or the Hub's v1 URL) on stdin, the
// `<token>` user as an identity token, "not found" as no credentials, a missing helper falling
// back to auths, and failures (bad name, error exit, too much output, no answer) as
// REGISTRY_BAD_CONFIG without the secret. And the CNABSEC_REGISTRY_USER/PASSWORD scope:
// only the hosts of CNABSEC_REGISTRY_HOST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { defaultCredentials, dockerConfigCredentials, openRegistry } from '../../dist/registry/index.js';
import { startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

/** A dir on PATH with `docker-credential-<name>` shell scripts; each logs its stdin to <name>.log. */
async function helpers(t, scripts) {
  const dir = await tempDir(t, 'cnabsec-helpers-');
  for (const [name, body] of Object.entries(scripts)) {
    const file = path.join(dir, `docker-credential-${name}`);
    await writeFile(
      file,
      `#!/bin/sh\n[ "$1" = get ] || exit 3\nread -r server\nprintf '%s\\n' "$server" >> "${dir}/${name}.log"\n${body}\n`,
    );
    await chmod(file, 0o755);
  }
  const env = { PATH: `${dir}:/usr/bin:/bin` };
  const asked = async (name) =>
    (await readFile(path.join(dir, `${name}.log`), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { dir, env, asked };
}

async function config(t, doc) {
  const file = path.join(await tempDir(t), 'config.json');
  await writeFile(file, JSON.stringify(doc));
  return file;
}

const ANSWER = (user, secret) =>
  `printf '{"ServerURL":"%s","Username":"${user}","Secret":"${secret}"}' "$server"`;

test('credHelpers for the host, else credsStore; the host (the Hub: its v1 URL) on stdin', async (t) => {
  const h = await helpers(t, {
    gh: ANSWER('gh-user', 'gh-secret'),
    store: ANSWER('store-user', 'store-secret'),
  });
  const file = await config(t, {
    auths: { 'ghcr.io': { auth: Buffer.from('file:pw').toString('base64') } },
    credHelpers: { 'GHCR.IO': 'gh' },
    credsStore: 'store',
  });
  assert.deepEqual(dockerConfigCredentials('ghcr.io', file, h.env), {
    username: 'gh-user',
    password: 'gh-secret',
  });
  assert.deepEqual(dockerConfigCredentials('quay.io', file, h.env), {
    username: 'store-user',
    password: 'store-secret',
  });
  assert.deepEqual(dockerConfigCredentials('docker.io', file, h.env).username, 'store-user');
  assert.deepEqual(await h.asked('gh'), ['ghcr.io']);
  assert.deepEqual(await h.asked('store'), ['quay.io', 'https://index.docker.io/v1/']);
});

test('the <token> user is an identity token; "not found" is no credentials; a missing helper falls back to auths', async (t) => {
  const h = await helpers(t, {
    tok: ANSWER('<token>', 'id-token-1'),
    none: `echo 'credentials not found in native keychain'; exit 1`,
    empty: ANSWER('', ''),
  });
  const tokFile = await config(t, { credsStore: 'tok' });
  assert.deepEqual(dockerConfigCredentials('ghcr.io', tokFile, h.env), {
    username: '<token>',
    password: '',
    identityToken: 'id-token-1',
  });
  const noneFile = await config(t, {
    credsStore: 'none',
    auths: { 'ghcr.io': { auth: Buffer.from('file:pw').toString('base64') } },
  });
  assert.equal(dockerConfigCredentials('ghcr.io', noneFile, h.env), undefined); // docker: the store decides
  assert.equal(
    dockerConfigCredentials('ghcr.io', await config(t, { credsStore: 'empty' }), h.env),
    undefined,
  );
  const missing = await config(t, {
    credsStore: 'desktop',
    auths: { 'ghcr.io': { auth: Buffer.from('file:pw').toString('base64') } },
  });
  assert.deepEqual(dockerConfigCredentials('ghcr.io', missing, h.env), { username: 'file', password: 'pw' });
});

test('a bad helper name, a failing helper, too much output or bad JSON are REGISTRY_BAD_CONFIG without the secret', async (t) => {
  const h = await helpers(t, {
    fails: `echo 'helper broke: vault sealed' >&2; exit 2`,
    chatty: `head -c 70000 /dev/zero | tr '\\0' x`,
    notjson: `echo 'Secret=s3cr3t'`,
    nosecret: `echo '{"Username":"u"}'`,
  });
  const check = async (store, re) => {
    const file = await config(t, { credsStore: store });
    assert.throws(
      () => dockerConfigCredentials('ghcr.io', file, h.env),
      (e) =>
        e.code === 'REGISTRY_BAD_CONFIG' &&
        re.test(e.message) &&
        e.message.startsWith(file) &&
        !e.message.includes('s3cr3t') &&
        !e.message.includes('\n'),
      store,
    );
  };
  await check('../../bin/sh', /is not a credential helper name/);
  await check('fails', /docker-credential-fails: failed: "helper broke: vault sealed"/);
  await check('chatty', /wrote more than 65536 bytes/);
  await check('notjson', /did not answer JSON/);
  await check('nosecret', /without a Username and Secret/);
  await check(7, /credsStore/);
  assert.deepEqual(await h.asked('fails'), ['ghcr.io']);
});

test('a helper that never answers is stopped after 10 s', async (t) => {
  const h = await helpers(t, { slow: 'exec sleep 60' });
  const file = await config(t, { credsStore: 'slow' });
  assert.throws(
    () => dockerConfigCredentials('ghcr.io', file, h.env),
    (e) => e.code === 'REGISTRY_BAD_CONFIG' && /gave no answer within 10 s/.test(e.message),
  );
});

test('CNABSEC_REGISTRY_USER/PASSWORD only for the hosts of CNABSEC_REGISTRY_HOST; unset host is an error', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('file:pw').toString('base64') } } }),
  );
  const base = { DOCKER_CONFIG: dir, CNABSEC_REGISTRY_USER: 'env', CNABSEC_REGISTRY_PASSWORD: 'secret' };
  const env = { ...base, CNABSEC_REGISTRY_HOST: ' GHCR.io , 127.0.0.1:5000,index.docker.io' };
  const creds = defaultCredentials({ env });
  assert.deepEqual(creds('ghcr.io'), { username: 'env', password: 'secret' });
  assert.deepEqual(creds('127.0.0.1:5000'), { username: 'env', password: 'secret' });
  assert.deepEqual(creds('docker.io'), { username: 'env', password: 'secret' });
  // another host: never the environment's password; its own config entry, or nothing
  assert.deepEqual(creds('quay.io'), { username: 'file', password: 'pw' });
  assert.equal(creds('evil.example'), undefined);
  assert.equal(creds('127.0.0.1:5001'), undefined);
  for (const [host, re] of [
    [undefined, /CNABSEC_REGISTRY_USER is set, but CNABSEC_REGISTRY_HOST does not say for which registry/],
    ['  ', /does not say/],
    ['https://ghcr.io', /"https:\/\/ghcr.io" is not a registry host/],
  ]) {
    const e2 = host === undefined ? base : { ...base, CNABSEC_REGISTRY_HOST: host };
    assert.throws(
      () => defaultCredentials({ env: e2 })('ghcr.io'),
      (e) => e.code === 'REGISTRY_BAD_CONFIG' && re.test(e.message) && /CNABSEC_REGISTRY_HOST/.test(e.hint),
      String(host),
    );
  }
});

test('real basic-auth docker-registry: a credential helper logs in; CNABSEC_REGISTRY_* only when the host is listed', async (t) => {
  const reg = await startRegistry(t, { auth: 'basic' });
  const { username, password } = reg.credentials;
  const h = await helpers(t, { test: ANSWER(username, password) });
  const file = await config(t, { credHelpers: { [reg.host]: 'test' } });
  const viaHelper = openRegistry({ registry: reg.host, insecure: true, registryConfig: file, env: h.env });
  assert.equal(await viaHelper.hasBlob('org/b', `sha256:${'0'.repeat(64)}`), false);
  assert.deepEqual(await h.asked('test'), [reg.host]);
  const env = { CNABSEC_REGISTRY_USER: username, CNABSEC_REGISTRY_PASSWORD: password };
  const listed = openRegistry({
    registry: reg.host,
    insecure: true,
    env: { ...env, CNABSEC_REGISTRY_HOST: reg.host },
  });
  assert.equal(await listed.hasBlob('org/b', `sha256:${'0'.repeat(64)}`), false);
  const other = openRegistry({
    registry: reg.host,
    insecure: true,
    env: { ...env, CNABSEC_REGISTRY_HOST: 'ghcr.io', DOCKER_CONFIG: path.dirname(file) + '-none' },
  });
  await assert.rejects(
    other.hasBlob('org/b', `sha256:${'0'.repeat(64)}`),
    (e) => e.code === 'REGISTRY_AUTH_FAILED' && /none were found/.test(e.message),
  );
});
