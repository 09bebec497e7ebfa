// The package's subpath exports (package.json "exports"): each layer a library user needs is
// importable by name, and what it exports is what the CLI uses (a library user can do
// everything the CLI does).
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('exports: cnabsec/server gives the whole server as a library', async () => {
  const server = await import('cnabsec/server');
  for (const name of [
    'startServer',
    'loadServerConfig',
    'TrustService',
    'RefreshScheduler',
    'buildApp',
    'createMetrics',
    'openSqliteStore',
    'openMemoryStore',
    'SqliteOnlineKeys',
    'memoryOnlineKeys',
    'loadMasterKey',
    'validateUpload',
    'backupDatabase',
    'serveDirectory',
    'ServerError',
  ])
    assert.equal(typeof server[name], 'function', name);
  assert.equal(typeof server.acceptAllAuthenticator.authenticate, 'function');
});

test('exports: cnabsec/registry, cnabsec/workflows, cnabsec/tuf, cnabsec/crypto, cnabsec/intoto and cnabsec', async () => {
  const registry = await import('cnabsec/registry');
  for (const name of [
    'openRegistry',
    'parseReference',
    'bundleToOci',
    'pushBundle',
    'pullBundle',
    'RegistryError',
  ])
    assert.equal(typeof registry[name], 'function', name);
  const workflows = await import('cnabsec/workflows');
  assert.ok(Object.keys(workflows).length > 10);
  for (const sub of ['cnabsec/tuf', 'cnabsec/crypto', 'cnabsec/intoto', 'cnabsec'])
    assert.ok(Object.keys(await import(sub)).length > 0, sub);
});
