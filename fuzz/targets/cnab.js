// bundle.json (checkThinBundle, thinBundleDigest, canonicalizeBundleFile) and thick bundle
// archives (readThickBundle, scanThickBundle) with tar- and gzip-level mutations.
import { canonicalize } from '@tufjs/canonical-json';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  canonicalizeBundleFile,
  checkThinBundle,
  readThickBundle,
  scanThickBundle,
  thinBundleDigest,
} from '../../dist/cnab/index.js';
import { Rng } from '../rng.js';
import { all, generateFrom, jsonSeed, mutateSeed } from '../seeds.js';
import { mutateEntries, mutateGzip, paxRecord, tar } from '../tar.js';

function bundles() {
  const minimal = {
    schemaVersion: 'v1.0.0',
    name: 'fuzz-bundle',
    version: '1.0.0',
    invocationImages: [{ imageType: 'docker', image: 'example.com/fuzz/inv:1.0.0' }],
  };
  const full = {
    ...minimal,
    description: 'a bundle with most sections',
    maintainers: [{ name: 'Fuzz', email: 'fuzz@example.com' }],
    images: {
      web: {
        imageType: 'docker',
        image: 'example.com/fuzz/web:1',
        contentDigest: `sha256:${'a'.repeat(64)}`,
      },
    },
    parameters: { port: { definition: 'port', destination: { env: 'PORT' } } },
    definitions: { port: { type: 'integer', default: 8080 } },
    credentials: { token: { env: 'TOKEN' } },
    outputs: { url: { definition: 'url', path: '/cnab/app/outputs/url' } },
    actions: { status: { modifies: false } },
    custom: { 'io.example': { nested: [1, 'two', { three: null }] } },
  };
  return [minimal, full].map((b) => Buffer.from(canonicalize(b)));
}

/** Make a mutated bundle canonical again half the time, to get past the canonical-form check. */
function maybeCanonical(rng, bytes) {
  if (!rng.chance(0.5)) return bytes;
  try {
    return Buffer.from(canonicalize(JSON.parse(bytes.toString('utf8'))));
  } catch {
    return bytes;
  }
}

const bundleJson = {
  name: 'bundle-json',
  about: 'bundle.json: checkThinBundle, thinBundleDigest, canonicalizeBundleFile',
  setup({ dir }) {
    return { dir, seeds: bundles().map((b, i) => jsonSeed(`bundle${i}`, b)) };
  },
  generate(ctx, rng) {
    const c = generateFrom(ctx.seeds, rng);
    return { label: c.label, bytes: maybeCanonical(rng, c.bytes) };
  },
  async run(ctx, input) {
    const file = path.join(ctx.dir, 'bundle.json');
    await writeFile(file, input.bytes);
    await all(
      () => checkThinBundle(input.bytes, 'bundle.json'),
      () => canonicalizeBundleFile(file),
      async () => {
        const d = await thinBundleDigest(file);
        const want = createHash('sha256').update(input.bytes).digest('hex');
        if (d.sha256 !== want || d.length !== input.bytes.length)
          throw new Error('oracle: thin bundle digest is not the SHA-256 of the file');
      },
    );
  },
};

function archiveSeeds(rng) {
  const [b0, b1] = bundles();
  const image = rng.bytes(3000);
  return [
    [
      { name: 'bundle.json', body: b0 },
      { name: 'image.tar', body: image },
    ],
    [
      { name: 'image.tar', body: image },
      { name: 'bundle.json', body: b1 },
    ],
    [{ name: './bundle.json', body: b0 }],
    [{ name: 'PaxHeader/x', body: b1, pax: paxRecord('path', 'bundle.json') }],
    [
      { name: 'long', body: image, longName: `${'d'.repeat(120)}/${'f'.repeat(40)}` },
      { name: 'bundle.json', body: b1 },
    ],
  ];
}

const thickArchive = {
  name: 'thick-archive',
  about: 'thick bundles: readThickBundle, scanThickBundle (tar and gzip mutations)',
  setup({ seed, dir }) {
    const seeds = archiveSeeds(new Rng('thick-seeds', seed));
    return { dir, seeds, bodySeeds: bundles().map((b, i) => jsonSeed(`bundle${i}`, b)) };
  },
  controls: (ctx) => ctx.seeds.map((entries, i) => ({ label: `seed${i}`, bytes: gzipSync(tar(entries)) })),
  generate(ctx, rng) {
    let entries = rng.pick(ctx.seeds);
    const mutateBody = (body) => maybeCanonical(rng, mutateSeed(rng, jsonSeed('b', body), ctx.bodySeeds));
    const n = rng.range(0, 2);
    for (let k = 0; k < n; k++) entries = mutateEntries(rng, entries, mutateBody);
    const t = tar(entries, { noEnd: rng.chance(0.1) });
    let gz = gzipSync(t, { level: rng.range(1, 9) });
    if (n === 0 || rng.chance(0.3)) gz = mutateGzip(rng, gz, t);
    return { label: `tgz(${entries.map((e) => e.name.slice(0, 20)).join(',')})`, bytes: gz };
  },
  async run(ctx, input) {
    const file = path.join(ctx.dir, 'bundle.tgz');
    await writeFile(file, input.bytes);
    const want = createHash('sha256').update(input.bytes).digest('hex');
    const scan = await scanThickBundle(file);
    if (scan.digest.sha256 !== want || scan.digest.length !== input.bytes.length)
      throw new Error('oracle: thick bundle digest is not the SHA-256 of the archive');
    if (scan.bundleJson === undefined && scan.problem === undefined)
      throw new Error('oracle: scanThickBundle gave neither bundle.json nor a problem');
    await readThickBundle(file);
  },
};

export const targets = { 'bundle-json': bundleJson, 'thick-archive': thickArchive };
