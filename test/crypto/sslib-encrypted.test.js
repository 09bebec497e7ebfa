// Encrypted in-toto keys cannot choose what decrypting them costs (fuzz issue item 4): the
// PBKDF2 count of a securesystemslib `salt@@@@iterations@@@@hmac@@@@iv@@@@ciphertext` file
// (10 000 000 took 3.3 s), and the PBKDF2 / scrypt / PBES1 parameters of an encrypted PKCS#8
// PEM, are checked before the password is asked; malformed fields are KEY_FILE_INVALID naming
// the file and field instead of a RangeError from node:crypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CryptoError,
  SSLIB_MAX_PBKDF2_ITERATIONS,
  SSLIB_PBKDF2_ITERATIONS,
  generateKeyPair,
  parseSslibPrivateKey,
  sslibDecrypt,
  sslibKeyFiles,
} from '../../dist/crypto/index.js';

const PASS = 'pw';

function counting() {
  const f = async () => {
    f.calls++;
    return PASS;
  };
  f.calls = 0;
  return f;
}

async function expectInvalid(text, field, source = 'k.key') {
  const pw = counting();
  await assert.rejects(parseSslibPrivateKey(text, source, pw), (e) => {
    assert.ok(e instanceof CryptoError, `${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, 'KEY_FILE_INVALID', e.message);
    if (field !== undefined) assert.equal(e.details.field ?? e.message, field, e.message);
    assert.ok(e.message.includes(source), e.message);
    assert.ok(e.message.length < 400);
    return true;
  });
  assert.equal(pw.calls, 0, 'the password is not asked (nothing is derived) for a refused file');
}

test('sslib encrypted key: the bound is ten times the securesystemslib default', () => {
  assert.equal(SSLIB_PBKDF2_ITERATIONS, 100_000);
  assert.equal(SSLIB_MAX_PBKDF2_ITERATIONS, 1_000_000);
});

test('sslib encrypted key: every field out of range is KEY_FILE_INVALID before derivation', async () => {
  const { privateKey } = generateKeyPair('ed25519');
  const good = sslibKeyFiles(privateKey, PASS).private;
  const parts = good.split('@@@@');
  assert.equal(parts.length, 5);
  const withPart = (i, v) => parts.map((p, j) => (j === i ? v : p)).join('@@@@');
  const cases = [
    [1, '10000000', 'iterations'], // 3.3 s of PBKDF2 before the fix
    [1, String(SSLIB_MAX_PBKDF2_ITERATIONS + 1), 'iterations'],
    [1, '99999999999999999999', 'iterations'],
    [1, '0', 'iterations'],
    [1, '', 'iterations'],
    [1, 'x', 'iterations'],
    [1, '-5', 'iterations'],
    [0, '', 'salt'],
    [0, 'abc', 'salt'],
    [0, 'zz'.repeat(16), 'salt'],
    [2, parts[2].slice(0, 10), 'hmac'],
    [3, '', 'iv'], // RangeError: Invalid initialization vector, before the fix
    [3, parts[3].slice(0, 30), 'iv'],
    [3, parts[3] + 'ab', 'iv'],
    [4, '', 'ciphertext'],
    [4, parts[4] + 'a', 'ciphertext'],
  ];
  for (const [i, v, field] of cases) await expectInvalid(withPart(i, v), field);
  await expectInvalid(parts.slice(0, 4).join('@@@@'), '(document)');
  await expectInvalid(`${good}@@@@00`, '(document)');
  await expectInvalid(`${'ab'.repeat(16)}@@@@1000@@@@${'ab'.repeat(70_000)}@@@@00@@@@00`, '(document)');
  // The same file with its real fields still decrypts; a count at the bound is accepted.
  const key = await parseSslibPrivateKey(good, 'k.key', counting());
  assert.equal(key.publicKey.keytype, 'ed25519');
  assert.throws(() => sslibDecrypt(withPart(1, '1000'), 'wrong', 'k.key'), { code: 'WRONG_PASSPHRASE' });
});

// ---- encrypted PKCS#8 PEM (RFC 5958 EncryptedPrivateKeyInfo, RFC 8018 PBES2, RFC 7914) -----

function tlv(tag, ...content) {
  const body = Buffer.concat(content);
  const n = body.length;
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...c) => tlv(0x30, ...c);
const oid = (hex) => tlv(0x06, Buffer.from(hex, 'hex'));
const octets = (b) => tlv(0x04, b);
function int(n) {
  let hex = BigInt(n).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return tlv(0x02, Buffer.from(hex, 'hex'));
}
const PBES2 = '2a864886f70d01050d';
const PBKDF2 = '2a864886f70d01050c';
const SCRYPT = '2b06010401da47040b';
const AES256CBC = '60864801650304012a';
const HMAC_SHA256 = '2a864886f70d0209';

function pem(algorithm) {
  const der = seq(algorithm, octets(randomBytes(48)));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${b64}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}
const aes = () => seq(oid(AES256CBC), octets(randomBytes(16)));
const pbkdf2Pem = (iterations) =>
  pem(
    seq(
      oid(PBES2),
      seq(
        seq(oid(PBKDF2), seq(octets(randomBytes(16)), int(iterations), seq(oid(HMAC_SHA256), tlv(5)))),
        aes(),
      ),
    ),
  );
const scryptPem = (N, r, p) =>
  pem(seq(oid(PBES2), seq(seq(oid(SCRYPT), seq(octets(randomBytes(16)), int(N), int(r), int(p))), aes())));

test('encrypted PKCS#8 PEM: a costly key derivation is KEY_FILE_INVALID before the password', async () => {
  await expectInvalid(pbkdf2Pem(10_000_000), undefined);
  await expectInvalid(pbkdf2Pem(2 ** 31), undefined);
  await expectInvalid(pbkdf2Pem(2n ** 80n), undefined);
  await expectInvalid(pbkdf2Pem(0), undefined);
  await expectInvalid(scryptPem(2 ** 20, 8, 1), undefined);
  await expectInvalid(scryptPem(2 ** 14, 8, 64), undefined);
  await expectInvalid(scryptPem(2 ** 14, 1024, 1), undefined);
  // PBES1 (pbeWithSHA1AndDES-CBC) and PKCS#12 PBE carry an iteration count too.
  await expectInvalid(
    pem(seq(oid('2a864886f70d01050a'), seq(octets(randomBytes(8)), int(5_000_000)))),
    undefined,
  );
  await expectInvalid(
    pem(seq(oid('2a864886f70d010c0103'), seq(octets(randomBytes(8)), int(5_000_000)))),
    undefined,
  );
  // Unknown schemes and malformed DER are refused too (not handed to OpenSSL).
  await expectInvalid(pem(seq(oid('2a864886f70d010101'), seq())), undefined);
  await expectInvalid(
    '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAMCAQA=\n-----END ENCRYPTED PRIVATE KEY-----\n',
  );
  await expectInvalid('-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END ENCRYPTED PRIVATE KEY-----\n');
});

test('encrypted PKCS#8 PEM: what node/OpenSSL write by default is accepted and decrypts', async () => {
  const { privateKey } = generateKeyPair('ecdsa');
  const text = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASS });
  const pw = counting();
  const key = await parseSslibPrivateKey(text, 'k.pem', pw);
  assert.equal(key.publicKey.keytype, 'ecdsa');
  assert.equal(pw.calls, 1);
  // Within the bounds but with fake ciphertext: the password is asked, decryption fails.
  await assert.rejects(parseSslibPrivateKey(pbkdf2Pem(1000), 'k.pem', pw), { code: 'WRONG_PASSPHRASE' });
  await assert.rejects(parseSslibPrivateKey(scryptPem(2 ** 14, 8, 1), 'k.pem', pw), {
    code: 'WRONG_PASSPHRASE',
  });
});
