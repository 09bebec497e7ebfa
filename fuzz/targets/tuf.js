// TUF metadata as the client sees it: a small repository (made by LocalRepository + publish,
// keys derived from the seed) served from memory to TrustClient through MemoryFetcher — the
// fetcher hook, no sockets. One served file is mutated per case (raw, or structurally and
// re-signed with the role's key, with the length/hashes in timestamp and snapshot fixed up so
// the mutation reaches the semantic checks). `tuf-root` mutates the pinned root instead:
// checkRootBytes, addTrust, then a refresh from it.
import { canonicalize } from '@tufjs/canonical-json';
import { createHash, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { KeyObjectSigner } from '../../dist/crypto/index.js';
import {
  LocalRepository,
  MemoryFetcher,
  MemoryMetadataStore,
  TrustClient,
  addDelegation,
  addTarget,
  addTrust,
  checkRootBytes,
  publish,
  trustDir,
} from '../../dist/tuf/index.js';
import { derivedKey, generateFrom, jsonSeed, mutateSeed } from '../seeds.js';

const HOST = 'https://tuf.example';
const BASE = `${HOST}/metadata`;
const NAME = 'example.com/fuzz/bundle';
const NOW = new Date('2026-01-01T00:00:00Z');
const YEARS = 20 * 365 * 86_400;
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** Re-sign a metadata document with the given private keys (canonical JSON of `signed`). */
function resignDoc(doc, keys) {
  const data = Buffer.from(canonicalize(doc.signed));
  doc.signatures = keys.map((k) => ({ keyid: k.keyid, sig: sign(null, data, k.privateKey).toString('hex') }));
  return doc;
}

async function setup({ seed, dir }) {
  const signers = {};
  const roles = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp', 'releases']) {
    const privateKey = derivedKey(seed, `tuf-${role}`);
    signers[role] = { signer: new KeyObjectSigner(privateKey), privateKey };
    signers[role].keyid = signers[role].signer.keyid;
    if (role !== 'releases') roles[role] = { keys: [signers[role].signer.publicKey], threshold: 1 };
  }
  const byId = new Map(Object.values(signers).map((s) => [s.keyid, s.signer]));
  const expiry = { root: YEARS, targets: YEARS, snapshot: YEARS, timestamp: YEARS, delegated: YEARS };
  const repo = await LocalRepository.create(new MemoryMetadataStore(), {
    name: NAME,
    roles,
    now: NOW,
    expiry,
  });
  const targetFiles = new Map();
  const add = (name, content, role) => {
    const bytes = Buffer.from(content);
    const h = sha256(bytes);
    const d = path.posix.dirname(name);
    targetFiles.set(`${d === '.' ? '' : `${d}/`}${h}.${path.posix.basename(name)}`, bytes);
    addTarget(repo, name, { length: bytes.length, hashes: { sha256: h } }, role, NOW);
  };
  add(`${NAME}:v1`, '{"name":"fuzz"}');
  addDelegation(
    repo,
    'targets',
    {
      name: 'targets/releases',
      keys: [signers.releases.signer.publicKey],
      threshold: 1,
      paths: [`${NAME}:r*`],
    },
    NOW,
  );
  add(`${NAME}:r1`, 'release one', 'targets/releases');
  await publish(repo, { signers: async (_role, keyid) => byId.get(keyid), now: NOW });
  const files = new Map();
  for (const [k, v] of repo.store.files) if (k.startsWith('metadata/')) files.set(k.slice(9), Buffer.from(v));
  // root v2: the same root, version 2, so that the client also updates the root
  const root1 = JSON.parse(files.get('1.root.json').toString('utf8'));
  const root2 = resignDoc({ ...root1, signed: { ...root1.signed, version: 2 } }, [signers.root]);
  files.set('2.root.json', Buffer.from(JSON.stringify(root2)));
  const keyOf = (doc) => {
    const t = doc?.signed?._type;
    return t === 'root'
      ? signers.root
      : t === 'timestamp'
        ? signers.timestamp
        : t === 'snapshot'
          ? signers.snapshot
          : undefined;
  };
  const seeds = [...files]
    .filter(([name]) => name !== 'root.json')
    .map(([name, bytes]) => jsonSeed(name, bytes));
  return { dir, files, targetFiles, signers, keyOf, seeds, root1: files.get('1.root.json') };
}

/** Resign a mutated document (key by file name / type); unparsable input stays as it is. */
function resignBytes(ctx, name, bytes) {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof doc !== 'object' || doc === null || typeof doc.signed !== 'object' || doc.signed === null)
      return bytes;
    const key = name.includes('releases')
      ? ctx.signers.releases
      : name.includes('targets')
        ? ctx.signers.targets
        : name.includes('root')
          ? ctx.signers.root
          : name.includes('snapshot')
            ? ctx.signers.snapshot
            : ctx.signers.timestamp;
    return Buffer.from(JSON.stringify(resignDoc(doc, [key])));
  } catch {
    return bytes;
  }
}

