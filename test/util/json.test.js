import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseJsonBounded,
  scanJson,
  findUnsignableValue,
  compareCodePoints,
  isWellFormedString,
} from '../../dist/util/json.js';

const code = (fn) => {
  try {
    fn();
  } catch (e) {
    return e.code;
  }
  return 'none';
};

test('depth: refused past the limit before JSON.parse, accepted at it', () => {
  assert.equal(
    code(() => parseJsonBounded('['.repeat(64) + ']'.repeat(64), { source: 'x' })),
    'none',
  );
  assert.equal(
    code(() => parseJsonBounded('['.repeat(65) + ']'.repeat(65), { source: 'x' })),
    'JSON_TOO_DEEP',
  );
  // 100 000 levels: linear, no stack overflow
  assert.equal(
    code(() => parseJsonBounded('['.repeat(100000), { source: 'x' })),
    'JSON_TOO_DEEP',
  );
  // brackets inside strings do not count, escaped quotes do not end strings
  assert.equal(scanJson(JSON.stringify({ a: '[[[[\\"[[[' + '['.repeat(200) })).depth, 1);
});

test('numbers: fractions, exponents and unsafe integers refused when integersOnly', () => {
  const opts = { source: 'x', integersOnly: true };
  for (const t of [
    '{"a":1.5}',
    '{"a":1.0}',
    '{"a":1e21}',
    '{"a":1E2}',
    '[9007199254740992]',
    '[-9007199254740992]',
    '[12345678901234567890]',
  ])
    assert.equal(
      code(() => parseJsonBounded(t, opts)),
      'JSON_NUMBER_UNSAFE',
      t,
    );
  for (const t of ['[9007199254740991]', '[-9007199254740991]', '[0]', '{"a":"1.5e3"}', '[-1]'])
    assert.equal(
      code(() => parseJsonBounded(t, opts)),
      'none',
      t,
    );
  assert.equal(
    code(() => parseJsonBounded('{"a":1.5}', { source: 'x' })),
    'none',
  );
});

test('size and syntax', () => {
  assert.equal(
    code(() => parseJsonBounded('[1,2]', { source: 'x', maxBytes: 4 })),
    'JSON_TOO_LARGE',
  );
  assert.equal(
    code(() => parseJsonBounded('{', { source: 'x' })),
    'JSON_SYNTAX',
  );
  assert.equal(
    code(() => parseJsonBounded(Buffer.from('[1]'), { source: 'x' })),
    'none',
  );
});

test('findUnsignableValue: the first place peers would disagree', () => {
  assert.equal(findUnsignableValue({ a: [1, 'x', null, true, { b: 2 }] }), undefined);
  assert.equal(findUnsignableValue({ a: { x: 1.5 } }).path, '/a/x');
  assert.equal(findUnsignableValue({ a: 1e21 }).path, '/a');
  assert.equal(findUnsignableValue({ a: '\ud800' }).path, '/a');
  // U+FF01 sorts after U+1F600 by UTF-16 unit (D83D < FF01) but before it by code point
  assert.match(findUnsignableValue({ c: { '\uff01': 1, '\u{1f600}': 2 } }).reason, /UTF-16/);
  assert.equal(findUnsignableValue({ '\u{1f600}': 1, a: 2 }), undefined);
});

test('compareCodePoints orders as python str does', () => {
  assert.ok(compareCodePoints('\uff01', '\u{1f600}') < 0);
  assert.ok(compareCodePoints('a', 'b') < 0);
  assert.ok(compareCodePoints('ab', 'a') > 0);
  assert.equal(isWellFormedString('\u{1f600}'), true);
  assert.equal(isWellFormedString('a\udc00'), false);
});
