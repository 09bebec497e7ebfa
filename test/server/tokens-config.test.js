// The settings of the token scheme (src/server/config.ts, ADR 0032): `auth` (none | tokens,
// flag --auth) and `anonymousRead` (a JSON array in server.json, comma-separated in
// CNABSEC_SERVER_ANONYMOUS_READ), each pattern checked; a bad one names where it came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { loadServerConfig } from '../../dist/server/config.js';
import { tempDir } from '../helpers/tmp.js';

test('config: auth and anonymousRead from flag, variable and file', async (t) => {
  const dir = await tempDir(t, 'cnabsec-token-config-');
  const file = path.join(dir, 'server.json');
  await writeFile(file, JSON.stringify({ auth: 'tokens', anonymousRead: ['example.com/open/*', 'x.io/**'] }));
  const fromFile = await loadServerConfig({ configFile: file, env: {} });
  assert.equal(fromFile.auth, 'tokens');
  assert.deepEqual(fromFile.anonymousRead, ['example.com/open/*', 'x.io/**']);
  const fromEnv = await loadServerConfig({
    configFile: file,
    env: { CNABSEC_SERVER_AUTH: 'none', CNABSEC_SERVER_ANONYMOUS_READ: ' a.io/b/* , * ' },
  });
  assert.equal(fromEnv.auth, 'none');
  assert.deepEqual(fromEnv.anonymousRead, ['a.io/b/*', '*']);
  const fromFlag = await loadServerConfig({
    flags: { auth: 'tokens' },
    env: { CNABSEC_SERVER_AUTH: 'none' },
  });
  assert.equal(fromFlag.auth, 'tokens');
  assert.deepEqual(fromFlag.anonymousRead, []);
});

test('config: a bad anonymousRead pattern or shape names its source', async (t) => {
  const dir = await tempDir(t, 'cnabsec-token-config-');
  for (const [value, where] of [
    [['example.com/acme-*'], 'anonymousRead'],
    [{ a: 1 }, 'anonymousRead'],
    [[1], 'anonymousRead'],
    [['../x'], 'anonymousRead'],
  ]) {
    const file = path.join(dir, 'server.json');
    await writeFile(file, JSON.stringify({ anonymousRead: value }));
    await assert.rejects(loadServerConfig({ configFile: file, env: {} }), (e) => {
      assert.equal(e.code, 'SERVER_CONFIG');
      assert.ok(e.message.includes(where), e.message);
      return true;
    });
  }
  await assert.rejects(loadServerConfig({ env: { CNABSEC_SERVER_ANONYMOUS_READ: 'example.com/a/**/b' } }), {
    code: 'SERVER_CONFIG',
  });
  await assert.rejects(loadServerConfig({ flags: { auth: 'basic' }, env: {} }), { code: 'SERVER_CONFIG' });
});
