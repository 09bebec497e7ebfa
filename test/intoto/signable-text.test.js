import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  canonicalBytes,
  newLink,
  parseMetablockWithSignable,
  readMetablock,
  scanSignedText,
  pyJsonDumps,
  signableFromText,
  SIGNABLE_TEXT_MIN_BYTES,
  verifyLayout,
} from '../../dist/intoto/index.js';
import { tempDir } from '../helpers/tmp.js';
import { layout, makeKey, sha, step, writeLayout, writeLink } from './helpers.js';

const envelope = (signed) => ({ signatures: [{ keyid: 'ab', sig: 'cd' }], signed });

/** The property the fast path stands on: a result is always the canonical bytes of the parse. */
function assertSound(text) {
  const got = signableFromText(Buffer.from(text));
  if (got !== undefined) {
    const want = canonicalBytes(JSON.parse(text).signed);
    assert.equal(got.toString('utf8'), want.toString('utf8'), `text: ${text.slice(0, 200)}`);
  }
  return got;
}

test('signable text: python-formatted and compact links give the canonical bytes of signed', () => {
  const link = newLink('build', {
    materials: { 'src/a.c': sha('a'), 'src/b.c': sha('b') },
    products: { 'out/x y': { sha256: 'ab'.repeat(32), sha512: 'cd'.repeat(64) } },
    byproducts: { stdout: 'line 1\nline "2"\t\\ \u0001 é 😀 /', 'return-value': 0 },
    command: ['make', '-j', 4, true, null],
    environment: { n: -12, big: 9007199254740991, 'é😀\uffff': 'ü' },
  });
  for (const text of [pyJsonDumps(envelope(link)), pyJsonDumps(envelope(link), null)]) {
    assert.ok(
      assertSound(text),
      'python writes \\uXXXX, \\n, \\" escapes: decoded as canonical JSON writes them',
    );
  }
  const rawUtf8 = JSON.stringify(JSON.parse(pyJsonDumps(envelope(link), null))); // sorted keys kept
  assert.ok(assertSound(rawUtf8), 'raw UTF-8, \u0001 and \n escaped as JSON.stringify writes them');
  const spaced = `{"signatures":[] , "signed" :\t{"a": [ 1 ,2 ], "b" : {}, "c\\/": "\\/"}\r\n}`;
  assert.equal(assertSound(spaced).toString(), '{"a":[1,2],"b":{},"c/":"/"}');
  assert.equal(
    assertSound('{"signatures":[],"signed":{"a":"\\ud83d\\ude00\\u0022\\u005c"}}').toString(),
    '{"a":"😀\\"\\\\"}',
  );
});

test('signable text: refused whenever the text is not canonical up to whitespace and escapes', () => {
  const cases = {
    'top level unsorted': '{ "signed" :\t{"a": [ 1 ,2 ] } \r\n, "signatures":[]}',
    float: '{"signatures":[],"signed":{"a":1.5}}',
    'float 1.0': '{"signatures":[],"signed":{"a":1.0}}',
    exponent: '{"signatures":[],"signed":{"a":1e5}}',
    'exponent E': '{"signatures":[],"signed":{"a":[2E3]}}',
    'minus zero': '{"signatures":[],"signed":{"a":-0}}',
    'unsorted keys': '{"signatures":[],"signed":{"b":1,"a":2}}',
    'unsorted nested keys': '{"signatures":[],"signed":{"a":{"y":1,"x":2}}}',
    'unsorted once decoded': '{"signatures":[],"signed":{"\\u0062":1,"a":2}}',
    'duplicate keys': '{"signatures":[],"signed":{"a":1,"a":2}}',
    'duplicate keys once decoded': '{"signatures":[],"signed":{"a":1,"\\u0061":2}}',
    'quote in a key': '{"signatures":[],"signed":{"a\\"":1}}',
    'backslash in a key as \\u': '{"signatures":[],"signed":{"\\u005c":1}}',
    'lone high surrogate': '{"signatures":[],"signed":{"a":"\\ud83d"}}',
    'lone low surrogate': '{"signatures":[],"signed":{"a":"\\ude00x"}}',
    'signed not an object': '{"signatures":[],"signed":[1]}',
    'no signed': '{"signatures":[],"zigned":{}}',
  };
  for (const [name, text] of Object.entries(cases)) {
    JSON.parse(text); // valid JSON: the refusal is the fast path's own
    assert.equal(signableFromText(Buffer.from(text)), undefined, name);
  }
  const invalidUtf8 = Buffer.concat([
    Buffer.from('{"signatures":[],"signed":{"a":"'),
    Buffer.from([0xff]),
    Buffer.from('"}}'),
  ]);
  assert.equal(signableFromText(invalidUtf8), undefined, 'invalid UTF-8');
  const good = '{"signatures":[],"signed":{"a":"x\\u00e9"}}';
  assert.ok(signableFromText(Buffer.from(good)));
  for (let n = 0; n < good.length; n++) {
    assert.equal(signableFromText(Buffer.from(good.slice(0, n))), undefined, `not JSON: ${good.slice(0, n)}`);
  }
  assert.equal(
    signableFromText(Buffer.from('{"signatures":[],"signed":{"a":"\\x"}}')),
    undefined,
    'bad escape',
  );
  // true/false/null are fine, and an "e" in them is not an exponent
  const literals = '{"signatures":[],"signed":{"a":[true,false,null,10]}}';
  assert.equal(signableFromText(Buffer.from(literals)).toString(), '{"a":[true,false,null,10]}');
});

