// Depth and number bounds of the in-toto layer (ADR 0007): every link, layout and key file
// is parsed behind parseJsonBounded (depth 64, integers within ±(2^53−1)), so thousands of
// nested arrays end in an INTOTO_BAD_FORMAT naming the file, never in "Maximum call stack
// size exceeded"; the in-memory walkers a library user can reach refuse the same depth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  canonicalBytes,
  encodeCanonical,
  loadPublicKeyFile,
  newLink,
  parseMetablock,
  parsePublicKey,
  pyJsonDumps,
  readMetablock,
  serializeMetablock,
  signMetablock,
  substituteParameters,
  verifyLayout,
  verifyMetablockSignature,
} from '../../dist/intoto/index.js';
import { tempDir } from '../helpers/tmp.js';
import { layout, makeKey, sha, step, writeLayout } from './helpers.js';

const CLI = fileURLToPath(new URL('../../dist/bin/cnabsec.cjs', import.meta.url));
const DEEP = 10000;

const nestedText = (n, inner = '0') => `${'['.repeat(n)}${inner}${']'.repeat(n)}`;
function nested(n) {
  let v = [];
  for (let i = 1; i < n; i++) v = [v];
  return v;
}

const linkText = (byproducts) =>
  `{"signatures": [], "signed": {"_type": "link", "byproducts": ${byproducts}, "command": [], "environment": {}, "materials": {}, "name": "s", "products": {}}}`;
const layoutText = (command) =>
  `{"signatures": [], "signed": {"_type": "layout", "expires": "2099-01-01T00:00:00Z", "inspect": [], "keys": {}, "readme": "", "steps": [{"_type": "step", "name": "a", "expected_command": ${command}, "expected_materials": [], "expected_products": [], "pubkeys": [], "threshold": 1}]}}`;

function refused(fn, json, what) {
  assert.throws(fn, (e) => {
    assert.equal(e.code, 'INTOTO_BAD_FORMAT', `${what}: ${e.message}`);
    if (json !== undefined) assert.equal(e.cause?.code, json, what);
    assert.ok(e.message.length < 300, `${what}: a bounded message`);
    return true;
  });
}

test('parseMetablock: deep links, layouts and signatures are refused before anything walks them', () => {
  const cases = {
    'link byproducts': linkText(`{"a": ${nestedText(DEEP)}}`),
    'layout expected_command': layoutText(nestedText(DEEP)),
    signatures: `{"signatures": [${nestedText(DEEP)}], "signed": {"_type": "link"}}`,
    'whole document': nestedText(DEEP),
    'objects, not arrays': linkText(`${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`),
  };
  for (const [what, text] of Object.entries(cases)) {
    refused(() => parseMetablock(text, 'f.link'), 'JSON_TOO_DEEP', what);
    refused(() => parseMetablock(Buffer.from(text), 'f.link'), 'JSON_TOO_DEEP', `${what} (bytes)`);
    assert.throws(() => parseMetablock(text, 'f.link'), { message: /^f\.link: JSON nested deeper than 64/ });
  }
  // the limit is 64 levels in the file: envelope, signed, byproducts and 61 arrays
  const at64 = parseMetablock(linkText(`{"a": ${nestedText(61, '1')}}`), 'f');
  assert.equal(canonicalBytes(at64.signed).length > 0, true, 'what parses also canonicalizes');
  refused(() => parseMetablock(linkText(`{"a": ${nestedText(62)}}`)), 'JSON_TOO_DEEP', '65 levels');
});

test('parseMetablock: only integers within ±(2^53-1) in links and layouts (ADR 0007)', () => {
  for (const n of [
    '1.5',
    '1.0',
    '1e3',
    '-2E2',
    '9007199254740992',
    '-9007199254740992',
    '18446744073709551617',
  ]) {
    refused(() => parseMetablock(linkText(`{"n": ${n}}`), 'f.link'), 'JSON_NUMBER_UNSAFE', n);
    refused(() => parseMetablock(layoutText(`[${n}]`), 'f.layout'), 'JSON_NUMBER_UNSAFE', `layout ${n}`);
  }
  for (const n of ['9007199254740991', '-9007199254740991', '0', '-0']) {
    const mb = parseMetablock(linkText(`{"n": ${n}}`), 'f.link');
    assert.equal(encodeCanonical(mb.signed.byproducts), `{"n":${n === '-0' ? '0' : n}}`);
  }
});

