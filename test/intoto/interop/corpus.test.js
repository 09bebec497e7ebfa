// The verdict corpus: every case is built at test time in its own directory, then verified by
// the real python in-toto 1.3.1 (in-toto-verify, or its library when parameters are
// substituted, which its CLI cannot do) and by `cnabsec intoto verify` on the same files.
// Both verdicts must be equal, and equal to what the case is built to show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readFile, rm, copyFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { loadSigner, linkFileName, SIGNABLE_TEXT_MIN_BYTES_ENV } from '../../../dist/intoto/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeLink, writeLayout, step as mkStep, layout as mkLayout } from '../helpers.js';
import { SKIP, py, ours, python, PY_VERIFY_WITH_PARAMS } from './peer.js';
import { CASES } from './corpus-cases.js';

const sha = (s) => ({ sha256: createHash('sha256').update(s).digest('hex') });

/** Keys shared by all cases: some made by in-toto-keygen, some by `cnabsec intoto keygen`. */
async function makeKeys(dir) {
  const specs = [
    ['owner', 'ed25519', 'py'],
    ['owner2', 'ed25519', 'js'],
    ['owner-rsa', 'rsa', 'py'],
    ['owner-ec', 'ecdsa', 'js'],
    ['alice', 'ed25519', 'py'],
    ['bob', 'ecdsa', 'js'],
    ['carol', 'rsa', 'py'],
    ['dave', 'ed25519', 'js'],
  ];
  const keys = {};
  await Promise.all(
    specs.map(async ([name, type, by]) => {
      const r =
        by === 'py'
          ? await py('in-toto-keygen', ['-t', type, name], { cwd: dir })
          : await ours(['intoto', 'keygen', '-t', type, name], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const file = path.join(dir, name);
      const signer = await loadSigner(file, { passphrases: async () => '' });
      const pub = { ...signer.publicKey };
      keys[name] = { name, type, signer, pub, keyid: signer.keyid, file, pubFile: `${file}.pub` };
    }),
  );
  return keys;
}

/** The case toolbox: a standard chain checkout (alice) → build (bob) that verifies. */
function toolbox(dir, K) {
  const links = path.join(dir, 'links');
  const src = { 'src/a.c': sha('a'), 'src/b.c': sha('b') };
  const app = sha('app');
  const t = {
    dir,
    links,
    K,
    src,
    app,
    sha,
    step: mkStep,
    layout: mkLayout,
    link: (key, name, fields, into = links) => writeLink(into, key, name, fields),
    linkFile: (name, key) => path.join(links, linkFileName(name, key.keyid)),
    checkoutRules: () => [
      [],
      [
        ['CREATE', '*'],
        ['DISALLOW', '*'],
      ],
    ],
    buildRules: () => [
      [
        ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'checkout'],
        ['DISALLOW', '*'],
      ],
      [
        ['CREATE', 'app'],
        ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'checkout'],
        ['DISALLOW', '*'],
      ],
    ],
    /** Steps of the standard chain; `build` overrides the build step's fields. */
    steps(build = {}, checkout = {}) {
      const [cm, cp] = t.checkoutRules();
      const [bm, bp] = t.buildRules();
      return [
        mkStep('checkout', [K.alice], cm, cp, checkout),
        mkStep('build', [K.bob], bm, bp, { expected_command: ['make'], ...build }),
      ];
    },
    /** Write the standard links; fields override the build link. */
    async chainLinks(build = {}) {
      await mkdir(links, { recursive: true });
      await t.link(K.alice, 'checkout', { products: src });
      await t.link(K.bob, 'build', {
        materials: src,
        products: { ...src, app },
        command: ['make'],
        ...build,
      });
    },
    /** Sign and write root.layout with the given owners (default: owner). */
    writeLayout: (signed, owners = [K.owner]) => writeLayout(path.join(dir, 'root.layout'), signed, owners),
    functionaries: (...extra) => [K.alice, K.bob, ...extra],
  };
  return t;
}

const TYPE = { ed25519: 'ed25519', ecdsa: 'ecdsa', rsa: 'rsa' };

