// The linear Targets (de)serialization (ADR 0005) gives exactly what @tufjs/models does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Metadata, MetadataKind } from '@tufjs/models';
import { modelsPatched, modelsPatchStatus, PATCHED_MODELS_VERSION, addTarget } from '../../dist/tuf/index.js';
import { Sim } from '../helpers/sim.js';

const require = createRequire(import.meta.url);

/** A pristine copy of @tufjs/models, loaded apart from the patched instance. */
function pristine() {
  const saved = { ...require.cache };
  for (const k of Object.keys(require.cache)) if (k.includes('@tufjs/models')) delete require.cache[k];
  const fresh = require('@tufjs/models');
  for (const k of Object.keys(require.cache)) if (k.includes('@tufjs/models')) delete require.cache[k];
  Object.assign(require.cache, saved);
  return fresh;
}

const sample = {
  signed: {
    _type: 'targets',
    spec_version: '1.0.31',
    version: 3,
    expires: '2030-01-01T00:00:00Z',
    x_extra: { kept: true },
    targets: Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [
        `example.com/org/b:v${i}`,
        {
          length: i,
          hashes: { sha256: i.toString(16).padStart(64, '0') },
          ...(i % 3 ? { custom: { n: i } } : {}),
        },
      ]),
    ),
    delegations: {
      keys: {},
      roles: [
        {
          name: 'targets/releases',
          keyids: [],
          threshold: 1,
          terminating: false,
          paths: ['example.com/org/b:*'],
        },
      ],
    },
  },
  signatures: [],
};

test('patched, and identical JSON to the original for targets with custom data, delegations and extra fields', () => {
  assert.equal(modelsPatched, true);
  const ours = Metadata.fromJSON(MetadataKind.Targets, structuredClone(sample));
  const orig = pristine().Metadata.fromJSON('targets', structuredClone(sample));
  assert.notEqual(
    ours.signed.constructor.fromJSON,
    orig.signed.constructor.fromJSON,
    'two implementations compared',
  );
  assert.equal(JSON.stringify(ours.toJSON()), JSON.stringify(orig.toJSON()));
  assert.deepEqual(Object.keys(ours.signed.targets), Object.keys(orig.signed.targets));
  assert.equal(ours.signed.targets['example.com/org/b:v4'].custom.n, 4);
});

test('same validation errors as the original', () => {
  const orig = pristine();
  for (const bad of [{ targets: 'x' }, { targets: { a: 1 } }, { delegations: 5 }, { targets: { a: {} } }]) {
    const data = { ...structuredClone(sample), signed: { ...structuredClone(sample.signed), ...bad } };
    let expected;
    try {
      orig.Metadata.fromJSON('targets', structuredClone(data));
    } catch (e) {
      expected = e.message;
    }
    assert.ok(expected, JSON.stringify(bad));
    assert.throws(() => Metadata.fromJSON(MetadataKind.Targets, structuredClone(data)), {
      message: expected,
    });
  }
});

test('linear: 20 000 targets parse and serialize quickly', () => {
  const big = structuredClone(sample);
  big.signed.targets = Object.fromEntries(
    Array.from({ length: 20_000 }, (_, i) => [
      `example.com/org/b:v${i}`,
      { length: i, hashes: { sha256: 'ab'.repeat(32) } },
    ]),
  );
  const md = Metadata.fromJSON(MetadataKind.Targets, big);
  assert.equal(Object.keys(md.toJSON().signed.targets).length, 20_000);
});

test('models patch: a second copy of the patch module (as in the CLI bundles) leaves the first in place', async () => {
  const { Targets } = await import('@tufjs/models');
  const fromJSON = Targets.fromJSON;
  const toJSON = Targets.prototype.toJSON;
  const copy = await import(`../../dist/tuf/models-patch.js?copy=${Date.now()}`);
  assert.equal(copy.modelsPatched, true);
  assert.equal(Targets.fromJSON, fromJSON);
  assert.equal(Targets.prototype.toJSON, toJSON);
});

test('models patch: applied to the installed @tufjs/models; a version bump fails here, loudly', () => {
  const installed = require('@tufjs/models/package.json').version;
  const pinned = require('../../package.json').dependencies['@tufjs/models'];
  assert.equal(pinned, PATCHED_MODELS_VERSION, 'package.json pins exactly the patched version');
  assert.deepEqual(modelsPatchStatus(), {
    expected: PATCHED_MODELS_VERSION,
    installed,
    applied: true,
  });
  assert.equal(
    installed,
    PATCHED_MODELS_VERSION,
    'review src/tuf/models-patch.ts against the new version (ADR 0005) before changing PATCHED_MODELS_VERSION',
  );
});

test('models patch: the patched methods are the ones in place', async () => {
  const { Targets } = await import('@tufjs/models');
  const orig = pristine();
  assert.notEqual(Targets.fromJSON, orig.Targets.fromJSON);
  assert.notEqual(Targets.prototype.toJSON, orig.Targets.prototype.toJSON);
  // replacing a method (as a later library import could) is seen
  const saved = Targets.fromJSON;
  try {
    Targets.fromJSON = orig.Targets.fromJSON;
    assert.equal(modelsPatchStatus().applied, false);
  } finally {
    Targets.fromJSON = saved;
  }
  assert.equal(modelsPatchStatus().applied, true);
});

const TRICKY = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

test('models patch: targets named __proto__, constructor, toString, hasOwnProperty are own entries', () => {
  const text = JSON.stringify({
    ...sample,
    signed: {
      ...sample.signed,
      targets: {},
    },
  }).replace(
    '"targets":{}',
    `"targets":{${TRICKY.map((n, i) => `"${n}":{"length":${i},"hashes":{"sha256":"${'0'.repeat(64)}"}}`).join(',')}}`,
  );
  const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(text));
  assert.deepEqual(Object.keys(md.signed.targets), TRICKY);
  for (const [i, n] of TRICKY.entries()) assert.equal(md.signed.targets[n].length, i, n);
  assert.equal(md.signed.targets.valueOf, undefined, 'no inherited members');
  const orig = pristine().Metadata.fromJSON('targets', JSON.parse(text));
  assert.equal(JSON.stringify(md.toJSON()), JSON.stringify(orig.toJSON()), 'same JSON as the library');
  // an edit through the JSON form (as LocalRepository.edit does) keeps __proto__ too
  const json = md.toJSON();
  json.signed.targets.__proto__ = { length: 9, hashes: { sha256: '1'.repeat(64) } };
  const again = Metadata.fromJSON(MetadataKind.Targets, json);
  assert.equal(again.signed.targets.__proto__.length, 9);
  assert.deepEqual(Object.keys(again.signed.targets), TRICKY);
});

test('models patch: tricky target names round-trip sign → publish → client lookup; unsigned ones are not found', async (t) => {
  const sim = await Sim.create(t);
  for (const [i, n] of TRICKY.entries())
    addTarget(sim.repo, n, { length: i + 1, hashes: { sha256: String(i).repeat(64) } }, 'targets');
  await sim.publish();
  const client = await sim.client();
  for (const [i, n] of TRICKY.entries()) {
    const info = await client.getTarget(n);
    assert.equal(info.length, i + 1, n);
    assert.equal(info.hashes.sha256, String(i).repeat(64), n);
  }
  for (const n of ['valueOf', 'isPrototypeOf', '__defineGetter__'])
    await assert.rejects(client.getTarget(n), { code: 'TARGET_NOT_FOUND' }, n);
});
