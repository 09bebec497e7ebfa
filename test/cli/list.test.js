// `cnabsec list <name>` (issue 12, item 3): every signed tag from verified metadata, with its
// length, sha256 and the role a lookup finds it in (delegations included), sorted, each tag
// once; a tag a lookup cannot resolve (hidden by a terminating delegation) is not listed;
// `lookup` of an unknown tag names the nearest tags. Also the bounds of the listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cliOk, runCli } from '../helpers/cli.js';
import { newSigners } from '../helpers/sim.js';
import { trustedRepository, NAME } from '../helpers/client-repo.js';
import { LIST_LIMITS, listVerifiedTargets, nearestTags } from '../../dist/tuf/index.js';
import { editDistance } from '../../dist/util/text.js';

const sha256 = (s) => createHash('sha256').update(s).digest('hex');

/** targets: v1, latest, a layout; targets/releases: v2, v10 and v1 again; targets/b: v5 (hidden). */
function build(sim) {
  sim.addBundle('v1', 'one');
  sim.addBundle('latest', 'latest one');
  sim.addFile(`${NAME}/in-toto-metadata/root.layout`, '{"layout":1}');
  sim.delegateReleases(1, [`${NAME}:v*`]);
  sim.addBundle('v2', 'two', 'targets/releases');
  sim.addBundle('v10', 'ten', 'targets/releases');
  sim.addBundle('v1', 'one, by releases', 'targets/releases');
  // a terminating delegation before targets/b hides b's tags from every lookup (TUF §5.6.7.2.1)
  const [a, b] = [newSigners(1), newSigners(1)];
  sim.addSigners([...a, ...b]);
  sim.addDelegation('targets', {
    name: 'targets/a',
    keys: a.map((s) => s.publicKey),
    threshold: 1,
    paths: [`${NAME}:x*`],
    terminating: true,
  });
  sim.addDelegation('targets', {
    name: 'targets/b',
    keys: b.map((s) => s.publicKey),
    threshold: 1,
    paths: [`${NAME}:*`],
  });
  sim.addBundle('x5', 'hidden', 'targets/b');
  sim.addBundle('y5', 'visible', 'targets/b');
}

test('cnabsec list: tags sorted, once each, with length, sha256 and role; text and --json', async (t) => {
  const r = await trustedRepository(t, { build, http: true });
  const doc = JSON.parse(cliOk(['list', NAME, '--json'], { env: r.env }));
  const tag = (t, length, content, role) => ({
    name: `${NAME}:${t}`,
    tag: t,
    length,
    hashes: { sha256: sha256(content) },
    role,
  });
  assert.deepEqual(doc, {
    name: NAME,
    targets: [
      tag('latest', 10, 'latest one', 'targets'),
      tag('v1', 3, 'one', 'targets'),
      tag('v10', 3, 'ten', 'targets/releases'),
      tag('v2', 3, 'two', 'targets/releases'),
      tag('y5', 7, 'visible', 'targets/b'),
    ],
  });
  const json = doc.targets;
  // every listed tag is what lookup returns for it
  for (const t of json) {
    const l = JSON.parse(cliOk(['lookup', t.name, '--json'], { env: r.env }));
    assert.equal(l.hashes.sha256, t.hashes.sha256, t.name);
  }
  const x5 = runCli(['lookup', `${NAME}:x5`], { env: r.env });
  assert.equal(x5.status, 1, 'x5 is hidden by the terminating delegation');
  const text = cliOk(['list', NAME], { env: r.env }).trimEnd().split('\n');
  assert.match(text[0], /^TAG\s+LENGTH\s+SHA256\s+ROLE$/);
  assert.deepEqual(
    text.slice(1).map((l) => l.split(/\s+/)),
    json.map((x) => [x.tag, String(x.length), x.hashes.sha256, x.role]),
  );
});

test('cnabsec list over file://, and of a repository without tags', async (t) => {
  const r = await trustedRepository(t, { build: (sim) => sim.addFile(`${NAME}/keys/a.pub`, 'k') });
  assert.deepEqual(JSON.parse(cliOk(['list', NAME, '--json'], { env: r.env })), { name: NAME, targets: [] });
  assert.equal(cliOk(['list', NAME], { env: r.env }), `no signed tags in ${NAME}\n`);
});

