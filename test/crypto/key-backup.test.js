// Key backups and passphrase changes in the library (ADR 0015): an export is the stored key
// file, still encrypted, mode 0600, never over an existing file; an import checks the backup's
// fields, key id and passphrase and refuses a duplicate; a passphrase change replaces the key
// file only after the new encryption decrypts back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { KeyStore, keyIdOf, toPublicKeyJson } from '../../dist/crypto/index.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const PASS = 'backup passphrase';
const pp = fixedPassphrases(PASS);

async function setup(t) {
  const dir = await tempDir(t);
  const store = new KeyStore(path.join(dir, 'home'));
  const key = await store.generate('ecdsa', 'targets/releases', pp);
  return { dir, store, key };
}

test('export --private: the stored key file, encrypted, mode 0600; an existing file is refused', async (t) => {
  const { dir, store, key } = await setup(t);
  const out = path.join(dir, 'backup.key');
  await store.exportPrivate(key.keyid.slice(0, 8), out);
  const text = await readFile(out, 'utf8');
  assert.equal(text, await readFile(path.join(store.dir, `${key.keyid}.key`), 'utf8'));
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.equal(JSON.parse(text)._type, 'cnabsec-encrypted-key');
  assert.equal((await stat(out)).mode & 0o777, 0o600);

  await writeFile(out, 'precious');
  await assert.rejects(store.exportPrivate(key.keyid, out), { code: 'KEY_BACKUP_EXISTS' });
  assert.equal(await readFile(out, 'utf8'), 'precious');
  assert.deepEqual((await readdir(dir)).sort(), ['backup.key', 'home'], 'no temporary file left');
  await store.exportPrivate(key.keyid, out, { force: true });
  assert.equal(await readFile(out, 'utf8'), text);
  await assert.rejects(store.exportPrivate(key.keyid, path.join(dir, 'no', 'such', 'dir.key')), {
    code: 'KEY_BACKUP_IO',
  });
});

test('import of a backup: same key, same passphrase, label kept; a duplicate is KEY_EXISTS', async (t) => {
  const { dir, store, key } = await setup(t);
  const out = path.join(dir, 'backup.key');
  await store.exportPrivate(key.keyid, out);
  const other = new KeyStore(path.join(dir, 'other'));
  const text = await readFile(out, 'utf8');
  const got = await other.importKey(text, out, pp);
  assert.equal(got.keyid, key.keyid);
  assert.equal(got.label, 'targets/releases');
  assert.equal(got.format, 'backup');
  const file = path.join(other.dir, `${key.keyid}.key`);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await other.signer(key.keyid, pp)).keyid, key.keyid);

  let asked = 0;
  const counting = async () => {
    asked++;
    return PASS;
  };
  await assert.rejects(other.importKey(text, out, counting), (e) => {
    assert.equal(e.code, 'KEY_EXISTS');
    assert.ok(e.message.includes(key.keyid));
    return true;
  });
  assert.equal(asked, 0, 'a duplicate is refused before a passphrase is asked');
});

test('import of a backup with a wrong passphrase or a swapped key id writes nothing', async (t) => {
  const { dir, store, key } = await setup(t);
  const out = path.join(dir, 'backup.key');
  await store.exportPrivate(key.keyid, out);
  const text = await readFile(out, 'utf8');
  const other = new KeyStore(path.join(dir, 'other'));
  await assert.rejects(other.importKey(text, out, fixedPassphrases('wrong')), { code: 'WRONG_PASSPHRASE' });
  assert.deepEqual(await other.list(), []);

  // the public key and key id of another key: the private key no longer matches
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = toPublicKeyJson(privateKey);
  const forged = { ...JSON.parse(text), public: pub, keyid: keyIdOf(pub) };
  await assert.rejects(other.importKey(JSON.stringify(forged), out, pp), (e) =>
    ['WRONG_PASSPHRASE', 'KEY_FILE_CORRUPT'].includes(e.code),
  );
  // a key id that is not its public key's
  const renamed = { ...JSON.parse(text), keyid: 'ab'.repeat(32) };
  await assert.rejects(other.importKey(JSON.stringify(renamed), out, pp), { code: 'KEY_FILE_CORRUPT' });
  // a field that is not what cnabsec writes
  const costly = JSON.parse(text);
  costly.kdf.N = 2 ** 20;
  await assert.rejects(other.importKey(JSON.stringify(costly), out, pp), { code: 'KEY_FILE_INVALID' });
  await assert.rejects(other.importKey('{"truncated', out, pp), { code: 'KEY_INVALID' });
  assert.deepEqual(await other.list(), []);
});

test('import of a PEM private key: duplicate refused before the passphrase; empty passphrase refused', async (t) => {
  const dir = await tempDir(t);
  const store = new KeyStore(dir);
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  const got = await store.importKey(pem, 'k.pem', pp, 'external');
  assert.equal(got.format, 'pem');
  assert.equal(got.label, 'external');
  await assert.rejects(
    store.importKey(pem, 'k.pem', async () => assert.fail('asked')),
    { code: 'KEY_EXISTS' },
  );
  const fresh = new KeyStore(path.join(dir, 'other'));
  await assert.rejects(fresh.importKey(pem, 'k.pem', fixedPassphrases('')), { code: 'PASSPHRASE_REQUIRED' });
  const enc = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' });
  await assert.rejects(fresh.importKey(enc, 'enc.pem', pp), (e) => {
    assert.equal(e.code, 'KEY_INVALID');
    assert.match(e.message, /encrypted PEM/);
    return true;
  });
});

test('passwd: the new passphrase unlocks, the old one no longer does; label and creation time kept', async (t) => {
  const { store, key } = await setup(t);
  const file = path.join(store.dir, `${key.keyid}.key`);
  const before = JSON.parse(await readFile(file, 'utf8'));
  await store.changePassphrase(key.keyid.slice(0, 10), pp, fixedPassphrases('new one'));
  const after = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(after.label, before.label);
  assert.equal(after.created, before.created);
  assert.notEqual(after.kdf.salt, before.kdf.salt);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await store.signer(key.keyid, fixedPassphrases('new one'))).keyid, key.keyid);
  await assert.rejects(store.signer(key.keyid, pp), { code: 'WRONG_PASSPHRASE' });
});

test('passwd: a wrong old passphrase or an empty new one leaves the key file unchanged', async (t) => {
  const { store, key } = await setup(t);
  const file = path.join(store.dir, `${key.keyid}.key`);
  const before = await readFile(file, 'utf8');
  await assert.rejects(store.changePassphrase(key.keyid, fixedPassphrases('wrong'), fixedPassphrases('n')), {
    code: 'WRONG_PASSPHRASE',
  });
  await assert.rejects(store.changePassphrase(key.keyid, pp, fixedPassphrases('')), {
    code: 'PASSPHRASE_REQUIRED',
  });
  assert.equal(await readFile(file, 'utf8'), before);
  assert.deepEqual(await readdir(store.dir), [`${key.keyid}.key`], 'no temporary file left');
});
