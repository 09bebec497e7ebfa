// Non-integers in JSON (1.5, 1e3, 1.0) in a bundle.json, --custom, root metadata or a link:
// the message says "CNAB and TUF allow only integers", never "truncated" (issue 12 item 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { parseMetablock } from '../../dist/intoto/index.js';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLE = {
  schemaVersion: 'v1.0.0',
  name: 'ints',
  version: '0.1.0',
  invocationImages: [{ imageType: 'docker', image: 'cnab/ints:0.1.0' }],
  definitions: { port: { type: 'integer', default: 8080 } },
};

function refusedWithIntegers(r, code, what, hint = /\n {2}hint: write the number as an integer/) {
  assert.equal(r.status, 1, `${what}: ${r.stderr}`);
  assert.match(
    r.stderr,
    new RegExp(`^cnabsec: error \\[${code}\\]: .*CNAB and TUF allow only integers`),
    what,
  );
  assert.match(r.stderr, hint, what);
  assert.doesNotMatch(r.stderr, /truncated/, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, what);
}

test('bundle add, --custom and trust add refuse non-integers naming the rule', async (t) => {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', repo, '--name', 'example.com/org/ints'], { env });
  cliOk(['publish', repo], { env });
  const before = await snapshotTree(repo);
  const canonical = canonicalize(BUNDLE);
  for (const n of ['1.5', '1e3', '1.0', '-2E2']) {
    const file = path.join(dir, `b-${n}.json`);
    await writeFile(file, canonical.replace('"default":8080', `"default":${n}`));
    refusedWithIntegers(
      runCli(['bundle', 'add', repo, 'v1', '--thin', file], { env }),
      'BUNDLE_NOT_CANONICAL',
      n,
    );
  }
  const good = path.join(dir, 'bundle.json');
  await writeFile(good, canonical);
  const custom = path.join(dir, 'custom.json');
  await writeFile(custom, '{"a": 1.5}');
  refusedWithIntegers(
    runCli(['bundle', 'add', repo, 'v1', '--thin', good, '--custom', custom], { env }),
    'UNSIGNABLE_VALUE',
    '--custom',
    /\n {2}hint: signed metadata may hold only integers/,
  );
  assert.deepEqual(await snapshotTree(repo), before, 'nothing staged');

  const root = await readFile(path.join(repo, 'metadata', '1.root.json'), 'utf8');
  const floatRoot = path.join(dir, 'float-root.json');
  await writeFile(floatRoot, root.replace('"version":1', '"version":1.5'));
  assert.notEqual(await readFile(floatRoot, 'utf8'), root, 'set-up: the root holds 1.5');
  refusedWithIntegers(
    runCli(['trust', 'add', 'example.com/org/ints', '--root', floatRoot, '--url', 'http://127.0.0.1:9/'], {
      env,
    }),
    'REPO_CORRUPT',
    'trust add',
  );
});

test('a link with 1e3 is refused with the integers rule', () => {
  const link = JSON.stringify({
    signatures: [],
    signed: {
      _type: 'link',
      name: 'build',
      command: [],
      materials: {},
      products: {},
      byproducts: { 'return-value': 0 },
      environment: {},
    },
  }).replace('"return-value":0', '"return-value":1e3');
  assert.throws(
    () => parseMetablock(link, 'build.abcd1234.link'),
    (e) => {
      assert.equal(e.code, 'INTOTO_BAD_FORMAT');
      assert.match(e.message, /number "1e3" is not an integer: CNAB and TUF allow only integers/);
      assert.match(e.hint, /write the number as an integer/);
      return true;
    },
  );
});