test('parseMetablock: bytes that are not UTF-8 are refused (python cannot read them)', () => {
  const text = Buffer.from(linkText('{"s": "\ufffd"}'));
  const at = text.indexOf(Buffer.from('\ufffd'));
  const bad = Buffer.concat([text.subarray(0, at), Buffer.from([0xff]), text.subarray(at + 3)]);
  assert.ok(parseMetablock(text, 'f.link'));
  assert.throws(() => parseMetablock(bad, 'f.link'), {
    code: 'INTOTO_BAD_FORMAT',
    message: /f\.link: not valid UTF-8/,
  });
});

test('verifying a document canonicalBytes refuses is a format error, not a key error', async (t) => {
  const key = await makeKey(await tempDir(t), 'k');
  const mb = {
    signed: newLink('s', { byproducts: { s: '\ud83d' } }),
    signatures: [{ keyid: key.keyid, sig: 'ab' }],
  };
  assert.throws(() => verifyMetablockSignature(mb, key.pub), { code: 'INTOTO_BAD_FORMAT' });
});

test('canonicalBytes: no BigInt digits; unsafe numbers, lone surrogates, deep and circular values refused', async (t) => {
  assert.equal(
    encodeCanonical([9007199254740991, -9007199254740991]),
    '[9007199254740991,-9007199254740991]',
  );
  for (const v of [2 ** 53, -(2 ** 53), 2 ** 60, 1e21, 1.5, NaN, Infinity, -Infinity]) {
    refused(() => canonicalBytes({ n: v }), undefined, String(v));
  }
  for (const s of ['\ud83d', 'a\ude00', '\ude00\ud83d']) {
    refused(() => canonicalBytes({ s }), undefined, 'lone surrogate value');
    refused(() => canonicalBytes({ [s]: 1 }), undefined, 'lone surrogate key');
  }
  assert.equal(encodeCanonical({ s: '\ud83d\ude00' }), '{"s":"😀"}');
  assert.doesNotThrow(() => canonicalBytes(nested(64)));
  refused(() => canonicalBytes(nested(65)), undefined, '65 levels');
  refused(() => canonicalBytes({ a: nested(64) }), undefined, '65 levels under an object');
  refused(() => canonicalBytes(nested(DEEP)), undefined, `${DEEP} levels`);
  let hash = { sha256: 'ab' }; // the one-entry string object shortcut counts too
  for (let i = 0; i < 64; i++) hash = { a: hash };
  refused(() => canonicalBytes(hash), undefined, 'hash object at level 65');
  const circular = { a: [] };
  circular.a.push(circular);
  refused(() => canonicalBytes(circular), undefined, 'circular');
  for (const indent of [1, null]) {
    refused(() => pyJsonDumps(nested(DEEP), indent), undefined, `pyJsonDumps ${indent}`);
    refused(() => serializeMetablock({ signed: { a: circular }, signatures: [] }), undefined, 'serialize');
  }
  // signing refuses what it could not sign as a python peer reads it
  const mb = { signed: newLink('s', { byproducts: { n: 2 ** 60 } }), signatures: [] };
  const key = await makeKey(await tempDir(t), 'k');
  await assert.rejects(signMetablock(mb, key.signer), { code: 'INTOTO_BAD_FORMAT' });
  assert.deepEqual(mb.signatures, []);
});