async function verdicts(dir, K, c) {
  const owners = (c.verifyWith ?? ['owner']).map((n) => K[n]);
  const linkDir = c.linkDir ?? 'links';
  const ourArgs = [
    'intoto',
    'verify',
    '-l',
    'root.layout',
    '-k',
    ...owners.map((k) => k.pubFile),
    '--link-dir',
    linkDir,
  ];
  if (c.params) for (const [k, v] of Object.entries(c.params)) ourArgs.push('--param', `${k}=${v}`);
  ourArgs.push('--inspection-timeout', String(c.inspectionTimeout ?? 30), '--json');
  const mine = await ours(ourArgs, { cwd: dir, timeout: 120000 });
  // The same verification with every link, however small, through the fast path of
  // signable-text.ts: the verdict must not depend on the size of a link.
  const fast = await ours(ourArgs, {
    cwd: dir,
    timeout: 120000,
    env: { [SIGNABLE_TEXT_MIN_BYTES_ENV]: '0' },
  });
  let theirs;
  if (c.params) {
    const files = JSON.stringify(owners.map((k) => k.pubFile));
    const types = JSON.stringify(owners.map((k) => TYPE[k.type]));
    theirs = await python(
      PY_VERIFY_WITH_PARAMS,
      ['root.layout', files, types, linkDir, JSON.stringify(c.params)],
      {
        cwd: dir,
        timeout: 120000,
      },
    );
  } else {
    const args = [
      '-l',
      'root.layout',
      '-k',
      ...owners.map((k) => k.pubFile),
      '-t',
      ...owners.map((k) => TYPE[k.type]),
    ];
    theirs = await py('in-toto-verify', [...args, '--link-dir', linkDir], { cwd: dir, timeout: 120000 });
  }
  const codeOf = (r) => {
    try {
      return r.code === 0 ? 'OK' : JSON.parse(r.stdout).error.code;
    } catch {
      return `unparsable output (exit ${r.code}): ${r.stdout} ${r.stderr}`;
    }
  };
  return {
    ours: mine.code === 0,
    python: theirs.code === 0,
    code: codeOf(mine),
    fastCode: codeOf(fast),
    pythonOut: theirs.stderr.trim().split('\n').pop(),
  };
}

test(
  `verdict corpus: ${CASES.length} cases, python in-toto-verify and cnabsec agree`,
  { skip: SKIP, timeout: 480000 },
  async (t) => {
    assert.ok(CASES.length >= 34);
    const root = await tempDir(t, 'cnabsec-corpus-');
    const K = await makeKeys(root);
    const results = new Array(CASES.length);
    let next = 0;
    const worker = async () => {
      while (next < CASES.length) {
        const i = next++;
        const c = CASES[i];
        const dir = path.join(root, `case-${String(i).padStart(2, '0')}`);
        await mkdir(path.join(dir, 'links'), { recursive: true });
        const tb = toolbox(dir, K);
        const extra = (await c.build(tb, { py, ours, readFile, writeFile, rm, copyFile, mkdir })) ?? {};
        results[i] = { c: { ...c, ...extra }, v: await verdicts(dir, K, { ...c, ...extra }) };
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    const lines = [];
    for (const { c, v } of results) {
      lines.push(
        `${c.expect === 'pass' ? 'PASS' : 'FAIL'} ${c.name}: python=${v.python ? 'pass' : 'fail'} ours=${v.ours ? 'pass' : 'fail'} (${v.code}) [python: ${v.pythonOut || 'ok'}]`,
      );
    }
    for (const line of lines) t.diagnostic(line);
    for (const { c, v } of results) {
      assert.equal(v.fastCode, v.code, `${c.name}: verdict with the fast path at every size`);
      assert.equal(
        v.python,
        (c.python ?? c.expect) === 'pass',
        `${c.name}: python verdict ${v.python}, python said: ${v.pythonOut}`,
      );
      // A case with its own python verdict is a documented deviation (docs/intoto.md).
      if (c.python === undefined) {
        assert.equal(
          v.ours,
          v.python,
          `${c.name}: verdicts differ: python ${v.python} ours ${v.ours} (${v.code}) python said: ${v.pythonOut}`,
        );
      }
      assert.equal(
        v.ours,
        c.expect === 'pass',
        `${c.name}: expected ${c.expect}, got ${v.code}; python said: ${v.pythonOut}`,
      );
      if (c.code !== undefined) assert.equal(v.code, c.code, `${c.name}: error code`);
    }
  },
);
