import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  parseMetablock,
  verifyLayout,
  serializeMetablock,
  linkFileName,
  InspectionRunner,
} from '../../dist/intoto/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeKey, writeLink, writeLayout, step, layout, sha } from './helpers.js';

/** owner, alice, bob; links dir; a two-step chain checkout → build that verifies. */
async function chain(t, tweak = {}) {
  const dir = await tempDir(t);
  const links = path.join(dir, 'links');
  await mkdir(links);
  const owner = await makeKey(dir, 'owner');
  const alice = await makeKey(dir, 'alice', 'ecdsa');
  const bob = await makeKey(dir, 'bob', 'rsa');
  const src = { 'src/a.c': sha('a'), 'src/b.c': sha('b') };
  await writeLink(links, alice, 'checkout', { products: src, command: ['git', 'clone'] });
  await writeLink(links, bob, 'build', {
    materials: src,
    products: { ...src, app: sha('c') },
    command: ['make'],
  });
  const steps = [
    step(
      'checkout',
      [alice],
      [],
      [
        ['CREATE', '*'],
        ['DISALLOW', '*'],
      ],
      { expected_command: ['git', 'clone'] },
    ),
    step(
      'build',
      [bob],
      [
        ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'checkout'],
        ['DISALLOW', '*'],
      ],
      [
        ['CREATE', 'app'],
        ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'checkout'],
        ['DISALLOW', '*'],
      ],
      { expected_command: ['make'] },
    ),
  ];
  const signed = layout(steps, [alice, bob], tweak.layout ?? {});
  const mb = await writeLayout(path.join(dir, 'root.layout'), signed, [owner]);
  const keys = { [owner.keyid]: owner.pub };
  const verify = (opts = {}) =>
    verifyLayout(parseMetablock(serializeMetablock(mb)), keys, { linkDir: links, ...opts });
  return { dir, links, owner, alice, bob, mb, keys, verify, steps, signed };
}

test('verify: a valid chain passes and returns the summary link', async (t) => {
  const c = await chain(t);
  const r = await c.verify();
  assert.deepEqual(Object.keys(r.summary.products).sort(), ['app', 'src/a.c', 'src/b.c']);
  assert.deepEqual(r.warnings, []);
});

test('verify: tampered link is skipped, so the threshold is not met', async (t) => {
  const c = await chain(t);
  const f = path.join(c.links, linkFileName('build', c.bob.keyid));
  await writeFile(f, (await readFile(f, 'utf8')).replace('"make"', '"mak3"'));
  await assert.rejects(c.verify(), { code: 'INTOTO_THRESHOLD_NOT_MET' });
});

test('verify: layout signature by another key, no key, expired layout', async (t) => {
  const c = await chain(t);
  await assert.rejects(verifyLayout(c.mb, { [c.alice.keyid]: c.alice.pub }, { linkDir: c.links }), {
    code: 'INTOTO_SIGNATURE_INVALID',
  });
  await assert.rejects(verifyLayout(c.mb, {}, { linkDir: c.links }), { code: 'INTOTO_SIGNATURE_INVALID' });
  await assert.rejects(c.verify({ now: new Date('2100-01-01T00:00:00Z') }), {
    code: 'INTOTO_LAYOUT_EXPIRED',
  });
});

test('verify: missing link and missing link directory have their own codes', async (t) => {
  const c = await chain(t);
  await assert.rejects(c.verify({ linkDir: path.join(c.dir, 'nope') }), { code: 'INTOTO_LINK_DIR_MISSING' });
  await assert.rejects(c.verify({ linkDir: c.dir }), { code: 'INTOTO_LINK_MISSING' });
});

test('verify: rule failure names step, rule and queue; command misalignment only warns', async (t) => {
  const c = await chain(t);
  await writeLink(c.links, c.bob, 'build', {
    materials: { 'src/a.c': sha('a'), 'src/b.c': sha('f') },
    command: ['gcc'],
  });
  await assert.rejects(c.verify(), (e) => {
    assert.equal(e.code, 'INTOTO_RULE_FAILED');
    assert.match(e.message, /'DISALLOW \*' matched the following artifacts: \["src\/b.c"\]/);
    assert.equal(e.details.item, 'build');
    return true;
  });
  await writeLink(c.links, c.bob, 'build', {
    materials: { 'src/a.c': sha('a'), 'src/b.c': sha('b') },
    command: ['gcc'],
  });
  const r = await c.verify();
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /differs from expected command/);
});

