// in-toto links and layouts: parseMetablock / parseMetablockWithSignable (the signable-text
// fast path, checked against canonicalization as an oracle), and verifyLayout on a layout and
// links where one file is mutated (raw, or structurally and then re-signed so that the
// mutation reaches rule checking). Seeds: our own link/layout, and python in-toto's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { SslibSigner, sslibKeyFiles } from '../../dist/crypto/index.js';
import {
  linkFileName,
  newLink,
  parseMetablock,
  parseMetablockWithSignable,
  parsePublicKey,
  serializeMetablock,
  signableBytes,
  signMetablock,
  verifyLayout,
} from '../../dist/intoto/index.js';
import { derivedKey, generateFrom, jsonSeed, mutateSeed } from '../seeds.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const sha = (s) => ({ sha256: createHash('sha256').update(s).digest('hex') });

function key(seed, name, type = 'ed25519') {
  const priv = derivedKey(seed, name, type);
  const files = sslibKeyFiles(priv);
  const signer = SslibSigner.fromKeyObject(priv);
  return { name, signer, files, pub: parsePublicKey(files.public), keyid: signer.keyid };
}

async function signed(signedPart, signers, compact = false) {
  const mb = { signed: signedPart, signatures: [] };
  for (const s of signers) await signMetablock(mb, s.signer, false);
  return Buffer.from(serializeMetablock(mb, compact));
}

/**
 * Python in-toto's links and layout, cached in the temp directory by key (python's output
 * depends only on the keys and the fixed inputs, and running it takes seconds).
 */
function pythonSeeds(dir, alice, owner, layoutFile) {
  const cache = path.join(
    tmpdir(),
    `cnabsec-fuzz-python-${alice.keyid.slice(0, 16)}-${owner.keyid.slice(0, 16)}`,
  );
  try {
    const names = readdirSync(cache).sort();
    if (names.length > 0) return names.map((f) => jsonSeed(`python:${f}`, readFileSync(path.join(cache, f))));
  } catch {
    /* not cached yet */
  }
  const seeds = runPython(dir, alice, owner, layoutFile);
  if (seeds.length === 3) {
    const tmp = `${cache}.${process.pid}`;
    mkdirSync(tmp, { recursive: true });
    for (const s of seeds) writeFileSync(path.join(tmp, s.label.slice(7)), s.bytes);
    try {
      renameSync(tmp, cache);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker cached it first
    }
  }
  return seeds;
}

/** Python in-toto's links (in-toto-run) and layout signature (in-toto-sign); none if unavailable. */
function runPython(dir, alice, owner, layoutFile) {
  const env = { ...process.env, PATH: process.env.FUZZ_PATH ?? process.env.PATH };
  const work = path.join(dir, 'py');
  mkdirSync(path.join(work, 'src'), { recursive: true });
  mkdirSync(path.join(work, 'many'), { recursive: true });
  writeFileSync(path.join(work, 'src', 'a.c'), 'int main(){}\n');
  // enough products for a link past the signable-text threshold (128 KiB)
  for (let i = 0; i < 1400; i++) writeFileSync(path.join(work, 'many', `f${i}`), `${i}`);
  writeFileSync(path.join(work, 'alice'), alice.files.private, { mode: 0o600 });
  writeFileSync(path.join(work, 'owner'), owner.files.private, { mode: 0o600 });
  const py = (cmd, args) => spawnSync(cmd, args, { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  const out = [];
  const links = path.join(work, 'links');
  mkdirSync(links, { recursive: true });
  const r1 = py('in-toto-run', [
    '-n',
    'checkout',
    '-k',
    'alice',
    '-t',
    'ed25519',
    '-p',
    'src',
    '-d',
    'links',
    '-x',
  ]);
  const r2 = py('in-toto-run', [
    '-n',
    'big',
    '-k',
    'alice',
    '-t',
    'ed25519',
    '-m',
    'src',
    '-p',
    'many',
    '-d',
    'links',
    '-x',
  ]);
  if (r1.status === 0 && r2.status === 0) {
    for (const f of readdirSync(links).sort())
      out.push(jsonSeed(`python:${f}`, readFileSync(path.join(links, f))));
  }
  const r3 = py('in-toto-sign', ['-f', layoutFile, '-k', 'owner', '-t', 'ed25519', '-o', 'py.layout']);
  if (r3.status === 0) out.push(jsonSeed('python:root.layout', readFileSync(path.join(work, 'py.layout'))));
  rmSync(work, { recursive: true, force: true });
  return out;
}

async function setup({ seed, dir }, python = true) {
  const owner = key(seed, 'owner');
  const alice = key(seed, 'alice');
  const bob = key(seed, 'bob', 'ecdsa');
  const src = { 'src/a.c': sha('a'), 'src/b.c': sha('b') };
  const app = sha('app');
  const links = {
    checkout: newLink('checkout', {
      products: src,
      byproducts: { 'return-value': 0, stderr: '', stdout: '' },
    }),
    build: newLink('build', {
      command: ['make', 'app'],
      materials: src,
      products: { ...src, app },
      byproducts: { 'return-value': 0, stderr: '', stdout: 'built\n' },
      environment: { workdir: '/build' },
    }),
  };
  const step = (name, m, p, extra = {}) => ({
    _type: 'step',
    name,
    expected_materials: m,
    expected_products: p,
    pubkeys: [alice.keyid],
    expected_command: [],
    threshold: 1,
    ...extra,
  });
  const layout = {
    _type: 'layout',
    expires: '2099-01-01T00:00:00Z',
    readme: 'fuzz layout',
    keys: { [alice.keyid]: alice.pub, [bob.keyid]: bob.pub },
    steps: [
      step(
        'checkout',
        [],
        [
          ['CREATE', 'src/*'],
          ['DISALLOW', '*'],
        ],
      ),
      step(
        'build',
        [
          ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'checkout'],
          ['DISALLOW', '*'],
        ],
        [
          ['CREATE', 'app'],
          ['MATCH', 'src/*', 'WITH', 'MATERIALS', 'FROM', 'build'],
          ['ALLOW', 'src/*'],
          ['DISALLOW', '*'],
        ],
        { expected_command: ['make', 'app'] },
      ),
    ],
    inspect: [],
  };
  const linkDir = path.join(dir, 'links');
  await mkdir(linkDir, { recursive: true });
  const linkFiles = {};
  for (const [name, l] of Object.entries(links)) {
    const file = linkFileName(name, alice.keyid);
    linkFiles[name] = file;
    await writeFile(path.join(linkDir, file), await signed(l, [alice]));
  }
  const big = newLink('big', {
    materials: src,
    products: Object.fromEntries(
      Array.from({ length: 1500 }, (_, i) => [`out/file-${i}.bin`, sha(String(i))]),
    ),
  });
  const layoutBytes = await signed(layout, [owner]);
  const layoutFile = path.join(dir, 'root.layout');
  await writeFile(layoutFile, layoutBytes);
  const seeds = [
    jsonSeed('layout', layoutBytes),
    jsonSeed('layout-compact', await signed(layout, [owner], true)),
    jsonSeed('link:checkout', await signed(links.checkout, [alice])),
    jsonSeed('link:build', await signed(links.build, [alice])),
    jsonSeed('link:build-compact', await signed(links.build, [alice], true)),
    jsonSeed('link:big', await signed(big, [alice], true)),
    ...(python ? pythonSeeds(dir, alice, owner, layoutFile) : []),
  ];
  return {
    dir,
    seeds,
    owner,
    alice,
    layout,
    links,
    linkDir,
    linkFiles,
    ownerKeys: { [owner.keyid]: owner.pub },
  };
}

/** Parse mutated JSON and sign its `signed` part again (structure reaches the semantic checks). */
async function resign(bytes, signer) {
  try {
    const mb = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof mb !== 'object' || mb === null || typeof mb.signed !== 'object' || mb.signed === null)
      return bytes;
    mb.signatures = [];
    await signMetablock(mb, signer, false);
    return Buffer.from(JSON.stringify(mb));
  } catch {
    return bytes;
  }
}

