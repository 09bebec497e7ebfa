import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCanonical, pyJsonDumps, compareCodePoints } from '../../dist/intoto/index.js';

test('canonical JSON: sorted keys, no whitespace, only \\ and " escaped, raw non-ASCII and controls', () => {
  assert.equal(encodeCanonical({ b: 1, a: [true, false, null, 'x'] }), '{"a":[true,false,null,"x"],"b":1}');
  assert.equal(encodeCanonical('q"b\\s'), '"q\\"b\\\\s"');
  assert.equal(encodeCanonical('é\n\t\u0001😀'), '"é\n\t\u0001😀"');
  assert.equal(encodeCanonical([]), '[]');
  assert.equal(encodeCanonical({}), '{}');
});

test('canonical JSON: keys in code point order (astral after U+FFFF), floats refused', () => {
  const obj = { '\uffff': 1, '😀': 2, z: 3, é: 4 };
  assert.equal(encodeCanonical(obj), '{"z":3,"é":4,"\uffff":1,"😀":2}');
  assert.ok(compareCodePoints('😀', '\uffff') > 0);
  assert.ok('😀' < '\uffff', 'UTF-16 order differs, which is why the own encoder exists');
  assert.throws(() => encodeCanonical({ a: 1.5 }), { code: 'INTOTO_BAD_FORMAT' });
  assert.throws(() => encodeCanonical({ a: undefined }), { code: 'INTOTO_BAD_FORMAT' });
});

test('python json.dumps(indent=1, sort_keys=True) layout and ASCII escapes', () => {
  assert.equal(
    pyJsonDumps({ b: [], a: { y: [1, 'é'] }, c: {} }),
    '{\n "a": {\n  "y": [\n   1,\n   "\\u00e9"\n  ]\n },\n "b": [],\n "c": {}\n}',
  );
  assert.equal(pyJsonDumps('😀\u007f\b\u001f"\\'), '"\\ud83d\\ude00\\u007f\\b\\u001f\\"\\\\"');
  assert.equal(pyJsonDumps({ a: [1, 2] }, null), '{"a":[1,2]}');
});
