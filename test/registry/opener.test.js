// registryOpener: one client per host, plain HTTP only for the hosts named insecure, and a bad
// --insecure-registry value refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkInsecureHost, registryOpener } from '../../dist/registry/index.js';
import { startRegistry } from '../helpers/registry.js';

test('checkInsecureHost: host[:port] lowercased; anything else REGISTRY_BAD_REFERENCE', () => {
  assert.equal(checkInsecureHost('Reg.Example:5000'), 'reg.example:5000');
  for (const bad of ['', 'http://x:5000', 'x:99999', 'a/b', 'x:5000:1']) {
    assert.throws(
      () => checkInsecureHost(bad),
      (e) => e.code === 'REGISTRY_BAD_REFERENCE' && e.message.includes('--insecure-registry'),
    );
  }
});

test('registryOpener: caches per host; only insecure hosts are reached over http', async (t) => {
  const reg = await startRegistry(t);
  const plain = registryOpener({ insecure: [reg.host], credentials: () => undefined });
  assert.equal(plain(reg.host), plain(reg.host));
  assert.deepEqual(
    await plain(reg.host)
      .listTags('org/none')
      .catch((e) => e.code),
    'REGISTRY_NOT_FOUND',
  );
  const strict = registryOpener({ credentials: () => undefined, timeoutMs: 5000 });
  // https to a plain-http registry fails as unreachable (TLS), never silently downgraded
  await assert.rejects(strict(reg.host).listTags('org/none'), (e) => e.code === 'REGISTRY_UNREACHABLE');
});
