// Cases of the verdict corpus (see corpus.test.js). `build(t, io)` writes root.layout and
// links/ into t.dir and may return overrides ({verifyWith, linkDir, params, inspectionTimeout}).
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { encodeCanonical, newLink } from '../../../dist/intoto/index.js';

const R = (s) => s.split(' ');
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

/** The standard chain with build step/link overrides. */
async function standard(t, { build = {}, buildLink = {}, extra = {}, owners } = {}) {
  await t.chainLinks(buildLink);
  await t.writeLayout(t.layout(t.steps(build), t.functionaries(), extra), owners);
}

/** Standard chain whose build products and product rules are replaced. */
async function buildProducts(t, products, rules, materials) {
  await t.chainLinks({ products, ...(materials ? { materials } : {}) });
  const [bm] = t.buildRules();
  await t.writeLayout(
    t.layout(t.steps({ expected_products: rules.map(R), expected_materials: bm }), t.functionaries()),
  );
}

/** Standard chain plus one inspection; `files` are written into the case directory first. */
async function withInspection(t, io, inspection, files = {}) {
  for (const [name, content] of Object.entries(files)) await io.writeFile(path.join(t.dir, name), content);
  await t.chainLinks({ products: { ...t.src, app: t.app, 'app.txt': { sha256: sha256('release\n') } } });
  const [bm, bp] = t.buildRules();
  const steps = t.steps({ expected_materials: bm, expected_products: [['ALLOW', 'app.txt'], ...bp] });
  const insp = {
    _type: 'inspection',
    expected_materials: [['ALLOW', '*']],
    expected_products: [['ALLOW', '*']],
    ...inspection,
  };
  await t.writeLayout(t.layout(steps, t.functionaries(), { inspect: [insp] }));
}

/**
 * The standard chain, whose build link is then replaced by one signed over `bytes(canonical)`:
 * the canonical bytes of the standard build link with byproducts {"n": 1, "x": 2, "x ": 3},
 * edited by the case (a non-canonical key order, a number python reads exactly and we cannot).
 * The file is the compact text `{"signatures":[...],"signed":<signed bytes>}`, which every
 * cnabsec threshold sends through the fast path of signable-text.ts; `fileEdit` may then
 * change the file text (not the signed bytes).
 */
async function signedOver(t, io, edit, fileEdit = (text) => text) {
  await standard(t);
  const signed = newLink('build', {
    materials: t.src,
    products: { ...t.src, app: t.app },
    command: ['make'],
    byproducts: { n: 1, x: 2, 'x ': 3 },
  });
  const canonical = encodeCanonical(signed);
  const bytes = edit(canonical);
  if (bytes === canonical) throw new Error('the edit changed nothing');
  const sig = Buffer.from(await t.K.bob.signer.sign(Buffer.from(bytes))).toString('hex');
  const text = `{"signatures":[{"keyid":"${t.K.bob.keyid}","sig":"${sig}"}],"signed":${bytes}}`;
  await io.writeFile(t.linkFile('build', t.K.bob), fileEdit(text));
}

