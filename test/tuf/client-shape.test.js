// Metadata whose fields have the wrong type is refused by the pre-parse guard with the field's
// path (TUF_METADATA_INVALID), never a TypeError from inside @tufjs/models (fuzz finding:
// a timestamp with "meta": null).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '@tufjs/models';
import { checkMetadataBytes } from '../../dist/tuf/client/guard.js';

const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'ab'.repeat(32) } };
const common = { spec_version: '1.0.31', version: 1, expires: '2045-01-01T00:00:00Z' };
const sigs = [{ keyid: 'k1', sig: 'ab' }];
const good = {
  root: {
    _type: 'root',
    ...common,
    consistent_snapshot: true,
    keys: { k1: key },
    roles: Object.fromEntries(
      ['root', 'targets', 'snapshot', 'timestamp'].map((r) => [r, { keyids: ['k1'], threshold: 1 }]),
    ),
  },
  timestamp: {
    _type: 'timestamp',
    ...common,
    meta: { 'snapshot.json': { version: 1, length: 10, hashes: { sha256: 'ab' } } },
  },
  snapshot: { _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } },
  targets: {
    _type: 'targets',
    ...common,
    targets: { a: { length: 1, hashes: { sha256: 'ab' }, custom: { x: 1 } } },
    delegations: {
      keys: { k1: key },
      roles: [{ name: 'targets/releases', keyids: ['k1'], threshold: 1, terminating: true, paths: ['*'] }],
    },
  },
};
const file = {
  root: '2.root.json',
  timestamp: 'timestamp.json',
  snapshot: '1.snapshot.json',
  targets: '1.targets.json',
};
const bytes = (signed, signatures = sigs) => Buffer.from(JSON.stringify({ signatures, signed }));

test('well-formed metadata of every role passes the guard and parses in @tufjs/models', () => {
  for (const [role, signed] of Object.entries(good)) {
    const doc = checkMetadataBytes(`https://h/metadata/${file[role]}`, bytes(signed));
    Metadata.fromJSON(role, doc);
  }
});

const broken = [
  ['timestamp', (s) => ({ ...s, meta: null }), 'signed.meta'],
  ['timestamp', (s) => ({ ...s, meta: { 'snapshot.json': 1 } }), 'signed.meta["snapshot.json"]'],
  ['timestamp', (s) => ({ ...s, meta: { 'snapshot.json': { version: '1' } } }), '.version'],
  ['timestamp', (s) => ({ ...s, version: null }), 'signed.version'],
  ['timestamp', (s) => ({ ...s, expires: 5 }), 'signed.expires'],
  [
    'snapshot',
    (s) => ({ ...s, meta: { 'targets.json': { version: 1, hashes: { sha256: 5 } } } }),
    'hashes.sha256',
  ],
  ['root', (s) => ({ ...s, keys: { k1: { ...key, keyval: null } } }), 'keyval'],
  ['root', (s) => ({ ...s, roles: { root: { keyids: 5, threshold: 1 } } }), 'keyids'],
  ['root', (s) => ({ ...s, roles: { root: { keyids: [], threshold: '1' } } }), 'threshold'],
  ['root', (s) => ({ ...s, consistent_snapshot: 'yes' }), 'consistent_snapshot'],
  ['targets', (s) => ({ ...s, targets: { a: { length: 'x', hashes: {} } } }), 'length'],
  ['targets', (s) => ({ ...s, targets: { a: { length: 1 } } }), 'hashes'],
  ['targets', (s) => ({ ...s, targets: null }), 'signed.targets'],
  ['targets', (s) => ({ ...s, delegations: { keys: {}, roles: {} } }), 'delegations.roles'],
  [
    'targets',
    (s) => ({ ...s, delegations: { keys: {}, roles: [{ name: 1, keyids: [], threshold: 1 }] } }),
    'name',
  ],
  [
    'targets',
    (s) => ({
      ...s,
      delegations: { keys: {}, roles: [{ name: 'r', keyids: [], threshold: 1, paths: 'x' }] },
    }),
    'paths',
  ],
];

test('a field of the wrong type is refused naming it, before @tufjs/models reads it', () => {
  for (const [role, mutate, field] of broken) {
    assert.throws(
      () => checkMetadataBytes(`https://h/metadata/${file[role]}`, bytes(mutate(good[role]))),
      (e) => e.code === 'TUF_METADATA_INVALID' && e.message.includes(field),
      `${role}: ${field}`,
    );
  }
  for (const signatures of [null, [null], [{ keyid: 1, sig: 'ab' }]])
    assert.throws(
      () => checkMetadataBytes('https://h/metadata/timestamp.json', bytes(good.timestamp, signatures)),
      (e) => e.code === 'TUF_METADATA_INVALID' && e.message.includes('signatures'),
    );
});
