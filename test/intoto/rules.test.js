import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  verifyItemRules,
  unpackRule,
  packRule,
  shlexSplit,
  ruleFromString,
  newLink,
  RuleVerificationError,
} from '../../dist/intoto/index.js';

const h = (c) => ({ sha256: c.repeat(64) });

// The item under test ("it") and another step ("prev") whose artifacts MATCH rules use.
function links(it, prev = {}) {
  return new Map([
    ['it', newLink('it', it)],
    ['prev', newLink('prev', prev)],
  ]);
}

// [title, side, rules, it link fields, prev link fields, expected: 'pass' | failing rule text]
const CASES = [
  [
    'CREATE consumes new products',
    'products',
    ['CREATE *', 'DISALLOW *'],
    { products: { a: h('a') } },
    {},
    'pass',
  ],
  [
    'CREATE leaves a product that was a material',
    'products',
    ['CREATE *', 'DISALLOW *'],
    { materials: { a: h('a') }, products: { a: h('b') } },
    {},
    'DISALLOW *',
  ],
  [
    'DELETE consumes removed materials',
    'materials',
    ['DELETE a', 'DISALLOW *'],
    { materials: { a: h('a') } },
    {},
    'pass',
  ],
  [
    'DELETE leaves a material still present',
    'materials',
    ['DELETE a', 'DISALLOW *'],
    { materials: { a: h('a') }, products: { a: h('a') } },
    {},
    'DISALLOW *',
  ],
  [
    'MODIFY consumes changed files',
    'products',
    ['MODIFY *', 'DISALLOW *'],
    { materials: { a: h('a') }, products: { a: h('b') } },
    {},
    'pass',
  ],
  [
    'MODIFY leaves unchanged files',
    'products',
    ['MODIFY *', 'DISALLOW *'],
    { materials: { a: h('a') }, products: { a: h('a') } },
    {},
    'DISALLOW *',
  ],
  [
    'ALLOW consumes what it matches',
    'products',
    ['ALLOW *.txt', 'DISALLOW *'],
    { products: { 'd/x.txt': h('a') } },
    {},
    'pass',
  ],
  [
    'ALLOW leaves what it does not match',
    'products',
    ['ALLOW *.txt', 'DISALLOW *'],
    { products: { 'x.bin': h('a') } },
    {},
    'DISALLOW *',
  ],
  [
    'DISALLOW of nothing passes',
    'products',
    ['DISALLOW *.exe'],
    { products: { 'x.bin': h('a') } },
    {},
    'pass',
  ],
  [
    'REQUIRE finds a queued file',
    'products',
    ['REQUIRE x.bin'],
    { products: { 'x.bin': h('a') } },
    {},
    'pass',
  ],
  [
    'REQUIRE fails on a missing file',
    'products',
    ['REQUIRE y.bin'],
    { products: { 'x.bin': h('a') } },
    {},
    'REQUIRE y.bin',
  ],
  [
    'REQUIRE is literal, not a pattern',
    'products',
    ['REQUIRE *.bin'],
    { products: { 'x.bin': h('a') } },
    {},
    'REQUIRE *.bin',
  ],
  [
    'REQUIRE fails after a rule consumed the file',
    'products',
    ['ALLOW *', 'REQUIRE x'],
    { products: { x: h('a') } },
    {},
    'REQUIRE x',
  ],
  [
    'MATCH same hash consumes',
    'materials',
    ['MATCH * WITH PRODUCTS FROM prev', 'DISALLOW *'],
    { materials: { 'src/a.c': h('a') } },
    { products: { 'src/a.c': h('a') } },
    'pass',
  ],
  [
    'MATCH different hash leaves it',
    'materials',
    ['MATCH * WITH PRODUCTS FROM prev', 'DISALLOW *'],
    { materials: { 'src/a.c': h('a') } },
    { products: { 'src/a.c': h('b') } },
    'DISALLOW *',
  ],
  [
    'MATCH against the wrong side leaves it',
    'materials',
    ['MATCH * WITH MATERIALS FROM prev', 'DISALLOW *'],
    { materials: { a: h('a') } },
    { products: { a: h('a') } },
    'DISALLOW *',
  ],
  [
    'MATCH from an unknown step consumes nothing',
    'materials',
    ['MATCH * WITH PRODUCTS FROM nope', 'DISALLOW *'],
    { materials: { a: h('a') } },
    { products: { a: h('a') } },
    'DISALLOW *',
  ],
  [
    'MATCH IN source prefix and IN destination prefix',
    'products',
    ['MATCH * IN dist WITH PRODUCTS IN build/out FROM prev', 'DISALLOW *'],
    { products: { 'dist/app.tgz': h('a') } },
    { products: { 'build/out/app.tgz': h('a') } },
    'pass',
  ],
  [
    'MATCH IN prefix does not glob into the prefix',
    'products',
    ['MATCH *.tgz IN d* WITH PRODUCTS FROM prev', 'DISALLOW *'],
    { products: { 'dist/app.tgz': h('a') } },
    { products: { 'app.tgz': h('a') } },
    'DISALLOW *',
  ],
  [
    'MATCH with a trailing slash prefix',
    'products',
    ['MATCH app.tgz IN dist/ WITH PRODUCTS FROM prev', 'DISALLOW *'],
    { products: { 'dist/app.tgz': h('a') } },
    { products: { 'app.tgz': h('a') } },
    'pass',
  ],
  [
    'hash objects must be equal as a whole',
    'materials',
    ['MATCH * WITH PRODUCTS FROM prev', 'DISALLOW *'],
    { materials: { a: h('a') } },
    { products: { a: { ...h('a'), sha512: 'ab' } } },
    'DISALLOW *',
  ],
  [
    'keywords are case insensitive',
    'products',
    ['allow *', 'disallow *'],
    { products: { a: h('a') } },
    {},
    'pass',
  ],
  [
    'an artifact named like an Object.prototype key is not found by accident',
    'materials',
    ['MATCH * WITH PRODUCTS FROM prev', 'DISALLOW *'],
    { materials: { constructor: h('a') } },
    {},
    'DISALLOW *',
  ],
];

