// A broken or unsafe key store on disk is a typed error, never "no key" and never a crash
// (hardening issue): only a missing store is empty; a store directory that others can write,
// or that another user owns, is refused before any key is read from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CryptoError, KeyStore } from '../../dist/crypto/index.js';
import { tempDir, fixedPassphrases } from '../helpers/tmp.js';

const pp = fixedPassphrases();
const isRoot = process.getuid?.() === 0;
const OTHER_UID = 4242;

async function setup(t) {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const k = await store.generate('ed25519', 'root', pp);
  return {
    home,
    store,
    keys: path.join(home, 'keys'),
    keyid: k.keyid,
    file: path.join(home, 'keys', `${k.keyid}.key`),
  };
}

/** Every read and write operation of the store fails with `code` naming `names`. */
async function expectAll(store, keyid, code, names, errno) {
  const ops = {
    list: () => store.list(),
    resolveId: () => store.resolveId(keyid.slice(0, 8)),
    has: () => store.has(keyid),
    info: () => store.info(keyid),
    signer: () => store.signer(keyid, pp),
    generate: () => store.generate('ed25519', 'x', pp),
  };
  for (const [name, op] of Object.entries(ops)) {
    await assert.rejects(op(), (e) => {
      assert.ok(e instanceof CryptoError, `${name}: ${e?.constructor?.name} ${e?.message}`);
      assert.equal(e.code, code, `${name}: ${e.message}`);
      for (const n of names) assert.ok(e.message.includes(n), `${name}: names ${n}: ${e.message}`);
      if (errno !== undefined) assert.equal(e.details.errno, errno, `${name}: ${e.message}`);
      return true;
    });
  }
}

test('key store: a missing store is empty', async (t) => {
  const store = new KeyStore(path.join(await tempDir(t), 'none'));
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.has('ab'.repeat(32)), false);
  await assert.rejects(store.resolveId('abababab'), { code: 'KEY_NOT_FOUND' });
});

test('key store: $CNABSEC_HOME/keys a regular file is KEY_STORE_IO, not an empty store', async (t) => {
  const { keys, store, keyid } = await setup(t);
  await rm(keys, { recursive: true });
  await writeFile(keys, 'not a directory');
  await expectAll(store, keyid, 'KEY_STORE_IO', [keys]);
});

test('key store: a keys symlink to a world-writable directory is KEY_STORE_UNSAFE', async (t) => {
  const { home, keys, store, keyid } = await setup(t);
  const shared = path.join(home, 'shared');
  await rename(keys, shared);
  await chmod(shared, 0o777);
  await symlink(shared, keys);
  await expectAll(store, keyid, 'KEY_STORE_UNSAFE', [keys, shared, '777']);
  // The same directory, group-writable and not through a symlink.
  await rm(keys);
  await rename(shared, keys);
  await chmod(keys, 0o770);
  await expectAll(store, keyid, 'KEY_STORE_UNSAFE', [keys, '770']);
  await chmod(keys, 0o700);
  assert.equal((await store.list()).length, 1, 'safe again');
});

test(
  'key store: a store directory or key file owned by another user is refused',
  { skip: !isRoot && 'needs root to chown' },
  async (t) => {
    const { keys, file, store, keyid } = await setup(t);
    await chown(keys, OTHER_UID, OTHER_UID);
    await expectAll(store, keyid, 'KEY_STORE_UNSAFE', [keys, `uid ${OTHER_UID}`]);
    await chown(keys, 0, 0);
    await chown(file, OTHER_UID, OTHER_UID);
    await assert.rejects(
      store.signer(keyid, pp),
      (e) => e.code === 'KEY_FILE_PERMISSIONS' && e.message.includes(file),
    );
  },
);

test('key store: a symlink loop is KEY_STORE_IO with ELOOP, not "no key"', async (t) => {
  const { home, keys, store, keyid } = await setup(t);
  await rm(keys, { recursive: true });
  await symlink(path.join(home, 'loop-b'), keys);
  await symlink(keys, path.join(home, 'loop-b'));
  await expectAll(store, keyid, 'KEY_STORE_IO', [keys], 'ELOOP');
});

test('key store: a key file that is a directory or a symlink loop is a typed error', async (t) => {
  const { file, store, keyid } = await setup(t);
  await rm(file);
  await mkdir(file);
  await assert.rejects(
    store.signer(keyid, pp),
    (e) => e.code === 'KEY_FILE_CORRUPT' && e.message.includes(file),
  );
  await assert.rejects(store.list(), { code: 'KEY_FILE_CORRUPT' });
  await rm(file, { recursive: true });
  await symlink(file, file);
  await assert.rejects(
    store.signer(keyid, pp),
    (e) => e.code === 'KEY_STORE_IO' && e.details.errno === 'ELOOP',
  );
  await assert.rejects(store.has(keyid), (e) => e.code === 'KEY_STORE_IO' && e.details.errno === 'ELOOP');
});

test(
  'key store: an unreadable store is KEY_STORE_IO with EACCES',
  { skip: isRoot && 'root reads any file' },
  async (t) => {
    const { keys, store, keyid } = await setup(t);
    await chmod(keys, 0o000);
    t.after(() => chmod(keys, 0o700));
    await assert.rejects(store.list(), (e) => e.code === 'KEY_STORE_IO' && e.details.errno === 'EACCES');
    await assert.rejects(
      store.resolveId(keyid),
      (e) => e.code === 'KEY_STORE_IO' && e.details.errno === 'EACCES',
    );
  },
);

test('key store: a key file renamed to another key id is KEY_FILE_CORRUPT', async (t) => {
  const { keys, file, store } = await setup(t);
  const other = 'ab'.repeat(32);
  await writeFile(path.join(keys, `${other}.key`), await readFile(file), { mode: 0o600 });
  await assert.rejects(
    store.signer(other, pp),
    (e) => e.code === 'KEY_FILE_CORRUPT' && e.message.includes(other),
  );
});
