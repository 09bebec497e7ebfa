import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import {
  KeyStore,
  KeyObjectSigner,
  generateKeyPair,
  keyIdOf,
  toPublicKeyJson,
  publicKeyFromPem,
  publicKeyToPem,
  verifySignature,
  passphraseSource,
  CryptoError,
} from '../../dist/crypto/index.js';
import { tempDir, fixedPassphrases } from '../helpers/tmp.js';

for (const type of ['ed25519', 'ecdsa', 'rsa']) {
  test(`${type}: sign, verify, tamper detection, PEM round trip`, async () => {
    const { privateKey } = generateKeyPair(type);
    const signer = new KeyObjectSigner(privateKey);
    assert.match(signer.keyid, /^[0-9a-f]{64}$/);
    assert.equal(signer.keyid, keyIdOf(signer.publicKey));
    const data = Buffer.from('payload');
    const sig = await signer.sign(data);
    assert.ok(verifySignature(signer.publicKey, data, sig));
    assert.ok(!verifySignature(signer.publicKey, Buffer.from('payloaD'), sig));
    const pem = publicKeyToPem(signer.publicKey);
    assert.deepEqual(publicKeyFromPem(pem), signer.publicKey);
  });
}

test('ed25519 TUF key: hex public value and known key id', () => {
  // Key id of a fixed key, computed independently as sha256(canonical JSON).
  const pub = {
    keytype: 'ed25519',
    scheme: 'ed25519',
    keyval: { public: 'edcd0a32a07dce33f7c7873aaffbff36d20ea30787574ead335eefd337e4dacd' },
  };
  const expected = createHash('sha256')
    .update(
      '{"keytype":"ed25519","keyval":{"public":"edcd0a32a07dce33f7c7873aaffbff36d20ea30787574ead335eefd337e4dacd"},"scheme":"ed25519"}',
    )
    .digest('hex');
  assert.equal(keyIdOf(pub), expected);
  const { privateKey } = generateKeyPair('ed25519');
  assert.match(toPublicKeyJson(privateKey).keyval.public, /^[0-9a-f]{64}$/);
});

test('key store: generate, list, prefix lookup, sign after decrypt, mode 0600', async (t) => {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const k = await store.generate('ed25519', 'root', fixedPassphrases());
  const file = path.join(home, 'keys', `${k.keyid}.key`);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(path.join(home, 'keys'))).mode & 0o777, 0o700);
  const raw = await readFile(file, 'utf8');
  assert.ok(!raw.includes('PRIVATE KEY'), 'private key must not be stored in clear');
  assert.equal((await store.list()).length, 1);
  assert.equal(await store.resolveId(k.keyid.slice(0, 8)), k.keyid);
  const signer = await store.signer(k.keyid.slice(0, 10), fixedPassphrases());
  assert.equal(signer.keyid, k.keyid);
  assert.ok(verifySignature(k.publicKey, Buffer.from('x'), await signer.sign(Buffer.from('x'))));
});

test('key store errors carry stable codes', async (t) => {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const k = await store.generate('ecdsa', 'targets', fixedPassphrases());
  await assert.rejects(store.signer(k.keyid, fixedPassphrases('wrong')), { code: 'WRONG_PASSPHRASE' });
  await assert.rejects(store.resolveId('deadbeef'), { code: 'KEY_NOT_FOUND' });
  await assert.rejects(store.resolveId('not-hex'), { code: 'KEY_NOT_FOUND' });
  const file = path.join(home, 'keys', `${k.keyid}.key`);
  await chmod(file, 0o644);
  await assert.rejects(store.signer(k.keyid, fixedPassphrases()), (e) => {
    assert.ok(e instanceof CryptoError);
    assert.equal(e.code, 'KEY_FILE_PERMISSIONS');
    assert.match(e.hint, /chmod 600/);
    return true;
  });
  await chmod(file, 0o600);
  // A file whose public half is swapped for another key is refused.
  const other = await store.generate('ed25519', 'x', fixedPassphrases());
  const a = JSON.parse(await readFile(file, 'utf8'));
  a.public = other.publicKey;
  await writeFile(file, JSON.stringify(a), { mode: 0o600 });
  await assert.rejects(store.signer(k.keyid, fixedPassphrases()), { code: 'KEY_FILE_CORRUPT' });
  await writeFile(file, '{"truncated', { mode: 0o600 });
  await assert.rejects(store.signer(k.keyid, fixedPassphrases()), { code: 'KEY_FILE_CORRUPT' });
});

test('passphrase scheme: role variable, then generic, then PASSPHRASE_REQUIRED without prompt', async () => {
  const env = { CNABSEC_PASSPHRASE_TARGETS_RELEASES: 'rel', CNABSEC_PASSPHRASE: 'any', CI: 'true' };
  const src = passphraseSource({ env });
  assert.equal(await src('targets/releases'), 'rel');
  assert.equal(await src('root'), 'any');
  const none = passphraseSource({ env: { CI: 'true' } });
  await assert.rejects(none('root', 'abcdef0123456789'), (e) => {
    assert.equal(e.code, 'PASSPHRASE_REQUIRED');
    assert.match(e.hint, /CNABSEC_PASSPHRASE_ROOT/);
    return true;
  });
  const noPrompt = passphraseSource({ env: {}, noPrompt: true });
  await assert.rejects(noPrompt('timestamp'), { code: 'PASSPHRASE_REQUIRED' });
});
