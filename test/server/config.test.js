// `cnabsec server`'s configuration (src/server/config.ts, ADR 0024): defaults, the precedence
// flags > CNABSEC_SERVER_* > server.json > defaults, paths relative to their source, and every
// bad value refused as SERVER_CONFIG naming its source and the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { loadServerConfig, SETTINGS, ENV_PREFIX } from '../../dist/server/config.js';
import { isLoopback, parseListen, parseSize } from '../../dist/server/config-values.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

async function configFile(t, doc) {
  const dir = await tempDir(t, 'cnabsec-config-');
  const file = path.join(dir, 'server.json');
  await writeFile(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return { dir, file };
}

/** The SERVER_CONFIG error of `input`; its message must contain every one of `names`. */
async function refused(input, ...names) {
  const e = await loadServerConfig({ env: {}, cwd: '/work', ...input }).then(
    () => assert.fail(`accepted: ${JSON.stringify(input)}`),
    (err) => err,
  );
  assert.equal(e.code, 'SERVER_CONFIG', e.stack);
  assert.ok(!e.message.includes('\n'), e.message);
  for (const n of names) assert.ok(e.message.includes(n), `${JSON.stringify(n)} not in: ${e.message}`);
  return e;
}

test('config: the defaults (loopback 4443, db under $CNABSEC_HOME, the upload limits, daily expiry)', async () => {
  const c = await loadServerConfig({ env: { CNABSEC_HOME: '/srv/home' }, cwd: '/work' });
  assert.deepEqual(c, {
    listen: { host: '127.0.0.1', port: 4443 },
    db: '/srv/home/server/cnabsec.db',
    dbPoolSize: 10,
    onlineKeys: true,
    limits: { role: MiB, targets: 64 * MiB, targetFile: 16 * MiB, body: 128 * MiB },
    expiry: { timestamp: 86_400, snapshot: 86_400 },
    refreshFraction: 0.5,
    refreshIntervalSeconds: 60,
    shutdownGraceSeconds: 30,
    logLevel: 'info',
    auth: 'none',
    anonymousRead: [],
  });
  const rel = await loadServerConfig({ env: { CNABSEC_HOME: 'home' }, cwd: '/work' });
  assert.equal(rel.db, '/work/home/server/cnabsec.db');
});

test('config: flags over CNABSEC_SERVER_* over server.json over defaults, setting by setting', async (t) => {
  const { dir, file } = await configFile(t, {
    listen: '127.0.0.1:1000',
    db: 'data/file.db',
    logLevel: 'warn',
    refreshInterval: '5m',
    refreshFraction: 0.25,
    expiry: { timestamp: '2d', snapshot: '1w' },
    limits: { role: '2MiB', targets: 100, targetFile: 4096 },
    shutdownGrace: '10s',
    masterKeyFile: 'master.key',
    tls: { cert: 'c.pem', key: 'k.pem' },
  });
  const env = {
    CNABSEC_SERVER_LISTEN: '127.0.0.1:2000',
    CNABSEC_SERVER_LOG_LEVEL: 'debug',
    CNABSEC_SERVER_MAX_TARGETS_SIZE: '1KiB',
    CNABSEC_SERVER_TLS_KEY: 'env-k.pem',
    CNABSEC_SERVER_MASTER_KEY_FILE: '', // empty: unset
  };
  const flags = { listen: '[::1]:3000', config: file, tlsCert: 'flag-c.pem' };
  const c = await loadServerConfig({ flags, env, cwd: '/work' });
  assert.deepEqual(c.listen, { host: '::1', port: 3000 }); // flag
  assert.equal(c.logLevel, 'debug'); // env
  assert.equal(c.refreshIntervalSeconds, 300); // file
  assert.equal(c.refreshFraction, 0.25);
  assert.deepEqual(c.expiry, { timestamp: 2 * 86_400, snapshot: 7 * 86_400 });
  assert.equal(c.shutdownGraceSeconds, 10);
  // sizes: role from the file, targets from env; the body default follows the limits
  assert.deepEqual(c.limits, { role: 2 * MiB, targets: 1024, targetFile: 4096, body: 1024 + 4 * 4096 });
  // paths: from the file relative to its directory, from flags and env to the working directory
  assert.equal(c.db, path.join(dir, 'data', 'file.db'));
  assert.equal(c.masterKeyFile, path.join(dir, 'master.key'));
  assert.deepEqual(c.tls, { cert: '/work/flag-c.pem', key: '/work/env-k.pem' });
  // the config file from CNABSEC_SERVER_CONFIG; the explicit configFile wins over both
  const viaEnv = await loadServerConfig({ env: { CNABSEC_SERVER_CONFIG: file }, cwd: '/' });
  assert.equal(viaEnv.refreshIntervalSeconds, 300);
  const other = await configFile(t, { refreshInterval: 0 });
  const explicit = await loadServerConfig({ configFile: other.file, flags: { config: file }, env: {} });
  assert.equal(explicit.refreshIntervalSeconds, 0);
});

test('config: onlineKeys false from --no-online-keys, the variable or the file; body limit settable', async (t) => {
  assert.equal((await loadServerConfig({ flags: { onlineKeys: false }, env: {} })).onlineKeys, false);
  for (const v of ['false', '0', 'no'])
    assert.equal((await loadServerConfig({ env: { CNABSEC_SERVER_ONLINE_KEYS: v } })).onlineKeys, false);
  const { file } = await configFile(t, { onlineKeys: false, limits: { body: '1GiB' } });
  const c = await loadServerConfig({ configFile: file, env: { CNABSEC_SERVER_ONLINE_KEYS: 'true' } });
  assert.equal(c.onlineKeys, true); // the variable over the file
  assert.equal(c.limits.body, 1024 * MiB);
});

test('config: every bad flag value is SERVER_CONFIG naming the flag and the value', async () => {
  for (const [flags, value] of [
    [{ listen: 'localhost' }, 'localhost'],
    [{ listen: '127.0.0.1:65536' }, '127.0.0.1:65536'],
    [{ listen: '[127.0.0.1]:80' }, '[127.0.0.1]:80'],
    [{ listen: 'a b:80' }, 'a b:80'],
    [{ logLevel: 'loud' }, 'loud'],
    [{ refreshInterval: '1 day' }, '1 day'],
    [{ db: '' }, '""'],
  ]) {
    const flag = SETTINGS.find((s) => s.flag?.name === Object.keys(flags)[0]).flag.text;
    const e = await refused({ flags }, flag, value === '""' ? '' : value);
    assert.equal(e.details.source, flag);
  }
});

test('config: every bad variable value is SERVER_CONFIG naming the variable and the value', async () => {
  const bad = {
    LISTEN: ':80',
    LOG_LEVEL: 'INFO',
    REFRESH_INTERVAL: '-1m',
    REFRESH_FRACTION: '1',
    TIMESTAMP_EXPIRY: '0d',
    SNAPSHOT_EXPIRY: '1001y',
    MAX_ROLE_SIZE: '0',
    MAX_TARGETS_SIZE: '1.5MiB',
    MAX_TARGET_FILE_SIZE: '16MB',
    MAX_BODY_SIZE: '99999999999GiB',
    SHUTDOWN_GRACE: '0',
    ONLINE_KEYS: 'maybe',
    DB_POOL_SIZE: '0',
    AUTH: 'basic',
    ANONYMOUS_READ: 'example.com/acme-*',
  };
  // every variable of the table with a syntax is covered here (paths take any text)
  const typed = SETTINGS.filter((s) => !s.isPath).map((s) => s.env);
  assert.deepEqual(Object.keys(bad).sort(), typed.sort());
  for (const [name, value] of Object.entries(bad)) {
    const e = await refused({ env: { [ENV_PREFIX + name]: value } }, ENV_PREFIX + name, value);
    assert.deepEqual(e.details, { source: ENV_PREFIX + name, value });
  }
  await refused({ env: { CNABSEC_SERVER_LISTN: '127.0.0.1:1' } }, 'CNABSEC_SERVER_LISTN', 'unknown variable');
  // the master key is no setting, but belongs to the server: not refused as unknown
  await loadServerConfig({ env: { CNABSEC_SERVER_MASTER_KEY: 'x' } });
});

test('config: the file is strict (unknown keys by name, shapes, JSON) and each bad value names its key', async (t) => {
  const cases = [
    [{ listen: '127.0.0.1:1', lisen: 'x' }, ['unknown key', '"lisen"']],
    [{ limits: { roles: 5 } }, ['unknown key', '"limits.roles"']],
    [{ limits: 5 }, ['limits is not an object']],
    [[1, 2], ['not a JSON object']],
    ['{"listen": ', ['not JSON']],
    [{ listen: 4443 }, ['listen', '4443']],
    [{ refreshFraction: '0.5x' }, ['refreshFraction', '0.5x']],
    [{ refreshFraction: 0 }, ['refreshFraction', '0']],
    [{ expiry: { timestamp: 3600 } }, ['expiry.timestamp', '3600']],
    [{ limits: { targetFile: -1 } }, ['limits.targetFile', '-1']],
    [{ limits: { role: 1.5 } }, ['limits.role', '1.5']],
    [{ onlineKeys: 'yes please' }, ['onlineKeys', 'yes please']],
    [{ db: null }, ['db', 'null']],
    [{ logLevel: ['info'] }, ['logLevel', '["info"]']],
  ];
  for (const [doc, names] of cases) {
    const { file } = await configFile(t, doc);
    await refused({ configFile: file }, file, ...names);
  }
  await refused({ configFile: '/nonexistent/server.json' }, '/nonexistent/server.json', 'cannot read');
  const dir = await tempDir(t);
  await refused({ configFile: dir }, dir, 'cannot read');
});

test('config: TLS needs both files; the one missing is named', async () => {
  await refused({ flags: { tlsCert: 'c.pem' } }, 'key (--tls-key)');
  await refused({ env: { CNABSEC_SERVER_TLS_KEY: 'k.pem' } }, 'certificate (--tls-cert)');
});

test('config values: listen addresses, sizes, loopback', () => {
  assert.deepEqual(parseListen('x', '0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  assert.deepEqual(parseListen('x', 'server.example.com:443'), { host: 'server.example.com', port: 443 });
  assert.deepEqual(parseListen('x', '[::]:8443'), { host: '::', port: 8443 });
  assert.equal(parseSize('x', '16KiB'), 16_384);
  assert.equal(parseSize('x', 7), 7);
  assert.equal(parseSize('x', '3 B'), 3);
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'])
    assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '::ffff:10.0.0.1', '127.example.com'])
    assert.ok(!isLoopback(h), h);
});

test('config: db is a path resolved against its base, or a postgres:// URL kept as given', async () => {
  const url = 'postgres://cnabsec:secret@db.example.com:5432/cnabsec';
  const c = await loadServerConfig({
    flags: { db: url },
    env: { CNABSEC_SERVER_DB_POOL_SIZE: '25' },
    cwd: '/work',
  });
  assert.equal(c.db, url);
  assert.equal(c.dbPoolSize, 25);
  const q = await loadServerConfig({ env: { CNABSEC_SERVER_DB: 'postgresql://u@h/d' }, cwd: '/work' });
  assert.equal(q.db, 'postgresql://u@h/d');
  assert.equal(
    (await loadServerConfig({ flags: { db: 'x/server.db' }, env: {}, cwd: '/work' })).db,
    '/work/x/server.db',
  );
  // A bad URL is refused without echoing it (it may hold a password).
  const e = await refused({ flags: { db: 'postgres://u:secret@[bad/db' } }, '--db');
  assert.ok(!e.message.includes('secret'), e.message);
});