const parse = {
  name: 'intoto-parse',
  about: 'in-toto links and layouts: parseMetablock, parseMetablockWithSignable (fast path vs canonical)',
  setup,
  generate: (ctx, rng) => generateFrom(ctx.seeds, rng),
  run(ctx, input) {
    let mb;
    try {
      mb = parseMetablock(input.bytes, 'fuzz.link');
    } catch (e) {
      mb = e;
    }
    const r = parseMetablockWithSignable(input.bytes, 'fuzz.link', 0);
    if (mb instanceof Error)
      throw new Error(
        `oracle: parseMetablockWithSignable accepted what parseMetablock refused: ${mb.message}`,
      );
    if (r.signable !== undefined && !r.signable.equals(signableBytes(r.mb.signed)))
      throw new Error(
        'oracle: signable bytes from the text differ from the canonical form of the parsed link',
      );
    signableBytes(mb.signed);
  },
};

const verify = {
  name: 'intoto-verify',
  about: 'in-toto verifyLayout with one mutated (optionally re-signed) link or layout',
  setup: async (args) => {
    const ctx = await setup(args, false);
    ctx.verifySeeds = ctx.seeds.filter((s) => /^(layout|link:build|link:checkout)$/.test(s.label));
    return ctx;
  },
  controls: (ctx) => ctx.verifySeeds,
  async generate(ctx, rng) {
    const seed = rng.pick(ctx.verifySeeds);
    const resigned = rng.chance(0.6);
    let bytes = mutateSeed(rng, seed, ctx.verifySeeds);
    if (resigned) bytes = await resign(bytes, seed.label === 'layout' ? ctx.owner.signer : ctx.alice.signer);
    return { label: `${seed.label}${resigned ? ' (re-signed)' : ''}`, bytes };
  },
  async run(ctx, input) {
    let layout = parseMetablock(ctx.seeds[0].bytes, 'root.layout');
    let linkDir = ctx.linkDir;
    if (input.label.startsWith('layout')) {
      layout = parseMetablock(input.bytes, 'root.layout');
    } else {
      linkDir = path.join(ctx.dir, 'case-links');
      await rm(linkDir, { recursive: true, force: true });
      await cp(ctx.linkDir, linkDir, { recursive: true });
      const step = input.label.startsWith('link:build') ? 'build' : 'checkout';
      await writeFile(path.join(linkDir, ctx.linkFiles[step]), input.bytes);
    }
    if (layout.signed._type !== 'layout') return;
    await verifyLayout(layout, ctx.ownerKeys, { linkDir, now: NOW, inspections: { timeoutMs: 1000 } });
  },
};

export const targets = { 'intoto-parse': parse, 'intoto-verify': verify };
