// Interop with the real python in-toto 1.3.1: keys both ways, byte-identical ed25519
// signatures and files, canonical JSON, fnmatch and exclude patterns, artifact recording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile, symlink, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import {
  loadSigner,
  loadPublicKeyFile,
  parseMetablock,
  serializeMetablock,
  signMetablock,
  encodeCanonical,
  fnmatch,
  ExcludeFilter,
  recordArtifacts,
} from '../../../dist/intoto/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { SKIP, py, python, ours } from './peer.js';

const passphrases = async () => 'pw';

test(
  'keys: in-toto-keygen keys load here with the same key ids; our keys load in python',
  { skip: SKIP },
  async (t) => {
    const dir = await tempDir(t);
    const o = { cwd: dir };
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      assert.equal((await py('in-toto-keygen', ['-t', type, `py-${type}`], o)).code, 0);
      assert.equal(
        (await py('in-toto-keygen', ['-p', '-t', type, `pyenc-${type}`], { ...o, input: 'pw\npw\n' })).code,
        0,
      );
      assert.equal((await ours(['intoto', 'keygen', '-t', type, `js-${type}`], o)).code, 0);
      assert.equal(
        (
          await ours(['intoto', 'keygen', '-p', '-t', type, `jsenc-${type}`], {
            ...o,
            env: { CNABSEC_PASSPHRASE: 'pw' },
          })
        ).code,
        0,
      );
    }
    const names = (await readdir(dir)).filter((n) => !n.endsWith('.pub'));
    const script = `
import sys, json
from securesystemslib import interface
out = {}
for name in sys.argv[1:]:
    t = name.split('-')[1]
    pw = 'pw' if 'enc' in name else None
    priv = interface.import_privatekey_from_file(name, t, password=pw)
    pub = list(interface.import_publickeys_from_file([name + '.pub'], [t]).values())[0]
    out[name] = [priv['keyid'], pub['keyid']]
print(json.dumps(out))`;
    const r = await python(script, names, o);
    assert.equal(r.code, 0, r.stderr);
    const pyIds = JSON.parse(r.stdout);
    for (const name of names) {
      const signer = await loadSigner(path.join(dir, name), { passphrases });
      const pub = await loadPublicKeyFile(path.join(dir, `${name}.pub`));
      assert.deepEqual([signer.keyid, pub.keyid], pyIds[name], name);
    }
  },
);

test(
  'ed25519: our signature over the same payload and key is byte-identical to python',
  { skip: SKIP },
  async (t) => {
    const dir = await tempDir(t);
    const o = { cwd: dir };
    await py('in-toto-keygen', ['-t', 'ed25519', 'k'], o);
    await writeFile(path.join(dir, 'f.txt'), 'é unicode \u0001 "quoted" \\ back\r\n');
    const r = await py(
      'in-toto-run',
      ['-n', 'ünï', '-k', 'k', '-t', 'ed25519', '-m', 'f.txt', '-p', 'f.txt', '-s', '--', 'echo', 'ö "x"'],
      o,
    );
    assert.equal(r.code, 0, r.stderr);
    const file = (await readdir(dir)).find((n) => n.endsWith('.link'));
    const text = await readFile(path.join(dir, file), 'utf8');
    const theirs = parseMetablock(text, file);
    assert.equal(serializeMetablock(theirs), text, 'file bytes as python dumps them');
    const mine = { signed: theirs.signed, signatures: [] };
    await signMetablock(mine, await loadSigner(path.join(dir, 'k'), { passphrases }));
    assert.deepEqual(mine.signatures, theirs.signatures);
  },
);

test('canonical JSON is byte-identical to securesystemslib encode_canonical', { skip: SKIP }, async () => {
  const objects = [
    {
      'b\u00e9': ['\u0000\u001f\u007f', 'quote"back\\slash', '😀', '\uffff'],
      a: { '😀': 1, '\uffff': 2, z: 3, '': null },
    },
    { n: [0, -1, 123456789012, true, false], s: '\n\r\t\b\f' },
  ];
  const r = await python(
    'import sys, json\nfrom securesystemslib.formats import encode_canonical\nprint(json.dumps([encode_canonical(o) for o in json.loads(sys.argv[1])]))',
    [JSON.stringify(objects)],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), objects.map(encodeCanonical));
});

function randomStrings(seed, n, alphabet, maxLen) {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () =>
    Array.from(
      { length: Math.floor(rnd() * (maxLen + 1)) },
      () => alphabet[Math.floor(rnd() * alphabet.length)],
    ).join(''),
  );
}