test('cnabsec lookup of an unknown tag: the hint names the nearest signed tags', async (t) => {
  const r = await trustedRepository(t, { build });
  const miss = runCli(['lookup', `${NAME}:v3`], { env: r.env });
  assert.equal(miss.status, 1, miss.stderr);
  const lines = miss.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, miss.stderr);
  assert.match(lines[0], /^cnabsec: error \[TARGET_NOT_FOUND\]: .*:v3 is not a signed target/);
  assert.equal(lines[1], `  hint: the nearest signed tags: v1, v2 (all of them: \`cnabsec list ${NAME}\`)`);
  const j = runCli(['lookup', `${NAME}:lates`, '--json'], { env: r.env });
  assert.equal(j.status, 1);
  assert.deepEqual(JSON.parse(j.stdout).error.details.nearest, ['latest']);
  // nothing near: the hint points to the list
  const far = runCli(['lookup', `${NAME}:zzzzzzzzzz`], { env: r.env });
  assert.match(
    far.stderr,
    /hint: check the tag \(`cnabsec list example\.com\/org\/bundle` lists the signed tags\)/,
  );
});

test('nearestTags / editDistance', () => {
  const tags = ['v1.0.0', 'v1.0.1', 'v1.1.0', 'v2.0.0', 'latest', 'stable', 'v1.0.0-rc1', 'v10.0.0'];
  assert.deepEqual(nearestTags('v1.0.2', tags), ['v1.0.0', 'v1.0.1', 'v1.1.0', 'v10.0.0', 'v2.0.0']);
  assert.deepEqual(nearestTags('lastest', tags), ['latest']);
  assert.deepEqual(nearestTags('nothing-like-it', tags), []);
  assert.deepEqual(nearestTags('v1.0.0', ['v1.0.0']), [], 'the tag itself is not a suggestion');
  assert.equal(
    nearestTags(
      'v',
      Array.from({ length: 50 }, (_, i) => `v${i}`),
    ).length,
    5,
  );
  assert.equal(editDistance('kitten', 'sitting', 10), 3);
  assert.equal(editDistance('a', 'abcdefgh', 2), 3, 'cut off beyond the maximum');
});

/** A fake Updater over `roles` (name → {targets, delegations}), resolving like a lookup would. */
function walker(roles) {
  const md = new Map(
    Object.entries(roles).map(([name, r]) => [
      name,
      {
        signed: {
          targets: Object.fromEntries(r.targets.map((p) => [p, { path: p, length: 1, hashes: {} }])),
          delegations: r.children === undefined ? undefined : { roles: r.children.map((c) => ({ name: c })) },
        },
      },
    ]),
  );
  return {
    loaded: [],
    async loadTargets(role) {
      this.loaded.push(role);
      return md.get(role);
    },
    async getTargetInfo(name) {
      for (const m of md.values()) if (m.signed.targets[name]) return m.signed.targets[name];
      return undefined;
    },
  };
}

test('listVerifiedTargets: roles visited once (cycles), and bounded in roles and targets', async () => {
  const w = walker({
    targets: { targets: ['a:1'], children: ['r1', 'r2'] },
    r1: { targets: ['a:2', 'a:1'], children: ['r2', 'targets'] },
    r2: { targets: ['a:3'], children: ['r1'] },
  });
  const out = await listVerifiedTargets(w, 'a');
  assert.deepEqual(
    out.map((x) => [x.info.path, x.role]),
    [
      ['a:1', 'targets'],
      ['a:2', 'r1'],
      ['a:3', 'r2'],
    ],
  );
  assert.deepEqual(w.loaded, ['targets', 'r1', 'r2'], 'preorder, each role once');
  const many = Array.from({ length: LIST_LIMITS.roles + 1 }, (_, i) => `r${i}`);
  const wide = walker({
    targets: { targets: [], children: many },
    ...Object.fromEntries(many.map((r) => [r, { targets: [] }])),
  });
  await assert.rejects(listVerifiedTargets(wide, 'a'), (e) => {
    assert.equal(e.code, 'TUF_LIST_TOO_LARGE');
    assert.match(e.hint, /cnabsec lookup a:<tag>/);
    return true;
  });
  const big = walker({
    targets: { targets: Array.from({ length: LIST_LIMITS.targets + 1 }, (_, i) => `a:${i}`) },
  });
  await assert.rejects(listVerifiedTargets(big, 'a'), { code: 'TUF_LIST_TOO_LARGE' });
});