test('verify: thresholds count distinct valid signers and links must agree', async (t) => {
  const c = await chain(t);
  const carol = await makeKey(c.dir, 'carol');
  c.signed.steps[1] = { ...c.signed.steps[1], pubkeys: [c.bob.keyid, carol.keyid], threshold: 2 };
  c.signed.keys[carol.keyid] = carol.pub;
  const mb = await writeLayout(path.join(c.dir, 'root.layout'), c.signed, [c.owner]);
  const run = () => verifyLayout(mb, c.keys, { linkDir: c.links });
  await assert.rejects(run(), { code: 'INTOTO_LINK_MISSING' });
  const src = { 'src/a.c': sha('a'), 'src/b.c': sha('b') };
  await writeLink(c.links, carol, 'build', { materials: src, products: { ...src, app: sha('d') } });
  await assert.rejects(run(), { code: 'INTOTO_THRESHOLD_ARTIFACTS_DIFFER' });
  await writeLink(c.links, carol, 'build', { materials: src, products: { ...src, app: sha('c') } });
  await run();
});

test('verify: parameter substitution in rules, and an unknown parameter', async (t) => {
  const c = await chain(t);
  c.signed.steps[1].expected_products[0] = ['CREATE', '{OUT}'];
  const mb = await writeLayout(path.join(c.dir, 'root.layout'), c.signed, [c.owner]);
  await verifyLayout(mb, c.keys, { linkDir: c.links, params: { OUT: 'app' } });
  await assert.rejects(verifyLayout(mb, c.keys, { linkDir: c.links, params: { OUT: 'other' } }), {
    code: 'INTOTO_RULE_FAILED',
  });
  await assert.rejects(verifyLayout(mb, c.keys, { linkDir: c.links, params: {} }), {
    code: 'INTOTO_PARAMETER_MISSING',
  });
});

test('verify: a sublayout is verified recursively and replaced by its summary link', async (t) => {
  const c = await chain(t);
  // bob delegates "build" to a sublayout signed by bob, with one step "compile" by alice.
  const sub = layout([step('compile', [c.alice], [['ALLOW', '*']], [['ALLOW', '*']])], [c.alice]);
  const subDir = path.join(c.links, `build.${c.bob.keyid.slice(0, 8)}`);
  await mkdir(subDir);
  const src = { 'src/a.c': sha('a'), 'src/b.c': sha('b') };
  await writeLayout(path.join(c.links, linkFileName('build', c.bob.keyid)), sub, [c.bob]);
  await assert.rejects(c.verify(), { code: 'INTOTO_LINK_MISSING' });
  await writeLink(subDir, c.alice, 'compile', { materials: src, products: { ...src, app: sha('c') } });
  await c.verify();
  await writeLink(subDir, c.alice, 'compile', {
    materials: src,
    products: { ...src, 'src/a.c': sha('f'), app: sha('c') },
  });
  await assert.rejects(c.verify(), { code: 'INTOTO_RULE_FAILED' });
});

test('inspections: pass, fail, time out with their own codes, in a working directory of their own', async (t) => {
  const c = await chain(t);
  const work = path.join(c.dir, 'work');
  await mkdir(work);
  await writeFile(path.join(work, 'app'), 'binary');
  const insp = (run, products = [['ALLOW', '*']]) => ({
    _type: 'inspection',
    name: 'check',
    expected_materials: [['ALLOW', '*']],
    expected_products: products,
    run,
  });
  const runWith = async (inspection, timeoutMs = 10000) => {
    const mb = await writeLayout(path.join(c.dir, 'root.layout'), { ...c.signed, inspect: [inspection] }, [
      c.owner,
    ]);
    return verifyLayout(mb, c.keys, { linkDir: c.links, inspections: { sourceDir: work, timeoutMs } });
  };
  await runWith(insp(['sh', '-c', 'test -f app && touch made-by-inspection']));
  await assert.rejects(readFile(path.join(work, 'made-by-inspection')), { code: 'ENOENT' });
  await assert.rejects(
    runWith(insp(['sh', '-c', 'exit 3'])),
    (e) => e.code === 'INTOTO_INSPECTION_FAILED' && /'3'/.test(e.message),
  );
  await assert.rejects(runWith(insp(['no-such-command-xyz'])), { code: 'INTOTO_INSPECTION_FAILED' });
  await assert.rejects(runWith(insp(['sh', '-c', 'sleep 30']), 300), { code: 'INTOTO_INSPECTION_TIMEOUT' });
  await assert.rejects(
    runWith(
      insp(
        ['sh', '-c', 'touch evil'],
        [
          ['DISALLOW', 'evil'],
          ['ALLOW', '*'],
        ],
      ),
    ),
    {
      code: 'INTOTO_RULE_FAILED',
    },
  );
});

test('inspection output is capped', async (t) => {
  const dir = await tempDir(t);
  const runner = new InspectionRunner({ sourceDir: dir, maxOutputBytes: 1000, timeoutMs: 10000 });
  t.after(() => runner.close());
  const link = await runner.run({ name: 'big', run: ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x'] });
  assert.equal(link.byproducts.stdout.length, 1000);
});
