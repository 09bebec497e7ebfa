// Key files cannot choose what reading them costs, and a broken file is a typed error (fuzz
// issue item 4, hardening issue). A cnabsec key file's scrypt parameters, salt, IV and tag must
// be exactly what cnabsec writes, every other field is checked for type and bounds, and a
// refused file is KEY_FILE_INVALID naming the file and the field, before the passphrase is even
// asked (so no key derivation can run on it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  CryptoError,
  KEY_FILE_MAX_BYTES,
  KeyStore,
  checkKeyFile,
  decryptKey,
  readKeyFile,
} from '../../dist/crypto/index.js';
import { tempDir } from '../helpers/tmp.js';

const PASS = 'correct horse battery staple';

/** A passphrase source that counts how often it was asked. */
function countingPassphrases() {
  const source = async () => {
    source.calls++;
    return PASS;
  };
  source.calls = 0;
  return source;
}

async function storeWithKey(t, type = 'ed25519') {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const k = await store.generate(type, 'targets', async () => PASS);
  const file = path.join(home, 'keys', `${k.keyid}.key`);
  const original = JSON.parse(await readFile(file, 'utf8'));
  return { home, store, keyid: k.keyid, file, original };
}

function setPath(obj, dotted, value) {
  const keys = dotted.split('.');
  const last = keys.pop();
  let o = obj;
  for (const k of keys) o = o[k];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

/** Write `mutated` as the key file and check it is refused with `code` (and `field`) unasked. */
async function expectRefused(ctx, mutated, code, field) {
  await writeFile(ctx.file, typeof mutated === 'string' ? mutated : JSON.stringify(mutated), { mode: 0o600 });
  const pp = countingPassphrases();
  const check = (e) => {
    assert.ok(e instanceof CryptoError, `a CryptoError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, code, e.message);
    if (field !== undefined) {
      assert.equal(e.details.field, field, e.message);
      assert.ok(e.message.includes(field), `the message names ${field}: ${e.message}`);
    }
    assert.ok(e.message.includes(ctx.file), `the message names the file: ${e.message}`);
    assert.ok(e.message.length < 400, 'a bounded message');
    return true;
  };
  await assert.rejects(ctx.store.signer(ctx.keyid, pp), check);
  assert.equal(pp.calls, 0, 'no passphrase is asked for a refused file (nothing is derived)');
  await assert.rejects(readKeyFile(ctx.file), check);
}

// The cases named in the fuzz issue: each one, before the fix, either ran scrypt at the file's
// cost (p=64: 6 s; N=2^20: 1 GiB) or threw a TypeError / RangeError (exit 70 in the CLI).
const NAMED = [
  ['kdf.N', 3],
  ['kdf.N', 2 ** 30],
  ['kdf.N', 2 ** 20],
  ['kdf.N', 'x'],
  ['kdf.N', 1 << 14],
  ['kdf.r', null],
  ['kdf.r', 16],
  ['kdf.p', 64],
  ['kdf.p', 0],
  ['cipher.tag', 'AA=='],
  ['cipher.tag', Buffer.alloc(8).toString('base64')], // truncated auth tag
  ['cipher.iv', ''],
  ['cipher.iv', Buffer.alloc(16).toString('base64')],
  ['kdf.salt', 'not base64!'],
  ['kdf.name', 'pbkdf2'],
  ['cipher.name', 'aes-128-gcm'],
];

test('key file: the fuzz issue cases are KEY_FILE_INVALID naming file and field, nothing derived', async (t) => {
  const ctx = await storeWithKey(t);
  for (const [field, value] of NAMED) {
    const m = structuredClone(ctx.original);
    setPath(m, field, value);
    await expectRefused(ctx, m, 'KEY_FILE_INVALID', field);
  }
  // The untouched file still works (the checks accept exactly what cnabsec writes).
  await writeFile(ctx.file, JSON.stringify(ctx.original), { mode: 0o600 });
  const pp = countingPassphrases();
  assert.equal((await ctx.store.signer(ctx.keyid, pp)).keyid, ctx.keyid);
  assert.equal(pp.calls, 1);
});

/** Every field path of a key file (objects and leaves). */
function fieldPaths(obj, prefix = '') {
  return Object.entries(obj).flatMap(([k, v]) => {
    const p = prefix + k;
    return v !== null && typeof v === 'object' ? [p, ...fieldPaths(v, `${p}.`)] : [p];
  });
}

const HUGE_STRING = 'A'.repeat(40_000); // the file stays under KEY_FILE_MAX_BYTES
const MUTATIONS = {
  missing: () => undefined,
  'wrong type': (v) => (typeof v === 'number' ? String(v) : typeof v === 'string' ? 7 : 'x'),
  null: () => null,
  empty: (v) => (typeof v === 'number' ? 0 : typeof v === 'string' ? '' : {}),
  huge: (v) => (typeof v === 'number' ? 2 ** 40 : typeof v === 'string' ? HUGE_STRING : [HUGE_STRING]),
};
// Mutations that leave a file cnabsec accepts: free-text fields may be empty.
const ACCEPTED = new Set(['label/empty', 'created/empty']);

test('key file: every field missing, mistyped, null, empty or huge is a typed error', async (t) => {
  const ctx = await storeWithKey(t, 'ecdsa');
  const paths = fieldPaths(ctx.original);
  assert.ok(paths.length >= 17, `all fields: ${paths.join(', ')}`);
  let refused = 0;
  for (const p of paths) {
    for (const [name, mutate] of Object.entries(MUTATIONS)) {
      const m = structuredClone(ctx.original);
      const old = p.split('.').reduce((o, k) => o[k], m);
      setPath(m, p, mutate(old));
      if (ACCEPTED.has(`${p}/${name}`)) {
        await writeFile(ctx.file, JSON.stringify(m), { mode: 0o600 });
        assert.equal((await ctx.store.signer(ctx.keyid, countingPassphrases())).keyid, ctx.keyid);
        continue;
      }
      // A changed public key is well-formed but no longer matches the key id: KEY_FILE_CORRUPT.
      await t.test(`${p}: ${name}`, async () => {
        await writeFile(ctx.file, JSON.stringify(m), { mode: 0o600 });
        const pp = countingPassphrases();
        await assert.rejects(ctx.store.signer(ctx.keyid, pp), (e) => {
          assert.ok(e instanceof CryptoError, `${p} ${name}: ${e?.constructor?.name} ${e?.message}`);
          assert.ok(['KEY_FILE_INVALID', 'KEY_FILE_CORRUPT'].includes(e.code), `${p} ${name}: ${e.code}`);
          if (e.code === 'KEY_FILE_INVALID')
            assert.ok(e.details.field.startsWith(p.split('.')[0]), e.message);
          return true;
        });
        assert.equal(pp.calls, 0, 'no passphrase asked, nothing derived');
      });
      refused++;
    }
  }
  assert.ok(refused >= paths.length * 4);
});

test('key file: unknown fields, other shapes and sizes are refused', async (t) => {
  const ctx = await storeWithKey(t);
  const extra = (at, k, v) => {
    const m = structuredClone(ctx.original);
    (at === '' ? m : m[at])[k] = v;
    return m;
  };
  await expectRefused(ctx, extra('kdf', 'keylen', 64), 'KEY_FILE_INVALID', 'kdf."keylen"');
  await expectRefused(ctx, extra('kdf', 'maxmem', 2 ** 40), 'KEY_FILE_INVALID', 'kdf."maxmem"');
  await expectRefused(ctx, extra('cipher', 'authTagLength', 4), 'KEY_FILE_INVALID', 'cipher."authTagLength"');
  await expectRefused(ctx, extra('', 'extra', 1), 'KEY_FILE_INVALID', '"extra"');
  await expectRefused(ctx, extra('', 'version', 2), 'KEY_FILE_INVALID', 'version');
  await expectRefused(ctx, '[]', 'KEY_FILE_INVALID', '(document)');
  await expectRefused(ctx, 'null', 'KEY_FILE_INVALID', '(document)');
  await expectRefused(ctx, '"a string"', 'KEY_FILE_INVALID', '(document)');
  // Numbers JavaScript cannot carry exactly, deep nesting, more than the size limit: bounded JSON.
  const text = JSON.stringify(ctx.original);
  await expectRefused(ctx, text.replace('"N":32768', '"N":32768.0'), 'KEY_FILE_CORRUPT');
  await expectRefused(ctx, text.replace('"N":32768', '"N":3.2768e4'), 'KEY_FILE_CORRUPT');
  await expectRefused(
    ctx,
    text.replace('"N":32768', `"N":${'['.repeat(100)}${']'.repeat(100)}`),
    'KEY_FILE_CORRUPT',
  );
  await expectRefused(
    ctx,
    text.replace('"label":"targets"', `"label":"${'x'.repeat(KEY_FILE_MAX_BYTES)}"`),
    'KEY_FILE_CORRUPT',
  );
  await expectRefused(ctx, text.slice(0, text.length - 30), 'KEY_FILE_CORRUPT');
});

test('decryptKey checks the object it is given before deriving anything', async (t) => {
  const ctx = await storeWithKey(t);
  for (const [field, value] of NAMED) {
    const m = structuredClone(ctx.original);
    setPath(m, field, value);
    await assert.rejects(decryptKey(m, PASS, 'given'), { code: 'KEY_FILE_INVALID' });
    assert.throws(
      () => checkKeyFile(m, 'given'),
      (e) => e.code === 'KEY_FILE_INVALID' && e.details.field === field,
    );
  }
  assert.equal(checkKeyFile(ctx.original, 'given'), ctx.original);
  await assert.rejects(decryptKey(ctx.original, 'wrong', 'given'), { code: 'WRONG_PASSPHRASE' });
});
