// Helpers for in-toto tests: keys, signed links and layouts written to a directory.
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { generateKeyPair, sslibKeyFiles, SslibSigner } from '../../dist/crypto/index.js';
import {
  newLink,
  serializeMetablock,
  signMetablock,
  linkFileName,
  parsePublicKey,
} from '../../dist/intoto/index.js';

/** A functionary: signer, public layout key, and its key files written to dir/name{,.pub}. */
export async function makeKey(dir, name, type = 'ed25519') {
  const { privateKey } = generateKeyPair(type);
  const files = sslibKeyFiles(privateKey);
  const priv = path.join(dir, name);
  await writeFile(priv, files.private, { mode: 0o600 });
  await writeFile(`${priv}.pub`, files.public);
  const signer = SslibSigner.fromKeyObject(privateKey);
  return {
    name,
    type,
    signer,
    pub: parsePublicKey(files.public),
    keyid: signer.keyid,
    file: priv,
    pubFile: `${priv}.pub`,
  };
}

export const sha = (c) => ({ sha256: c.repeat(64).slice(0, 64) });

/** Sign and write a link for `key` in dir; returns the envelope. */
export async function writeLink(dir, key, name, fields = {}) {
  const mb = { signed: newLink(name, fields), signatures: [] };
  await signMetablock(mb, key.signer);
  await writeFile(path.join(dir, linkFileName(name, key.keyid)), serializeMetablock(mb));
  return mb;
}

/** A step object. */
export function step(name, keys, materials = [], products = [], extra = {}) {
  return {
    _type: 'step',
    name,
    expected_materials: materials,
    expected_products: products,
    pubkeys: keys.map((k) => k.keyid),
    expected_command: [],
    threshold: 1,
    ...extra,
  };
}

/** A layout object listing the keys of `functionaries`. */
export function layout(steps, functionaries, extra = {}) {
  return {
    _type: 'layout',
    expires: '2099-01-01T00:00:00Z',
    readme: '',
    keys: Object.fromEntries(functionaries.map((k) => [k.keyid, k.pub])),
    steps,
    inspect: [],
    ...extra,
  };
}

/** Sign a layout with owners and write it. */
export async function writeLayout(file, signed, owners) {
  const mb = { signed, signatures: [] };
  for (const o of owners) await signMetablock(mb, o.signer, false);
  await writeFile(file, serializeMetablock(mb));
  return mb;
}