export const CASES = [
  { name: 'basic chain (our links and layout)', expect: 'pass', build: (t) => standard(t) },
  {
    name: 'links by python in-toto-run, layout signed by in-toto-sign',
    expect: 'pass',
    async build(t, io) {
      const { K } = t;
      await io.mkdir(path.join(t.dir, 'src'));
      await io.writeFile(path.join(t.dir, 'src/a.c'), 'a');
      await io.writeFile(path.join(t.dir, 'src/b.c'), 'b');
      const o = { cwd: t.dir };
      let r = await io.py(
        'in-toto-run',
        ['-n', 'checkout', '-k', K.alice.file, '-t', 'ed25519', '-p', 'src', '-d', 'links', '-x'],
        o,
      );
      if (r.code !== 0) throw new Error(r.stderr);
      r = await io.py(
        'in-toto-run',
        [
          '-n',
          'build',
          '-k',
          K.carol.file,
          '-t',
          'rsa',
          '-m',
          'src',
          '-p',
          'src',
          'app',
          '-d',
          'links',
          '-s',
          '--',
          'sh',
          '-c',
          'echo bin > app',
        ],
        o,
      );
      if (r.code !== 0) throw new Error(r.stderr);
      const [bm, bp] = t.buildRules();
      const steps = [t.step('checkout', [K.alice], ...t.checkoutRules()), t.step('build', [K.carol], bm, bp)];
      await t.writeLayout(t.layout(steps, [K.alice, K.carol]), []);
      r = await io.py('in-toto-sign', ['-f', 'root.layout', '-k', K.owner.file, '-t', 'ed25519'], o);
      if (r.code !== 0) throw new Error(r.stderr);
    },
  },
  {
    name: 'links by cnabsec intoto run/record (key files of both tools), layout signed by cnabsec intoto sign',
    expect: 'pass',
    async build(t, io) {
      const { K } = t;
      await io.mkdir(path.join(t.dir, 'src'));
      await io.writeFile(path.join(t.dir, 'src/a.c'), 'a');
      await io.writeFile(path.join(t.dir, 'src/b.c'), 'b');
      const o = { cwd: t.dir };
      for (const args of [
        ['record', 'start', '-n', 'checkout', '-k', K.alice.file],
        ['record', 'stop', '-n', 'checkout', '-k', K.alice.file, '-p', 'src', '-d', 'links'],
        [
          'run',
          '-n',
          'build',
          '-k',
          K.carol.file,
          '-m',
          'src',
          '-p',
          'src',
          'app',
          '-d',
          'links',
          '--',
          'sh',
          '-c',
          'echo bin > app',
        ],
      ]) {
        const r = await io.ours(['intoto', ...args], o);
        if (r.code !== 0) throw new Error(r.stderr);
      }
      const [bm, bp] = t.buildRules();
      const steps = [t.step('checkout', [K.alice], ...t.checkoutRules()), t.step('build', [K.carol], bm, bp)];
      await t.writeLayout(t.layout(steps, [K.alice, K.carol]), []);
      const r = await io.ours(['intoto', 'sign', 'root.layout', '-k', K.owner.file], o);
      if (r.code !== 0) throw new Error(r.stderr);
    },
  },
  {
    name: 'rsa layout owner',
    expect: 'pass',
    build: (t) => standard(t, { owners: [t.K['owner-rsa']] }).then(() => ({ verifyWith: ['owner-rsa'] })),
  },
  {
    name: 'ecdsa layout owner',
    expect: 'pass',
    build: (t) => standard(t, { owners: [t.K['owner-ec']] }).then(() => ({ verifyWith: ['owner-ec'] })),
  },
  {
    name: 'tampered link',
    expect: 'fail',
    code: 'INTOTO_THRESHOLD_NOT_MET',
    async build(t, io) {
      await standard(t);
      const f = t.linkFile('build', t.K.bob);
      await io.writeFile(f, (await io.readFile(f, 'utf8')).replace(t.app.sha256, 'ff'.repeat(32)));
    },
  },
  {
    name: 'link signed by an unauthorized key',
    expect: 'fail',
    code: 'INTOTO_THRESHOLD_NOT_MET',
    async build(t, io) {
      await standard(t);
      await t.link(t.K.dave, 'build', { materials: t.src, products: { ...t.src, app: t.app } });
      await io.rm(t.linkFile('build', t.K.bob));
      await io.copyFile(t.linkFile('build', t.K.dave), t.linkFile('build', t.K.bob));
    },
  },
  {
    name: 'layout verified with the wrong key',
    expect: 'fail',
    code: 'INTOTO_SIGNATURE_INVALID',
    build: (t) => standard(t).then(() => ({ verifyWith: ['owner2'] })),
  },
  {
    name: 'layout changed after signing',
    expect: 'fail',
    code: 'INTOTO_SIGNATURE_INVALID',
    async build(t, io) {
      await standard(t);
      const f = path.join(t.dir, 'root.layout');
      await io.writeFile(f, (await io.readFile(f, 'utf8')).replace('"readme": ""', '"readme": "x"'));
    },
  },
  {
    name: 'multi-signed layout, both keys',
    expect: 'pass',
    build: (t) =>
      standard(t, { owners: [t.K.owner, t.K.owner2] }).then(() => ({ verifyWith: ['owner', 'owner2'] })),
  },
  {
    name: 'multi-signed layout, one signature missing',
    expect: 'fail',
    code: 'INTOTO_SIGNATURE_INVALID',
    build: (t) => standard(t).then(() => ({ verifyWith: ['owner', 'owner2'] })),
  },
  {
    name: 'threshold 2 not met',
    expect: 'fail',
    code: 'INTOTO_LINK_MISSING',
    build: (t) =>
      standard(t, {
        build: { pubkeys: [t.K.bob.keyid, t.K.dave.keyid], threshold: 2 },
        extra: { keys: keysOf(t) },
      }),
  },
  {
    name: 'threshold 2 met by agreeing links',
    expect: 'pass',
    async build(t) {
      await standard(t, {
        build: { pubkeys: [t.K.bob.keyid, t.K.dave.keyid], threshold: 2 },
        extra: { keys: keysOf(t) },
      });
      await t.link(t.K.dave, 'build', { materials: t.src, products: { ...t.src, app: t.app } });
    },
  },
  {
    name: 'threshold 2, links disagree on products',
    expect: 'fail',
    code: 'INTOTO_THRESHOLD_ARTIFACTS_DIFFER',
    async build(t) {
      await standard(t, {
        build: { pubkeys: [t.K.bob.keyid, t.K.dave.keyid], threshold: 2 },
        extra: { keys: keysOf(t) },
      });
      await t.link(t.K.dave, 'build', { materials: t.src, products: { ...t.src, app: t.sha('other') } });
    },
  },
  {
    name: 'expired layout',
    expect: 'fail',
    code: 'INTOTO_LAYOUT_EXPIRED',
    build: (t) => standard(t, { extra: { expires: '2001-01-01T00:00:00Z' } }),
  },
  {
    name: 'MATCH violated (material differs from checkout product)',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => standard(t, { buildLink: { materials: { ...t.src, 'src/b.c': t.sha('evil') } } }),
  },
  {
    name: 'CREATE violated (product existed as material)',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => buildProducts(t, { ...t.src, app: t.app }, ['CREATE *', 'DISALLOW *']),
  },
  {
    name: 'CREATE satisfied',
    expect: 'pass',
    build: (t) => buildProducts(t, { app: t.app }, ['CREATE app', 'DISALLOW *']),
  },
  {
    name: 'DELETE violated (material still a product)',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => buildProducts(t, { ...t.src }, ['DELETE src/*', 'DISALLOW *']),
  },
  {
    name: 'DELETE satisfied',
    expect: 'pass',
    build: (t) =>
      buildProducts(t, { 'src/a.c': t.src['src/a.c'] }, [
        'DELETE src/b.c',
        'MATCH src/a.c WITH PRODUCTS FROM checkout',
        'DISALLOW *',
      ]),
  },
  {
    name: 'MODIFY violated (file unchanged)',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => buildProducts(t, { ...t.src }, ['MODIFY src/*', 'DISALLOW *']),
  },
  {
    name: 'MODIFY satisfied',
    expect: 'pass',
    build: (t) =>
      buildProducts(t, { ...t.src, 'src/a.c': t.sha('patched') }, [
        'MODIFY src/a.c',
        'MATCH src/b.c WITH PRODUCTS FROM checkout',
        'DISALLOW *',
      ]),
  },
  {
    name: 'ALLOW does not cover a product',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => buildProducts(t, { 'x.txt': t.app, app: t.app }, ['ALLOW *.txt', 'DISALLOW *']),
  },
  {
    name: 'DISALLOW matches',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => buildProducts(t, { app: t.app }, ['DISALLOW app']),
  },
  {
    name: 'REQUIRE missing',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) => buildProducts(t, { app: t.app }, ['REQUIRE app.exe', 'ALLOW *']),
  },
  {
    name: 'REQUIRE present',
    expect: 'pass',
    build: (t) => buildProducts(t, { app: t.app }, ['REQUIRE app', 'ALLOW *', 'DISALLOW *']),
  },
  {
    name: 'MATCH with IN prefixes on both sides',
    expect: 'pass',
    build: (t) =>
      buildProducts(t, { 'dist/a.c': t.src['src/a.c'] }, [
        'MATCH * IN dist WITH PRODUCTS IN src FROM checkout',
        'DISALLOW *',
      ]),
  },
  {
    name: 'MATCH with IN prefixes, hash differs',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) =>
      buildProducts(t, { 'dist/a.c': t.sha('x') }, [
        'MATCH * IN dist WITH PRODUCTS IN src FROM checkout',
        'DISALLOW *',
      ]),
  },
  {
    name: 'fnmatch: * crosses "/" and [!...] classes',
    expect: 'pass',
    build: (t) =>
      buildProducts(t, { 'src/deep/x.c': t.app, 'lib-9/z.o': t.app }, [
        'ALLOW src*.c',
        'ALLOW lib-[!a-z]/*',
        'DISALLOW *',
      ]),
  },
  {
    name: 'command differs from expected command (warning only)',
    expect: 'pass',
    build: (t) => standard(t, { buildLink: { command: ['make', 'all'] } }),
  },
  {
    name: 'missing link',
    expect: 'fail',
    code: 'INTOTO_LINK_MISSING',
    async build(t, io) {
      await standard(t);
      await io.rm(t.linkFile('checkout', t.K.alice));
    },
  },
  {
    name: 'link directory missing',
    expect: 'fail',
    code: 'INTOTO_LINK_DIR_MISSING',
    build: (t) => standard(t).then(() => ({ linkDir: 'no-such-dir' })),
  },
  {
    name: 'malformed link file',
    expect: 'fail',
    code: 'INTOTO_BAD_FORMAT',
    async build(t, io) {
      await standard(t);
      await io.writeFile(t.linkFile('build', t.K.bob), '{"signed": {"_type": "link"');
    },
  },
  {
    name: 'unknown rule keyword in the layout',
    expect: 'fail',
    code: 'INTOTO_BAD_RULE',
    build: (t) => standard(t, { build: { expected_products: [['PERMIT', '*']] } }),
  },
  {
    name: 'inspection passes and binds the final product to the build',
    expect: 'pass',
    build: (t, io) =>
      withInspection(
        t,
        io,
        {
          name: 'check',
          run: ['sh', '-c', 'test -f app.txt'],
          expected_materials: [
            ['MATCH', 'app.txt', 'WITH', 'PRODUCTS', 'FROM', 'build'],
            ['DISALLOW', 'app.txt'],
            ['ALLOW', '*'],
          ],
        },
        { 'app.txt': 'release\n' },
      ),
  },
  {
    name: 'inspection: final product differs from the build product',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t, io) =>
      withInspection(
        t,
        io,
        {
          name: 'check',
          run: ['true'],
          expected_materials: [
            ['MATCH', 'app.txt', 'WITH', 'PRODUCTS', 'FROM', 'build'],
            ['DISALLOW', 'app.txt'],
            ['ALLOW', '*'],
          ],
        },
        { 'app.txt': 'tampered\n' },
      ),
  },
  {
    name: 'inspection returns non-zero',
    expect: 'fail',
    code: 'INTOTO_INSPECTION_FAILED',
    build: (t, io) => withInspection(t, io, { name: 'check', run: ['sh', '-c', 'exit 1'] }),
  },
  {
    name: 'inspection times out (python: fixed 10 s; ours: --inspection-timeout 1)',
    expect: 'fail',
    code: 'INTOTO_INSPECTION_TIMEOUT',
    build: (t, io) =>
      withInspection(t, io, { name: 'check', run: ['sleep', '12'] }).then(() => ({ inspectionTimeout: 1 })),
  },
  {
    name: 'inspection product rule violated',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t, io) =>
      withInspection(t, io, {
        name: 'check',
        run: ['touch', 'evil'],
        expected_products: [
          ['DISALLOW', 'evil'],
          ['ALLOW', '*'],
        ],
      }),
  },
  {
    name: 'sublayout verifies',
    expect: 'pass',
    build: (t, io) => sublayout(t, io, true),
  },
  {
    name: 'failing sublayout (its link breaks the superlayout rules)',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t, io) => sublayout(t, io, false),
  },
  {
    name: 'parameter substitution',
    expect: 'pass',
    build: (t) =>
      buildProducts(t, { app: t.app }, ['CREATE {OUT}', 'DISALLOW *']).then(() => ({
        params: { OUT: 'app' },
      })),
  },
  {
    name: 'parameter substitution with a value that breaks a rule',
    expect: 'fail',
    code: 'INTOTO_RULE_FAILED',
    build: (t) =>
      buildProducts(t, { app: t.app }, ['CREATE {OUT}', 'DISALLOW *']).then(() => ({
        params: { OUT: 'other' },
      })),
  },
  {
    name: 'link signed over keys "x " before "x" (sorted only if the closing quote is compared)',
    expect: 'fail',
    code: 'INTOTO_THRESHOLD_NOT_MET',
    build: (t, io) => signedOver(t, io, (c) => c.replace('"x":2,"x ":3', '"x ":3,"x":2')),
  },
  {
    name: 'link signed over keys "x!" before "x"',
    expect: 'fail',
    code: 'INTOTO_THRESHOLD_NOT_MET',
    build: (t, io) => signedOver(t, io, (c) => c.replace('"x":2,"x ":3', '"x!":3,"x":2')),
  },
  {
    name: 'link with a float in byproducts, signed over its text (securesystemslib cannot encode it)',
    expect: 'fail',
    code: 'INTOTO_BAD_FORMAT',
    build: (t, io) => signedOver(t, io, (c) => c.replace('"n":1,', '"n":1.5,')),
  },
  {
    name: 'DEVIATION: link with 2^53+1 in byproducts, signed over its exact digits (python verifies it)',
    expect: 'fail',
    python: 'pass',
    code: 'INTOTO_BAD_FORMAT',
    build: (t, io) => signedOver(t, io, (c) => c.replace('"n":1,', '"n":9007199254740993,')),
  },
  {
    name: 'link with a lone surrogate (\\ud83d), signed over U+FFFD in its place',
    expect: 'fail',
    code: 'INTOTO_BAD_FORMAT',
    build: (t, io) =>
      signedOver(
        t,
        io,
        (c) => c.replace('"n":1,', '"n":"\ufffd",'),
        (text) => text.replace('\ufffd', '\\ud83d'),
      ),
  },
  {
    name: 'link with an invalid UTF-8 byte, signed over its U+FFFD decoding',
    expect: 'fail',
    code: 'INTOTO_BAD_FORMAT',
    async build(t, io) {
      await signedOver(t, io, (c) => c.replace('"n":1,', '"n":"\ufffd",'));
      const f = t.linkFile('build', t.K.bob);
      const bytes = await io.readFile(f);
      const at = bytes.indexOf(Buffer.from('\ufffd'));
      await io.writeFile(
        f,
        Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + 3)]),
      );
    },
  },
  {
    name: 'parameter missing',
    expect: 'fail',
    code: 'INTOTO_PARAMETER_MISSING',
    build: (t) =>
      buildProducts(t, { app: t.app }, ['CREATE {OUT}', 'DISALLOW *']).then(() => ({
        params: { NOT_OUT: 'app' },
      })),
  },
];

function keysOf(t) {
  return Object.fromEntries([t.K.alice, t.K.bob, t.K.dave].map((k) => [k.keyid, k.pub]));
}

/** build is a sublayout signed by bob with one step "compile" by dave. */
async function sublayout(t, io, good) {
  const { K } = t;
  await t.chainLinks();
  await t.writeLayout(t.layout(t.steps(), t.functionaries()));
  const sub = t.layout([t.step('compile', [K.dave], [['ALLOW', '*']], [['ALLOW', '*']])], [K.dave]);
  await io.rm(t.linkFile('build', K.bob));
  const { writeLayout } = await import('../helpers.js');
  await writeLayout(t.linkFile('build', K.bob), sub, [K.bob]);
  const subDir = path.join(t.links, `build.${K.bob.keyid.slice(0, 8)}`);
  await io.mkdir(subDir);
  const products = good ? { ...t.src, app: t.app } : { ...t.src, 'src/a.c': t.sha('changed'), app: t.app };
  await t.link(K.dave, 'compile', { materials: t.src, products }, subDir);
}