test('in-memory metadata: deep values give bounded errors, never a stack overflow', () => {
  const huge = 'x'.repeat(1 << 20);
  const deepSig = { signed: newLink('s'), signatures: [nested(DEEP)] };
  refused(() => readMetablock(deepSig, 'm'), undefined, 'deep signature');
  refused(
    () => readMetablock({ signed: newLink('s'), signatures: [{ keyid: huge }] }, 'm'),
    undefined,
    'huge',
  );
  refused(() => readMetablock({ signed: { _type: nested(DEEP) } }, 'm'), undefined, 'deep _type');
  const lay = layout([step('a', [], [], [], { expected_command: ['make', nested(DEEP)] })], []);
  refused(() => substituteParameters(lay, { X: 'y' }), undefined, 'substitute deep command');
  const rules = layout([step('a', [], [['ALLOW', nested(DEEP)]])], []);
  assert.throws(
    () => substituteParameters(rules, {}),
    (e) => e.code === 'INTOTO_BAD_FORMAT',
  );
  refused(
    () => substituteParameters(layout([], []), { [`${huge}!`]: 'v' }),
    undefined,
    'huge parameter name',
  );
});

test('verify: a deep layout (file or object) and a deep link (small or large) end in INTOTO_BAD_FORMAT', async (t) => {
  const dir = await tempDir(t);
  const owner = await makeKey(dir, 'owner');
  const alice = await makeKey(dir, 'alice');
  const keys = { [owner.keyid]: owner.pub };
  // a layout object built in memory, deep where signing walks it
  const deepLayout = layout([step('build', [alice], [], [], { expected_command: nested(DEEP) })], [alice]);
  await assert.rejects(verifyLayout({ signed: deepLayout, signatures: [] }, keys), {
    code: 'INTOTO_BAD_FORMAT',
  });
  // the same as a file, through the CLI: exit 1 with the code, not 70
  await writeFile(path.join(dir, 'deep.layout'), layoutText(nestedText(DEEP)));
  const r = await new Promise((resolve) =>
    execFile(
      process.execPath,
      [CLI, 'intoto', 'verify', '-l', 'deep.layout', '-k', 'owner.pub', '--json'],
      { cwd: dir, env: { ...process.env, CI: 'true' } },
      (err, stdout) => resolve({ code: err ? err.code : 0, stdout }),
    ),
  );
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).error.code, 'INTOTO_BAD_FORMAT');
  assert.equal(JSON.parse(r.stdout).error.cause.code, 'JSON_TOO_DEEP');
  // a deep link, signed over its canonical bytes (computed here: cnabsec itself refuses to)
  const layoutMb = await writeLayout(
    path.join(dir, 'root.layout'),
    layout([step('build', [alice], [['ALLOW', '*']], [['ALLOW', '*']])], [alice]),
    [owner],
  );
  const file = path.join(dir, `build.${alice.keyid.slice(0, 8)}.link`);
  for (const pad of [0, 1500]) {
    const materials = {};
    for (let i = 0; i < pad; i++) materials[`pad/${i}`] = sha('a');
    const canonical = encodeCanonical(newLink('build', { materials, byproducts: { d: 0 } }));
    const signed = canonical.replace('"d":0', `"d":${nestedText(DEEP)}`);
    const sig = Buffer.from(await alice.signer.sign(Buffer.from(signed))).toString('hex');
    await writeFile(file, `{"signatures":[{"keyid":"${alice.keyid}","sig":"${sig}"}],"signed":${signed}}`);
    await assert.rejects(
      verifyLayout(layoutMb, keys, { linkDir: dir }),
      (e) => e.code === 'INTOTO_BAD_FORMAT' && e.cause?.code === 'JSON_TOO_DEEP' && e.message.includes(file),
      `link of ${signed.length} bytes`,
    );
  }
});

test('key files: deep JSON keys are refused by their depth before parsing', async (t) => {
  const dir = await tempDir(t);
  const text = `{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": ${nestedText(DEEP, '"ab"')}}}`;
  const file = path.join(dir, 'deep.pub');
  await writeFile(file, text);
  for (const attempt of [() => parsePublicKey(text, 'deep.pub'), () => loadPublicKeyFile(file)]) {
    await assert.rejects(
      async () => attempt(),
      (e) => e.code === 'INTOTO_BAD_KEY' && e.cause?.code === 'JSON_TOO_DEEP',
    );
  }
});