test('signable text: randomized documents never give other bytes than the canonical ones', () => {
  let seed = 12345;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = ['a', 'b', 'B', ' ', '/', 'é', '😀', '\uffff', '"', '\\', '\n', '0'];
  const str = () => Array.from({ length: rnd(4) }, () => alphabet[rnd(alphabet.length)]).join('');
  const value = (depth) => {
    const k = rnd(depth > 3 ? 5 : 8);
    if (k === 0) return str();
    if (k === 1) return [0, 7, -3, 2 ** 40, 1.5, -0][rnd(6)];
    if (k === 2) return [true, false, null][rnd(3)];
    if (k <= 4) return str();
    if (k === 5) return Array.from({ length: rnd(3) }, () => value(depth + 1));
    const o = {};
    for (let i = rnd(4); i > 0; i--) o[str()] = value(depth + 1);
    return o;
  };
  // Documents the fast path must take when python writes them: integers, keys without " or \\.
  const plain = (v) =>
    typeof v === 'number'
      ? Number.isInteger(v)
      : Array.isArray(v)
        ? v.every(plain)
        : v === null ||
          typeof v !== 'object' ||
          Object.entries(v).every(([k, x]) => !/["\\]/.test(k) && plain(x));
  const ws = [' ', '', '\n', '\t', '  \r\n'];
  let fast = 0;
  for (let i = 0; i < 3000; i++) {
    const doc = { signatures: [], signed: rnd(10) === 0 ? value(4) : { x: value(1), y: value(1) } };
    const texts = [JSON.stringify(doc), pyJsonDumps(doc), pyJsonDumps(doc, null)];
    if (
      typeof doc.signed === 'object' &&
      !Array.isArray(doc.signed) &&
      doc.signed !== null &&
      plain(doc.signed)
    ) {
      for (const text of texts.slice(1)) assert.ok(signableFromText(Buffer.from(text)), `refused: ${text}`);
    }
    // canonical text with random whitespace between tokens (valid JSON, same value)
    texts.push(
      JSON.stringify(doc, null, ws[rnd(ws.length)]).replace(/,/g, (c) =>
        rnd(2) ? c : `${ws[rnd(ws.length)]},`,
      ),
    );
    for (const text of texts) {
      try {
        canonicalBytes(JSON.parse(text).signed);
      } catch {
        assert.equal(signableFromText(Buffer.from(text)), undefined, `not canonicalizable: ${text}`);
        continue;
      }
      if (assertSound(text) !== undefined) fast++;
    }
  }
  assert.ok(fast > 1000, `the fast path was taken ${fast} times`);
});

test('parseMetablockWithSignable: only for links with every field python fills present', () => {
  const full = newLink('s', { materials: { a: sha('a') } });
  const text = Buffer.from(pyJsonDumps(envelope(full)));
  const withAll = parseMetablockWithSignable(text, 'f', 0);
  assert.equal(withAll.signable.toString(), canonicalBytes(withAll.mb.signed).toString());
  assert.equal(parseMetablockWithSignable(text, 'f').signable, undefined, 'small file: canonical path');
  const partial = { ...full };
  delete partial.byproducts;
  const filled = parseMetablockWithSignable(Buffer.from(pyJsonDumps(envelope(partial))), 'f', 0);
  assert.equal(
    filled.signable,
    undefined,
    'byproducts filled by the reader: the text is not what was signed',
  );
  assert.deepEqual(filled.mb.signed.byproducts, {});
  assert.throws(() => parseMetablockWithSignable(Buffer.from('{"signed": '), 'f.link'), {
    code: 'INTOTO_BAD_FORMAT',
    message: /f\.link: malformed JSON/,
  });
});

test('parseMetablockWithSignable: the scan checks artifact maps exactly as reading does', () => {
  const hex = 'ab'.repeat(32);
  const link = (materials, products = {}, extra = {}) =>
    pyJsonDumps(
      {
        signatures: [],
        signed: { ...newLink('s', { materials, products }), byproducts: { materials: 1 }, ...extra },
      },
      null,
    );
  const cases = {
    valid: link({ a: { sha256: hex } }, { b: { sha256: hex.toUpperCase(), sha512: hex } }),
    'valid, escaped path and digest': link({ 'é\n': { sha256: hex } }).replace(hex, `\\u0061${hex.slice(1)}`),
    'valid, empty hash object': link({ a: {} }),
    'valid, empty maps': link({}, {}),
    'non-hex digest': link({ a: { sha256: 'xyz' } }),
    'escaped non-hex digest': link({ a: { sha256: hex } }).replace(hex, `\\u0067${hex.slice(1)}`),
    'empty digest': link({}, { a: { sha256: '' } }),
    'digest a number': link({ a: { sha256: 12 } }),
    'digest null': link({ a: { sha256: null } }),
    'digest an object': link({ a: { sha256: { x: hex } } }),
    'digest a list': link({ a: { sha256: [hex] } }),
    'hash object a string': link({ a: hex }),
    'hash object a list': link({ a: [hex] }),
    'hash object true': link({ a: true }),
    'materials a list': link([]),
    'products a string': link({}, 'x'),
    'products null': link({}, {}, { products: null }),
  };
  for (const [name, text] of Object.entries(cases)) {
    let want;
    try {
      readMetablock(JSON.parse(text), 'f');
      want = 'ok';
    } catch (e) {
      want = e.code;
    }
    let got;
    try {
      parseMetablockWithSignable(Buffer.from(text), 'f', 0);
      got = 'ok';
    } catch (e) {
      got = e.code;
    }
    assert.equal(got, want, name);
    assert.equal(want === 'ok', name.startsWith('valid'), `${name}: ${want}`);
    assert.equal(scanSignedText(Buffer.from(text)).artifactsValid, want === 'ok', `${name}: scan`);
  }
});

test('verify: large links, reformatted or escaped, verify; a changed string does not', async (t) => {
  const dir = await tempDir(t);
  const owner = await makeKey(dir, 'owner');
  const alice = await makeKey(dir, 'alice');
  const rules = [
    ['ALLOW', 'out/*'],
    ['DISALLOW', '*'],
  ];
  const layoutMb = await writeLayout(
    path.join(dir, 'root.layout'),
    layout([step('build', [alice], [], rules)], [alice]),
    [owner],
  );
  const products = { 'out/a b': sha('a'), 'out/b': sha('b') };
  for (let i = 0; i < 12000; i++) products[`out/f${i}`] = sha('c');
  await writeLink(dir, alice, 'build', { products, byproducts: { stdout: 'done\n' } });
  const file = path.join(dir, `build.${alice.keyid.slice(0, 8)}.link`);
  const original = await readFile(file, 'utf8');
  assert.ok(JSON.stringify(JSON.parse(original)).length > SIGNABLE_TEXT_MIN_BYTES, 'large, even compact');
  const verify = () => verifyLayout(layoutMb, { [owner.keyid]: owner.pub }, { linkDir: dir });
  const fast = (text) => parseMetablockWithSignable(Buffer.from(text)).signable !== undefined;
  const parsed = JSON.parse(original);
  const variants = {
    'as written (python layout, \\n escaped)': { text: original, fast: true },
    compact: { text: JSON.stringify(parsed), fast: true },
    'escapes that decode to the signed path': {
      text: original.replace('out/a b', 'out/a\\u0020b').replace('out/b', 'out\\/b'),
      fast: true,
    },
    'signed before signatures (canonical path)': {
      text: JSON.stringify({ signed: parsed.signed, signatures: parsed.signatures }),
      fast: false,
    },
    'artifacts out of order (canonical path)': {
      text: original.replace(/("out\/a b": \{[^}]*\},)\n(\s*"out\/b": \{[^}]*\},)/, '$2\n$1'),
      fast: false,
    },
  };
  for (const [name, v] of Object.entries(variants)) {
    assert.equal(fast(v.text), v.fast, name);
    await writeFile(file, v.text);
    await verify();
  }
  for (const changed of [
    original.replace('out/a b', 'out/a  b'),
    original.replace('out/a b', 'out/a\\u0020 b'),
  ]) {
    await writeFile(file, changed);
    await assert.rejects(verify(), { code: 'INTOTO_THRESHOLD_NOT_MET' });
  }
});
