// Relocation maps (CNAB doc 103; src/registry/relocation.ts): checked wherever one enters
// (readRelocationMap for a file, bundleToOci's relocationMap option), so a non-string value, a
// huge map or key, or a file that is not a JSON object is REGISTRY_BAD_RELOCATION naming the
// key or the file, never a TypeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { bundleToOci, checkRelocationMap, readRelocationMap } from '../../dist/registry/index.js';
import { tempDir } from '../helpers/tmp.js';

const A = `sha256:${'a'.repeat(64)}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const bundle = () => ({
  schemaVersion: 'v1.0.0',
  name: 'b',
  version: '1.0.0',
  invocationImages: [
    { imageType: 'oci', image: 'example.com/org/inv', contentDigest: A, size: 5, mediaType: OCI_MANIFEST },
  ],
});
// the doc 103 example (spec/examples/103.01-relocation-mapping.json)
const DOC_103 = {
  'example/microservice@sha256:cca460afa270d4c527981ef9ca4989346c56cf9b20217dcea37df1ece8120687':
    'my.registry/microservice@sha256:cca460afa270d4c527981ef9ca4989346c56cf9b20217dcea37df1ece8120687',
  'outside/helloworld:0.1.0': 'my.registry/helloworld:0.1.0',
};

const bad = (re) => (e) =>
  e.code === 'REGISTRY_BAD_RELOCATION' && re.test(e.message) && !e.message.includes('\n') && Boolean(e.hint);

test('readRelocationMap reads the doc 103 example; checkRelocationMap keeps only own string entries', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'relocation.json');
  await writeFile(file, JSON.stringify(DOC_103));
  assert.deepEqual(readRelocationMap(file), DOC_103);
  const parsed = checkRelocationMap(JSON.parse('{"__proto__":"x/y@' + A + '"}'));
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.equal(Object.hasOwn(parsed, '__proto__'), true);
  assert.deepEqual(checkRelocationMap({}), {});
});

test('non-string values, bad keys and too many entries are REGISTRY_BAD_RELOCATION naming the key', () => {
  const key = 'example.com/org/inv';
  for (const [value, re] of [
    [{ [key]: 5 }, /entry "example\.com\/org\/inv" maps to a number, not a string/],
    [{ [key]: null }, /maps to null/],
    [{ [key]: { image: 'x' } }, /maps to an object/],
    [{ [key]: ['x'] }, /maps to an array/],
    [{ [key]: '' }, /the value of entry "example\.com\/org\/inv" is empty/],
    [{ [key]: 'a b' }, /whitespace or a control character/],
    [{ [key]: `x/${'y'.repeat(1100)}` }, /more than 1024/],
    [{ ['k'.repeat(1100)]: 'x/y' }, /the key of entry .* more than 1024/],
    [[], /is an array, not a JSON object/],
    [null, /is null/],
    ['x', /is a string/],
  ]) {
    assert.throws(() => checkRelocationMap(value, 'the map'), bad(re), JSON.stringify(value).slice(0, 80));
  }
  const many = Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`img${i}`, `r/img${i}@${A}`]));
  assert.throws(() => checkRelocationMap(many), bad(/4097 entries, more than 4096/));
});

test('bundleToOci refuses a bad relocationMap option by key, before any layout work (no TypeError)', () => {
  assert.throws(
    () => bundleToOci(bundle(), { relocationMap: { 'example.com/org/inv': 42 } }),
    bad(/relocation map: entry "example\.com\/org\/inv" maps to a number/),
  );
  assert.throws(() => bundleToOci(bundle(), { relocationMap: 'nope' }), bad(/is a string/));
  // a good map still relocates
  const layout = bundleToOci(bundle(), {
    relocationMap: { 'example.com/org/inv': `my.registry/org/b@${A}` },
    target: { registry: 'my.registry', repository: 'org/b' },
  });
  assert.equal(layout.children[1].digest, A);
});

test('relocation files: missing, not JSON, too large, not an object are refused naming the file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'r.json');
  assert.throws(() => readRelocationMap(file), bad(/r\.json: cannot be read \(ENOENT\)/));
  assert.throws(() => readRelocationMap(dir), bad(/cannot be read \(EISDIR\)/));
  await writeFile(file, '{"a":');
  assert.throws(() => readRelocationMap(file), bad(/r\.json: is not valid JSON/));
  await writeFile(file, '[1,2]');
  assert.throws(() => readRelocationMap(file), bad(/r\.json: is an array/));
  await writeFile(file, JSON.stringify({ 'a/b': 7 }));
  assert.throws(() => readRelocationMap(file), bad(/r\.json: entry "a\/b" maps to a number/));
  await writeFile(file, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
  assert.throws(() => readRelocationMap(file), bad(/more than the limit of 4194304/));
});
