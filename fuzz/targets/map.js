// TAP 4 map files (src/tuf/client/map.ts): parse as the CLI does (JSON, then parseMapFile —
// or the library's own reader if it has one), then resolveWithMap for targets made from the
// map's own path patterns, with a lookup that answers, refuses or fails per repository.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as map from '../../dist/tuf/client/map.js';
import { TufError } from '../../dist/tuf/errors.js';
import { generateFrom, jsonSeed } from '../seeds.js';

const SEEDS = [
  {
    repositories: {
      main: ['https://tuf.example/metadata'],
      mirror: ['https://mirror.example/metadata', 'file:///srv/tuf'],
    },
    mapping: [
      { paths: ['example.com/org/*:*'], repositories: ['main', 'mirror'], threshold: 2, terminating: true },
      { paths: ['*'], repositories: ['main'], threshold: 1, terminating: false },
    ],
  },
  {
    repositories: { a: ['https://a.example'], b: ['https://b.example'], c: ['https://c.example'] },
    mapping: [
      {
        paths: ['example.com/*/bundle:v?', 'x/*'],
        repositories: ['a', 'b', 'c'],
        threshold: 2,
        terminating: false,
      },
      { paths: ['example.com/org/bundle:*'], repositories: ['c'], threshold: 1, terminating: true },
    ],
  },
];

function lookup(name, urls, target) {
  const h = createHash('sha256').update(`${name}\u0000${target}`).digest();
  if (h[0] % 4 === 0) return Promise.reject(new TufError('TARGET_NOT_FOUND', `${target} not in ${name}`));
  if (h[0] % 4 === 1) return Promise.reject(new TufError('TUF_UPDATE_FAILED', `${name} failed`));
  return Promise.resolve({ length: 10 + (h[1] % 2), hashes: { sha256: 'ab'.repeat(32) } });
}

/** Concrete target names for a map: its patterns with wildcards filled in. */
function targetsFor(m) {
  const out = ['example.com/org/bundle:v1'];
  for (const e of m.mapping)
    for (const p of e.paths.slice(0, 8)) out.push(p.replace(/\*/g, 'x').replace(/\?/g, '1'));
  return out.slice(0, 12);
}

const mapFile = {
  name: 'map-file',
  about: 'TAP 4 map files: parseMapFile (or readMapFile) and resolveWithMap',
  setup({ dir }) {
    return { dir, seeds: SEEDS.map((s, i) => jsonSeed(`map${i}`, JSON.stringify(s, null, 2))) };
  },
  generate: (ctx, rng) => generateFrom(ctx.seeds, rng),
  async run(ctx, input) {
    let parsed;
    const reader = map.readMapFile ?? map.loadMapFile;
    if (reader !== undefined) {
      const file = path.join(ctx.dir, 'map.json');
      await writeFile(file, input.bytes);
      parsed = await reader(file);
    } else {
      let json;
      try {
        json = JSON.parse(Buffer.from(input.bytes).toString('utf8'));
      } catch {
        return; // the CLI refuses this as MAP_INVALID before the library sees it
      }
      parsed = map.parseMapFile(json);
    }
    for (const t of targetsFor(parsed)) {
      try {
        await map.resolveWithMap(parsed, t, lookup);
      } catch (e) {
        if (!(e instanceof TufError)) throw e;
      }
    }
  },
};

export const targets = { 'map-file': mapFile };