/** After replacing `name`, fix up its length/hashes in snapshot and timestamp and re-sign them. */
function fixUp(ctx, files, name) {
  const meta = (file, entry, bytes) => {
    const doc = JSON.parse(files.get(file).toString('utf8'));
    const m = doc.signed.meta?.[entry];
    if (m === undefined) return false;
    if (m.length !== undefined) m.length = bytes.length;
    if (m.hashes !== undefined) m.hashes = { sha256: sha256(bytes) };
    files.set(file, Buffer.from(JSON.stringify(resignDoc(doc, [ctx.keyOf(doc)]))));
    return true;
  };
  const snapName = [...files.keys()].find((f) => /^\d+\.snapshot\.json$/.test(f));
  const entry = name.replace(/^\d+\./, '');
  if (snapName !== undefined && name !== snapName && name !== 'timestamp.json')
    meta(snapName, entry, files.get(name));
  if (snapName !== undefined && name !== 'timestamp.json')
    meta('timestamp.json', 'snapshot.json', files.get(snapName));
}

function fetcher(files, targets) {
  return new MemoryFetcher(HOST, (rel) =>
    rel.startsWith('metadata/') ? files.get(rel.slice(9)) : targets.get(rel.replace(/^targets\//, '')),
  );
}

async function refreshAndGet(ctx, files, cacheDir) {
  const client = new TrustClient({
    name: NAME,
    metadataUrl: BASE,
    targetBaseUrl: `${HOST}/targets`,
    cacheDir,
    fetcher: fetcher(files, ctx.targetFiles),
  });
  await client.refresh();
  const info = await client.getTarget(`${NAME}:v1`);
  await client.downloadTarget(info, path.join(cacheDir, 'v1'));
  await client.getTarget(`${NAME}:r1`);
}

const client = {
  name: 'tuf-client',
  about: 'TrustClient refresh/getTarget/downloadTarget with one mutated served metadata file',
  setup,
  generate(ctx, rng) {
    const seed = rng.pick(ctx.seeds);
    const resigned = rng.chance(0.6);
    let bytes = mutateSeed(rng, seed, ctx.seeds);
    if (resigned) bytes = resignBytes(ctx, seed.label, bytes);
    return { label: `${seed.label}${resigned ? ' (re-signed)' : ''}`, bytes };
  },
  async run(ctx, input) {
    const name = input.label.split(' ')[0];
    const files = new Map(ctx.files);
    files.set(name, Buffer.from(input.bytes));
    if (name !== 'root.json') files.set('root.json', files.get('2.root.json'));
    if (input.label.endsWith('(re-signed)')) fixUp(ctx, files, name);
    const cacheDir = await mkdtemp(path.join(ctx.dir, 'cache-'));
    try {
      await writeFile(path.join(cacheDir, 'root.json'), ctx.root1);
      await refreshAndGet(ctx, files, cacheDir);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  },
};

const root = {
  name: 'tuf-root',
  about: 'root loading: checkRootBytes, addTrust and a refresh from a mutated pinned root',
  async setup(args) {
    const ctx = await setup(args);
    ctx.rootSeeds = [
      jsonSeed('1.root.json', ctx.files.get('1.root.json')),
      jsonSeed('2.root.json', ctx.files.get('2.root.json')),
    ];
    return ctx;
  },
  controls: (ctx) => ctx.rootSeeds,
  generate(ctx, rng) {
    const c = generateFrom(ctx.rootSeeds, rng);
    const resigned = rng.chance(0.5);
    return {
      label: `${c.label}${resigned ? ' (re-signed)' : ''}`,
      bytes: resigned ? resignBytes(ctx, 'root', c.bytes) : c.bytes,
    };
  },
  async run(ctx, input) {
    checkRootBytes(input.bytes, 'root.json');
    const home = await mkdtemp(path.join(ctx.dir, 'home-'));
    try {
      await addTrust(home, NAME, input.bytes, BASE, true);
      const cacheDir = path.join(trustDir(home, NAME), 'metadata');
      if (!Buffer.from(await readFile(path.join(cacheDir, 'root.json'))).equals(Buffer.from(input.bytes)))
        throw new Error('oracle: the pinned root is not the given bytes');
      await refreshAndGet(ctx, new Map(ctx.files), cacheDir);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
};

export const targets = { 'tuf-client': client, 'tuf-root': root };
