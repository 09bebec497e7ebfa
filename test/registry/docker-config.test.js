// Registry credentials from the docker config.json and the environment
// (src/registry/docker-config.ts): lookup by host as docker does, Docker Hub's legacy key,
// `auth` and username/password entries, and broken files as REGISTRY_BAD_CONFIG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { defaultCredentials, dockerConfigCredentials, dockerConfigPath } from '../../dist/registry/index.js';
import { tempDir } from '../helpers/tmp.js';

const b64 = (s) => Buffer.from(s).toString('base64');

test('entries are found by registry host; Docker Hub under https://index.docker.io/v1/', async (t) => {
  const file = path.join(await tempDir(t), 'config.json');
  await writeFile(
    file,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:pw:with:colons') },
        'ghcr.io': { username: 'gh', password: 'tok' },
        'https://registry.example.com:5000/v1/': { auth: b64('ex:pw') },
        'empty.example': {},
      },
      credsStore: 'desktop',
    }),
  );
  assert.deepEqual(dockerConfigCredentials('docker.io', file), {
    username: 'hub',
    password: 'pw:with:colons',
  });
  assert.deepEqual(dockerConfigCredentials('ghcr.io', file), { username: 'gh', password: 'tok' });
  assert.deepEqual(dockerConfigCredentials('registry.example.com:5000', file), {
    username: 'ex',
    password: 'pw',
  });
  assert.equal(dockerConfigCredentials('registry.example.com', file), undefined);
  assert.equal(dockerConfigCredentials('empty.example', file), undefined);
  assert.equal(dockerConfigCredentials('quay.io', file), undefined);
  assert.equal(dockerConfigCredentials('ghcr.io', path.join(path.dirname(file), 'missing.json')), undefined);
});

test('the environment comes before the file; DOCKER_CONFIG names the folder', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({ auths: { 'ghcr.io': { auth: b64('file:pw') } } }),
  );
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: dir }), path.join(dir, 'config.json'));
  assert.deepEqual(defaultCredentials({ env: { DOCKER_CONFIG: dir } })('ghcr.io'), {
    username: 'file',
    password: 'pw',
  });
  const env = {
    DOCKER_CONFIG: dir,
    CNABSEC_REGISTRY_USER: 'env',
    CNABSEC_REGISTRY_PASSWORD: 'secret',
    CNABSEC_REGISTRY_HOST: 'ghcr.io',
  };
  assert.deepEqual(defaultCredentials({ env })('ghcr.io'), { username: 'env', password: 'secret' });
  const only = { DOCKER_CONFIG: dir, CNABSEC_REGISTRY_USER: 'env' }; // no password: not used
  assert.deepEqual(defaultCredentials({ env: only })('ghcr.io'), { username: 'file', password: 'pw' });
});

test('broken files and entries are REGISTRY_BAD_CONFIG naming the file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  for (const [text, why] of [
    ['{not json', /not valid JSON/],
    ['{"auths": []}', /auths/],
    [JSON.stringify({ auths: { 'ghcr.io': { auth: b64('nocolon') } } }), /user:password/],
    [JSON.stringify({ auths: { 'ghcr.io': 'x' } }), /not an object/],
  ]) {
    await writeFile(file, text);
    assert.throws(
      () => dockerConfigCredentials('ghcr.io', file),
      (e) => e.code === 'REGISTRY_BAD_CONFIG' && e.message.startsWith(file) && why.test(e.message),
      text,
    );
  }
});

test('dockerConfigCredentials: a FIFO, /dev/zero, a directory or a file over 1 MiB is refused at once, never read without end', async (t) => {
  const dir = await tempDir(t, 'cnabsec-dockercfg-special-');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = path.join(dir, 'big.json');
  await writeFile(big, `{"auths":{},"x":"${'a'.repeat(1024 * 1024)}"}`);
  for (const [file, problem] of [
    [fifo, /not a regular file/],
    ['/dev/zero', /not a regular file/],
    [dir, /not a regular file/],
    [big, /larger than 1048576 bytes/],
  ]) {
    assert.throws(
      () => dockerConfigCredentials('reg.example.com', file),
      (e) => e.code === 'REGISTRY_BAD_CONFIG' && problem.test(e.message),
      file,
    );
  }
});
