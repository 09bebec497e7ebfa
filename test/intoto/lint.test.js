import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintLayout, layoutFromTemplate, readLayout } from '../../dist/intoto/index.js';
import { generateKeyPair, sslibPublicKeyOf } from '../../dist/crypto/index.js';

const key = () => sslibPublicKeyOf(generateKeyPair('ed25519').privateKey);
const NOW = new Date('2030-01-01T00:00:00Z');

function base() {
  const k = key();
  return {
    _type: 'layout',
    expires: '2031-01-01T00:00:00Z',
    readme: '',
    keys: { [k.keyid]: k },
    steps: [
      {
        _type: 'step',
        name: 'a',
        pubkeys: [k.keyid],
        threshold: 1,
        expected_command: [],
        expected_materials: [],
        expected_products: [
          ['CREATE', '*'],
          ['DISALLOW', '*'],
        ],
      },
    ],
    inspect: [],
  };
}

const messages = (l) => lintLayout(readLayout(l), NOW).map((i) => `${i.severity}: ${i.where}: ${i.message}`);

test('lint: a clean layout and the shipped templates have no errors', () => {
  assert.deepEqual(messages(base()), []);
  const f = { source: [key()], build: [key()], package: [key()] };
  const cnab = layoutFromTemplate('cnab', { functionaries: f, expires: '2031-01-01T00:00:00Z' });
  assert.deepEqual(
    lintLayout(readLayout(cnab), NOW).filter((i) => i.severity === 'error'),
    [],
  );
});

// [title, change to the base layout, expected message pattern]
const CASES = [
  ['expired', (l) => (l.expires = '2029-01-01T00:00:00Z'), /^error: expires: the layout expired/],
  [
    'expiring soon',
    (l) => (l.expires = '2030-01-10T00:00:00Z'),
    /^warning: expires: the layout expires soon/,
  ],
  [
    'missing key',
    (l) => l.steps[0].pubkeys.push('ab'.repeat(32)),
    /^error: step a: pubkey abab.* is not in the layout keys/,
  ],
  [
    'threshold too high',
    (l) => (l.steps[0].threshold = 2),
    /^error: step a: threshold 2 needs more functionaries/,
  ],
  [
    'unknown step in MATCH',
    (l) => l.steps[0].expected_materials.push(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'nope']),
    /names unknown step nope/,
  ],
  [
    'step MATCH naming an inspection',
    (l) => {
      l.inspect.push({
        _type: 'inspection',
        name: 'i',
        run: ['true'],
        expected_materials: [],
        expected_products: [],
      });
      l.steps[0].expected_materials.push(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'i']);
    },
    /names inspection i, but step rules are checked before inspections run/,
  ],
  [
    'unreachable rule',
    (l) => l.steps[0].expected_products.push(['ALLOW', 'x']),
    /'ALLOW x' is unreachable: 'DISALLOW \*'/,
  ],
  ['rules that cannot fail', (l) => (l.steps[0].expected_products = [['ALLOW', '*']]), /no DISALLOW rule/],
  [
    'REQUIRE with a pattern',
    (l) => l.steps[0].expected_products.unshift(['REQUIRE', '*.tgz']),
    /REQUIRE takes a file name/,
  ],
  [
    'key listed under another id',
    (l) => (l.keys[Object.keys(l.keys)[0]].keyid = 'cd'.repeat(32)),
    /its keyid is cdcd/,
  ],
];

for (const [title, change, want] of CASES) {
  test(`lint: ${title}`, () => {
    const l = base();
    change(l);
    const m = messages(l);
    assert.ok(
      m.some((x) => want.test(x)),
      m.join('\n'),
    );
  });
}
