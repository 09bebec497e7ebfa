import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseMetablock,
  serializeMetablock,
  encodeCanonical,
  readMetablock,
  signMetablock,
  verifyMetablockSignature,
  newLink,
  FormatError,
} from '../../dist/intoto/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeKey } from './helpers.js';

const LAYOUT = {
  signatures: [{ keyid: 'ab12', sig: 'cd34', extra: 'kept' }],
  signed: {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: 'r',
    keys: {},
    steps: [
      {
        _type: 'step',
        name: 'build',
        expected_materials: [['ALLOW', '*']],
        expected_products: [],
        pubkeys: [],
        expected_command: ['make'],
        threshold: 1,
        x_custom: { a: [1, 'é'] },
      },
    ],
    inspect: [
      { _type: 'inspection', name: 'i', expected_materials: [], expected_products: [], run: ['true'] },
    ],
    future_field: 'kept',
  },
};

test('round trip: parse → serialize keeps unknown fields and gives identical canonical bytes', () => {
  const text = JSON.stringify(LAYOUT);
  const mb = parseMetablock(text, 'x');
  const again = parseMetablock(serializeMetablock(mb), 'y');
  assert.equal(encodeCanonical(again), encodeCanonical(JSON.parse(text)));
  assert.equal(again.signed.future_field, 'kept');
  assert.deepEqual(again.signed.steps[0].x_custom, { a: [1, 'é'] });
  assert.equal(serializeMetablock(again), serializeMetablock(mb));
  assert.match(serializeMetablock(mb), /^\{\n "signatures": \[\n {2}\{\n/);
});

test('missing optional fields get python defaults (so signatures cover the same bytes)', () => {
  const mb = readMetablock({ signed: { _type: 'link', name: 'x' } });
  assert.deepEqual(mb.signed, {
    _type: 'link',
    name: 'x',
    materials: {},
    products: {},
    byproducts: {},
    command: [],
    environment: {},
  });
  assert.deepEqual(mb.signatures, []);
  const l = readMetablock({
    signed: { _type: 'layout', expires: '2030-01-01T00:00:00Z', steps: [{ name: 's' }], inspect: [] },
  });
  assert.equal(l.signed.readme, '');
  assert.deepEqual(l.signed.steps[0], {
    _type: 'step',
    name: 's',
    expected_materials: [],
    expected_products: [],
    pubkeys: [],
    expected_command: [],
    threshold: 1,
  });
});

// [title, input text, expected code]
const BAD = [
  ['malformed JSON', '{"signed": ', 'INTOTO_BAD_FORMAT'],
  ['not an object', '[1]', 'INTOTO_BAD_FORMAT'],
  ['wrong _type', '{"signed":{"_type":"linkk"},"signatures":[]}', 'INTOTO_BAD_FORMAT'],
  [
    'step with wrong _type',
    JSON.stringify({ signed: { ...LAYOUT.signed, steps: [{ _type: 'inspection', name: 'a' }] } }),
    'INTOTO_BAD_FORMAT',
  ],
  [
    'unknown rule keyword',
    JSON.stringify({
      signed: { ...LAYOUT.signed, steps: [{ name: 'a', expected_products: [['PERMIT', '*']] }] },
    }),
    'INTOTO_BAD_RULE',
  ],
  [
    'bad expiry',
    JSON.stringify({ signed: { ...LAYOUT.signed, expires: '2030-13-01T00:00:00Z' } }),
    'INTOTO_BAD_FORMAT',
  ],
  [
    'duplicate names',
    JSON.stringify({ signed: { ...LAYOUT.signed, inspect: [{ name: 'build' }] } }),
    'INTOTO_BAD_FORMAT',
  ],
  ['non-hex digest', '{"signed":{"_type":"link","materials":{"a":{"sha256":"xyz"}}}}', 'INTOTO_BAD_FORMAT'],
  [
    'non-hex signature',
    '{"signed":{"_type":"link"},"signatures":[{"keyid":"ab","sig":"zz"}]}',
    'INTOTO_BAD_FORMAT',
  ],
  [
    'threshold not an integer',
    JSON.stringify({ signed: { ...LAYOUT.signed, steps: [{ name: 'a', threshold: '2' }] } }),
    'INTOTO_BAD_FORMAT',
  ],
  [
    'private key in layout',
    JSON.stringify({
      signed: {
        ...LAYOUT.signed,
        keys: { ab: { keytype: 'ed25519', keyval: { public: 'a', private: 'b' } } },
      },
    }),
    'INTOTO_BAD_FORMAT',
  ],
  [
    'steps missing',
    '{"signed":{"_type":"layout","expires":"2030-01-01T00:00:00Z","inspect":[]}}',
    'INTOTO_BAD_FORMAT',
  ],
];

for (const [title, text, code] of BAD) {
  test(`bad input is a FormatError with a code: ${title}`, () => {
    assert.throws(
      () => parseMetablock(text, 'f.link'),
      (e) => e instanceof FormatError && e.code === code && e.message.startsWith('f.link'),
    );
  });
}

for (const type of ['ed25519', 'ecdsa', 'rsa']) {
  test(`sign and verify a link with ${type}; tampering and other keys fail`, async (t) => {
    const dir = await tempDir(t);
    const k = await makeKey(dir, 'k', type);
    const other = await makeKey(dir, 'o', type);
    const mb = { signed: newLink('s', { products: { a: { sha256: 'aa' } } }), signatures: [] };
    await signMetablock(mb, k.signer);
    verifyMetablockSignature(mb, k.pub);
    const copy = parseMetablock(serializeMetablock(mb));
    verifyMetablockSignature(copy, k.pub);
    copy.signed.products.a.sha256 = 'ab';
    assert.throws(() => verifyMetablockSignature(copy, k.pub), { code: 'INTOTO_SIGNATURE_INVALID' });
    assert.throws(() => verifyMetablockSignature(mb, other.pub), { code: 'INTOTO_SIGNATURE_INVALID' });
  });
}