test('fnmatch agrees with python on 20 000 random cases', { skip: SKIP }, async () => {
  const pats = randomStrings(1, 20000, ['a', 'b', '-', '!', '[', ']', '*', '?', '/', '\\', '^', 'é'], 8);
  const names = randomStrings(2, 20000, ['a', 'b', '-', '/', '!', ']', '^', '\\', '[', 'é'], 6);
  const r = await python(
    'import sys, json, fnmatch\nd = json.load(sys.stdin)\nprint(json.dumps([fnmatch.fnmatch(n, p) for n, p in zip(d[0], d[1])]))',
    [],
    { input: JSON.stringify([names, pats]) },
  );
  assert.equal(r.code, 0, r.stderr);
  const want = JSON.parse(r.stdout);
  const bad = names.filter((n, i) => fnmatch(n, pats[i]) !== want[i]).length;
  assert.equal(bad, 0);
});

test('exclude patterns agree with python pathspec gitwildmatch', { skip: SKIP }, async () => {
  const pats = randomStrings(3, 3000, ['*', '**', 'a', '/', '.', '?', '[a-b]', '!', 'x*', '.git', '~'], 4);
  const paths = [
    'a',
    'a/b',
    'a/b/c',
    '.git',
    '.git/x',
    'x.pyc',
    'd/x.pyc',
    'foo.link',
    'a~',
    'b/a',
    'a.b',
    'x/.git/y',
  ];
  const r = await python(
    `import sys, json
from pathspec import PathSpec
out = []
for p in json.load(sys.stdin):
    try:
        s = PathSpec.from_lines('gitwildmatch', [p])
        out.append([s.match_file(x) for x in ${JSON.stringify(paths)}])
    except Exception:
        out.append(None)
print(json.dumps(out))`,
    [],
    { input: JSON.stringify(pats) },
  );
  assert.equal(r.code, 0, r.stderr);
  const want = JSON.parse(r.stdout);
  pats.forEach((p, i) => {
    let got;
    try {
      const f = new ExcludeFilter([p]);
      got = paths.map((x) => f.excludes(x));
    } catch {
      got = null;
    }
    assert.deepEqual(got, want[i], `pattern ${JSON.stringify(p)}`);
  });
});

test(
  'recording: same artifacts as in-toto-run (symlinks, excludes, base path, line endings)',
  { skip: SKIP },
  async (t) => {
    const dir = await tempDir(t);
    const tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'src/sub'), { recursive: true });
    await mkdir(path.join(tree, '.git'));
    await mkdir(path.join(dir, 'elsewhere'));
    await writeFile(path.join(dir, 'elsewhere/e.txt'), 'e');
    await writeFile(path.join(tree, 'src/a.txt'), 'a\r\nb\rc\n');
    await writeFile(path.join(tree, 'src/sub/b.bin'), Buffer.from([0, 13, 13, 10, 255]));
    await writeFile(path.join(tree, 'src/x.pyc'), 'x');
    await writeFile(path.join(tree, 'src/tmp~'), 't');
    await writeFile(path.join(tree, '.git/HEAD'), 'h');
    await writeFile(path.join(tree, 'top.link'), 'l');
    await symlink('a.txt', path.join(tree, 'src/ln'));
    await symlink('../../elsewhere', path.join(tree, 'src/dirlink'));
    await symlink('nowhere', path.join(tree, 'src/broken'));
    // in-toto-run has no --normalize-line-endings in 1.3.1: call its library as in-toto-run does.
    const script = `
import sys, json
from in_toto import runlib
a = json.loads(sys.argv[1])
print(json.dumps(runlib.record_artifacts_as_dict(a["paths"], exclude_patterns=a.get("exclude"),
    base_path=a["base"], follow_symlink_dirs=True, normalize_line_endings=a.get("eol", False))))`;
    for (const [paths, opts] of [
      [['.'], {}],
      [['src'], { normalizeLineEndings: true }],
      [['src', 'top.link', 'nope', './src/../src/a.txt'], { excludePatterns: ['sub', '*.txt'] }],
    ]) {
      const arg = {
        paths,
        base: tree,
        exclude: opts.excludePatterns ?? null,
        eol: opts.normalizeLineEndings === true,
      };
      const r = await python(script, [JSON.stringify(arg)], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const mine = await recordArtifacts(paths, { basePath: tree, ...opts });
      assert.deepEqual(mine, JSON.parse(r.stdout), JSON.stringify(arg));
    }
  },
);
