// Key files: cnabsec key-store files (KeyStore list/info/signer over a mutated <keyid>.key),
// and in-toto / securesystemslib key files (parsePublicKey, parseSslibPrivateKey, loadSigner,
// loadPublicKeyFile) in JSON, PEM and password-protected forms. Seeds are made by
// encryptKey / sslibKeyFiles with the randomness (salt, iv) drawn from the seed.
import crypto from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { KeyStore, encryptKey, sslibEncrypt, sslibKeyFiles } from '../../dist/crypto/index.js';
import { loadPublicKeyFile, loadSigner, parsePublicKey } from '../../dist/intoto/index.js';
import { parseSslibPrivateKey } from '../../dist/crypto/index.js';
import { Rng } from '../rng.js';
import { all, derivedKey, generateFrom, jsonSeed } from '../seeds.js';

const PASS = 'fuzz passphrase';

/** Run `fn` with crypto.randomBytes drawn from `rng` (deterministic seeds). */
async function withSeededRandom(rng, fn) {
  const orig = crypto.randomBytes;
  crypto.randomBytes = (n, cb) => {
    const b = rng.bytes(n);
    if (typeof cb === 'function') return void cb(null, b);
    return b;
  };
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    crypto.randomBytes = orig;
    syncBuiltinESMExports();
  }
}

const keystore = {
  name: 'keystore-file',
  about: 'cnabsec key store files: KeyStore list, info, signer (decrypt) on a mutated key file',
  async setup({ seed, dir }) {
    const home = path.join(dir, 'home');
    await mkdir(path.join(home, 'keys'), { recursive: true, mode: 0o700 });
    const seeds = [];
    for (const type of ['ed25519', 'ecdsa']) {
      const file = await withSeededRandom(new Rng('keystore', seed, type), () =>
        encryptKey(derivedKey(seed, `store-${type}`, type), PASS, `fuzz-${type}`),
      );
      file.created = '2026-01-01T00:00:00.000Z';
      seeds.push(jsonSeed(file.keyid, JSON.stringify(file, null, 2) + '\n'));
    }
    return { dir, home, seeds };
  },
  generate: (ctx, rng) => generateFrom(ctx.seeds, rng),
  async run(ctx, input, rng) {
    const keyid = input.label;
    const file = path.join(ctx.home, 'keys', `${keyid}.key`);
    await writeFile(file, input.bytes, { mode: 0o600 });
    await chmod(file, 0o600);
    const store = new KeyStore(ctx.home);
    const decrypt = rng.chance(0.3);
    try {
      await all(
        () => store.list(),
        () => store.info(keyid),
        async () => {
          if (!decrypt) return;
          const signer = await store.signer(keyid, async () => PASS);
          await signer.sign(Buffer.from('fuzz'));
        },
      );
    } finally {
      await rm(file, { force: true });
    }
  },
};

/**
 * A traditional encrypted PEM ("Proc-Type: 4,ENCRYPTED", OpenSSL EVP_BytesToKey with MD5) with
 * a given IV: OpenSSL's own export draws its IV where the seed cannot reach it.
 */
function legacyEncryptedPem(key, passphrase, iv) {
  const der = key.export({ format: 'der', type: 'sec1' });
  const salt = iv.subarray(0, 8);
  let k = Buffer.alloc(0);
  let prev = Buffer.alloc(0);
  while (k.length < 32) {
    prev = crypto
      .createHash('md5')
      .update(Buffer.concat([prev, Buffer.from(passphrase), salt]))
      .digest();
    k = Buffer.concat([k, prev]);
  }
  const c = crypto.createCipheriv('aes-256-cbc', k.subarray(0, 32), iv);
  const body = Buffer.concat([c.update(der), c.final()])
    .toString('base64')
    .replace(/.{64}/g, '$&\n');
  return `-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,${iv.toString('hex').toUpperCase()}\n\n${body.trim()}\n-----END EC PRIVATE KEY-----\n`;
}

async function sslibSeeds(seed) {
  const out = [];
  for (const type of ['ed25519', 'ecdsa']) {
    const priv = derivedKey(seed, `sslib-${type}`, type);
    const files = sslibKeyFiles(priv);
    out.push(jsonSeed(`private:${type}`, files.private));
    out.push(jsonSeed(`public:${type}`, files.public));
    const pem = crypto.createPublicKey(priv).export({ format: 'pem', type: 'spki' });
    out.push(jsonSeed(`public:${type}-pem`, pem));
    const enc = await withSeededRandom(new Rng('sslib', seed, type), () =>
      sslibEncrypt(files.private, PASS, 1000),
    );
    out.push(jsonSeed(`private:${type}-encrypted`, enc));
  }
  const ec = derivedKey(seed, 'sslib-pem', 'ecdsa');
  out.push(jsonSeed('private:ecdsa-pem', ec.export({ format: 'pem', type: 'pkcs8' })));
  out.push(
    jsonSeed('private:ecdsa-pem-encrypted', legacyEncryptedPem(ec, PASS, new Rng('pem', seed).bytes(16))),
  );
  return out;
}

const intotoKey = {
  name: 'intoto-key',
  about: 'in-toto key files: parsePublicKey, parseSslibPrivateKey, loadSigner, loadPublicKeyFile',
  async setup({ seed, dir }) {
    return { dir, seeds: await sslibSeeds(seed) };
  },
  generate: (ctx, rng) => generateFrom(ctx.seeds, rng),
  async run(ctx, input) {
    const text = Buffer.from(input.bytes).toString('utf8');
    const file = path.join(ctx.dir, 'key');
    await writeFile(file, input.bytes, { mode: 0o600 });
    const passphrases = async () => PASS;
    if (input.label.startsWith('public')) {
      await all(
        () => parsePublicKey(text, 'key.pub'),
        () => loadPublicKeyFile(file),
      );
    } else {
      await all(
        () => parseSslibPrivateKey(text, 'key', passphrases),
        async () => {
          const s = await loadSigner(file, {
            passphrases,
            keyStore: new KeyStore(path.join(ctx.dir, 'none')),
          });
          await s.sign(Buffer.from('fuzz'));
        },
      );
    }
  },
};

export const targets = { 'keystore-file': keystore, 'intoto-key': intotoKey };
