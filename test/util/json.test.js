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

// The reference scan, one character at a time (the form before strings were skipped by indexOf).
function referenceScan(text, maxDepth = 64) {
  const out = { depth: 0, tooDeepAt: -1, nonInteger: undefined, unsafeInteger: undefined };
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length; i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '"') break;
      }
    } else if (c === '[' || c === '{') {
      depth++;
      out.depth = Math.max(out.depth, depth);
      if (depth > maxDepth) {
        out.tooDeepAt = i;
        return out;
      }
    } else if (c === ']' || c === '}') depth--;
    else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      let integer = true;
      for (; j < text.length && /[0-9.eE+-]/.test(text[j]); j++) if (!/[0-9]/.test(text[j])) integer = false;
      const tok = text.slice(i, j);
      const digits = tok.replace(/^-/, '');
      const unsafe = digits.length > 16 || (digits.length === 16 && digits > '9007199254740991');
      if (!integer) out.nonInteger ??= tok;
      else if (unsafe) out.unsafeInteger ??= tok;
      i = j - 1;
    }
  }
  return out;
}

test('scanJson gives the character-by-character scan’s answer on random text (escapes, quotes, brackets)', () => {
  let seed = 12345;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const alphabet = [
    '"',
    '\\',
    '\\\\',
    '\\"',
    '[',
    ']',
    '{',
    '}',
    '1',
    '-',
    '.',
    'e',
    '9007199254740993',
    'a',
    ' ',
    ':',
    ',',
  ];
  for (let k = 0; k < 5000; k++) {
    let text = '';
    const len = rnd(60);
    for (let i = 0; i < len; i++) text += alphabet[rnd(alphabet.length)];
    assert.deepEqual(scanJson(text, 4), referenceScan(text, 4), JSON.stringify(text));
  }
});
