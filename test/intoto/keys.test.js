import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import {
  generateKeyPair,
  sslibKeyFiles,
  sslibKeyId,
  parseSslibPrivateKey,
  parseSslibPublicKey,
  verifySslibSignature,
  sslibEncrypt,
  sslibDecrypt,
  KeyStore,
} from '../../dist/crypto/index.js';
import { loadSigner, loadPublicKeyFile } from '../../dist/intoto/index.js';
import { tempDir, fixedPassphrases } from '../helpers/tmp.js';

test('securesystemslib key id includes keyid_hash_algorithms', () => {
  const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'ab'.repeat(32) } };
  const canonical = `{"keyid_hash_algorithms":["sha256","sha512"],"keytype":"ed25519","keyval":{"public":"${'ab'.repeat(32)}"},"scheme":"ed25519"}`;
  assert.equal(sslibKeyId(key), createHash('sha256').update(canonical).digest('hex'));
});

for (const type of ['ed25519', 'ecdsa', 'rsa']) {
  for (const password of [undefined, 'pw']) {
    test(`${type} key files${password ? ' (encrypted)' : ''}: written, read back, sign/verify`, async () => {
      const { privateKey } = generateKeyPair(type);
      const files = sslibKeyFiles(privateKey, password);
      const pub = parseSslibPublicKey(files.public);
      const priv = await parseSslibPrivateKey(files.private, 'k', async () => {
        if (password === undefined) throw new Error('no password should be asked');
        return password;
      });
      assert.equal(priv.publicKey.keyid, pub.keyid);
      if (type === 'rsa')
        assert.ok(!pub.keyval.public.endsWith('\n'), 'rsa PEM stripped as securesystemslib');
      if (type === 'ecdsa') assert.ok(pub.keyval.public.endsWith('\n'));
      if (type !== 'rsa')
        assert.match(files.private, password ? /@@@@/ : /"keyid_hash_algorithms": \["sha256", "sha512"\]/);
      const { sign } = await import('node:crypto');
      const data = Buffer.from('data');
      const sig =
        type === 'ed25519'
          ? sign(null, data, priv.privateKey)
          : type === 'ecdsa'
            ? sign('sha256', data, { key: priv.privateKey, dsaEncoding: 'der' })
            : sign('sha256', data, { key: priv.privateKey, padding: 6, saltLength: 32 });
      assert.ok(verifySslibSignature(pub, data, sig));
      assert.ok(!verifySslibSignature(pub, Buffer.from('date'), sig));
    });
  }
}

test('encrypted key: wrong password is WRONG_PASSPHRASE', () => {
  const enc = sslibEncrypt('{"a": 1}', 'right', 1000);
  assert.equal(sslibDecrypt(enc, 'right'), '{"a": 1}');
  assert.throws(() => sslibDecrypt(enc, 'wrong'), { code: 'WRONG_PASSPHRASE' });
});

test('bad key files get INTOTO_BAD_KEY / INTOTO_IO, never a crash', async (t) => {
  const dir = await tempDir(t);
  const cases = {
    'garbage.pub': 'not a key',
    'json.pub': '{"keytype": 1}',
    'priv.pub': '-----BEGIN PRIVATE KEY-----\nabc\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    await writeFile(path.join(dir, name), text);
    await assert.rejects(loadPublicKeyFile(path.join(dir, name)), { code: 'INTOTO_BAD_KEY' });
  }
  await assert.rejects(loadPublicKeyFile(path.join(dir, 'missing.pub')), { code: 'INTOTO_IO' });
  await writeFile(
    path.join(dir, 'bad'),
    '{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "zz"}}',
  );
  await assert.rejects(loadSigner(path.join(dir, 'bad'), { passphrases: fixedPassphrases() }), {
    code: 'INTOTO_BAD_KEY',
  });
});

test('--key: a key-store id gives a signer with the securesystemslib key id', async (t) => {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const info = await store.generate('rsa', 'build', fixedPassphrases());
  const signer = await loadSigner(info.keyid.slice(0, 10), {
    passphrases: fixedPassphrases(),
    keyStore: store,
  });
  assert.notEqual(signer.keyid, info.keyid);
  assert.equal(signer.keyid, sslibKeyId(signer.publicKey));
  const sig = await signer.sign(Buffer.from('x'));
  assert.ok(verifySslibSignature(signer.publicKey, Buffer.from('x'), sig));
});