for (const [title, side, ruleStrings, it, prev, want] of CASES) {
  test(`rules: ${title}`, () => {
    const rules = ruleStrings.map(ruleFromString);
    const run = () => verifyItemRules('it', side, rules, links(it, prev));
    if (want === 'pass') run();
    else {
      assert.throws(run, (e) => {
        assert.ok(e instanceof RuleVerificationError);
        assert.equal(e.code, 'INTOTO_RULE_FAILED');
        assert.equal(e.rule.join(' '), want);
        return true;
      });
    }
  });
}

test('rule failure names the item, the rule, the artifacts and the queue trace', () => {
  const rules = ['ALLOW a*', 'DISALLOW *'].map(ruleFromString);
  const l = links({ materials: { keep: h('a') }, products: { a1: h('a'), b1: h('b'), b2: h('c') } });
  assert.throws(
    () => verifyItemRules('it', 'products', rules, l),
    (e) => {
      assert.deepEqual(e.artifacts, ['b1', 'b2']);
      assert.match(e.message, /'DISALLOW \*' matched the following artifacts: \["b1", "b2"\]/);
      assert.match(e.message, /item 'it'/);
      assert.match(e.message, /Available products \(used for queue\):\n\["a1", "b1", "b2"\]/);
      assert.match(e.message, /Queue after 'ALLOW a\*':\n\["b1", "b2"\]/);
      assert.deepEqual(e.trace.entries, [{ rule: ['ALLOW', 'a*'], queue: ['b1', 'b2'] }]);
      assert.equal(e.details.item, 'it');
      return true;
    },
  );
});

test('unpackRule: all MATCH forms, errors with INTOTO_BAD_RULE', () => {
  const forms = [
    'MATCH p WITH PRODUCTS FROM s',
    'MATCH p IN a WITH MATERIALS FROM s',
    'MATCH p WITH PRODUCTS IN b FROM s',
    'MATCH p IN a WITH PRODUCTS IN b FROM s',
  ];
  for (const f of forms) assert.deepEqual(packRule(unpackRule(shlexSplit(f))), shlexSplit(f));
  for (const bad of [
    ['FOO', 'x'],
    ['ALLOW'],
    ['ALLOW', 'a', 'b'],
    ['MATCH', 'p', 'WITH', 'STUFF', 'FROM', 's'],
    'ALLOW *',
    [1, 2],
  ]) {
    assert.throws(() => unpackRule(bad), { code: 'INTOTO_BAD_RULE' });
  }
  assert.deepEqual(shlexSplit(`MATCH "a b" IN 'c d' WITH PRODUCTS FROM x\\ y`), [
    'MATCH',
    'a b',
    'IN',
    'c d',
    'WITH',
    'PRODUCTS',
    'FROM',
    'x y',
  ]);
});

test('rules: 100 000 artifacts through MATCH/CREATE/DISALLOW (Set/Map based, not quadratic)', () => {
  const materials = {};
  const prev = {};
  const products = {};
  for (let i = 0; i < 100000; i++) {
    const p = `dir${i % 100}/file${i}.txt`;
    materials[p] = h('a');
    prev[p] = h('a');
    products[p] = h('a');
  }
  products['new.bin'] = h('b');
  const l = links({ materials, products }, { products: prev });
  verifyItemRules(
    'it',
    'materials',
    [
      ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'prev'],
      ['DISALLOW', '*'],
    ],
    l,
  );
  verifyItemRules(
    'it',
    'products',
    [
      ['CREATE', '*.bin'],
      ['MATCH', 'dir*', 'WITH', 'MATERIALS', 'FROM', 'it'],
      ['DISALLOW', '*'],
    ],
    l,
  );
});
