// The linear Targets (de)serialization (ADR 0005) gives exactly what @tufjs/models does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Metadata, MetadataKind } from '@tufjs/models';
import { modelsPatched } from '../../dist/tuf/index.js';

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
