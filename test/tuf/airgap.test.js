// Air-gapped sites (issue 14 item 5, ADR 0030), through the library: a trust archive exported
// at a connected site A (the simulator's repository on disk), imported at site B (another
// home), then A's metadata is removed (no network) and doc 303 passes at B from the import.
// Refusals: an archive altered, a site trusting another root, an older archive (rollback),
// no --root for an untrusted repository; the trust store is unchanged after each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalize } from '@tufjs/canonical-json';
import { Sim, NAME, newSigners } from '../helpers/sim.js';
import { rotateKeys } from '../../dist/tuf/index.js';
import { writeMetadata } from '../helpers/client-repo.js';
import { snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { addTrust, listTrust, removeTrust } from '../../dist/tuf/client/index.js';
import { exportTrustArchive, importTrustArchive, verifyBundle, ustarHeader } from '../../dist/cnab/index.js';

const DAY = 86_400_000;
const BUNDLE = Buffer.from(
  canonicalize({ schemaVersion: 'v1.0.0', name: 'app', version: '0.1.0', invocationImages: [] }),
);

/** Site A: a published repository on disk, a home trusting it; the bundle v1 signed. */
async function siteA(t, { now } = {}) {
  const sim = await Sim.create(t, now === undefined ? {} : { now });
  sim.addBundle('v1', BUNDLE);
  await sim.publish(now === undefined ? {} : { now });
  const dir = await tempDir(t, 'cnabsec-airgap-');
  const metadata = await writeMetadata(sim, dir);
  const home = path.join(dir, 'home-a');
  await addTrust(
    home,
    NAME,
    await readFile(path.join(metadata, '1.root.json')),
    pathToFileURL(metadata).href,
  );
  const thin = path.join(dir, 'bundle.json');
  await writeFile(thin, BUNDLE);
  return { sim, dir, metadata, home, thin, root: await readFile(path.join(metadata, '1.root.json')) };
}

test('airgap: export at A with the bundle, import at B with --root, A gone: verify passes offline', async (t) => {
  const a = await siteA(t);
  const archive = path.join(a.dir, 'trust.tgz');
  const r = await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: archive, thin: a.thin });
  assert.equal(r.bundle.kind, 'thin');
  assert.ok(r.manifest.files.some((f) => f.name === 'metadata/1.root.json'));
  assert.ok(r.manifest.files.some((f) => f.name === 'metadata/timestamp.json'));
  await rm(a.metadata, { recursive: true }); // the network of site A is gone
  const homeB = path.join(a.dir, 'home-b');
  const imp = await importTrustArchive({ home: homeB, file: archive, root: a.root });
  assert.equal(imp.pinned, true);
  assert.match(imp.entry.url, /^file:.*offline$/);
  const [entry] = await listTrust(homeB);
  assert.ok(entry.imported);
  const v = await verifyBundle({ target: `${NAME}:v1`, home: homeB, thin: imp.bundle });
  assert.equal(v.length, BUNDLE.length);
  // `trust remove` forgets the offline mirror and the imported bundle too
  await removeTrust(homeB, NAME);
  assert.deepEqual(await snapshotTree(path.join(homeB, 'trust')), {});
});

test('airgap: an untrusted repository without --root, another root, an altered archive: refused, store unchanged', async (t) => {
  const a = await siteA(t);
  const archive = path.join(a.dir, 'trust.tgz');
  await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: archive });
  const homeB = path.join(a.dir, 'home-b');
  await assert.rejects(importTrustArchive({ home: homeB, file: archive }), { code: 'TRUST_NOT_FOUND' });
  assert.deepEqual(await listTrust(homeB), []);

  const other = await siteA(t); // another repository of the same name: another root
  await assert.rejects(importTrustArchive({ home: homeB, file: archive, root: other.root }), (e) => {
    assert.match(e.code, /TUF_UNSIGNED_METADATA|TUF_/);
    return true;
  });
  assert.deepEqual(await listTrust(homeB), []);

  await importTrustArchive({ home: homeB, file: archive, root: a.root });
  const before = await snapshotTree(homeB);
  // one byte of the timestamp changed, the manifest left as it was
  const tar = gunzipSync(await readFile(archive));
  const at = tar.indexOf(Buffer.from('"_type":"timestamp"')) + 12;
  tar[at] = tar[at] === 0x61 ? 0x62 : 0x61;
  const bad = path.join(a.dir, 'bad.tgz');
  await writeFile(bad, gzipSync(tar));
  await assert.rejects(importTrustArchive({ home: homeB, file: bad }), { code: 'TRUST_ARCHIVE_INVALID' });
  assert.deepEqual(await snapshotTree(homeB), before);
});

test('airgap: an older archive after a newer one is a rollback, refused', async (t) => {
  const a = await siteA(t);
  const old = path.join(a.dir, 'old.tgz');
  await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: old });
  await a.sim.refresh();
  await writeMetadata(a.sim, a.dir);
  const fresh = path.join(a.dir, 'new.tgz');
  await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: fresh });
  const homeB = path.join(a.dir, 'home-b');
  await importTrustArchive({ home: homeB, file: fresh, root: a.root });
  const before = await snapshotTree(homeB);
  await assert.rejects(importTrustArchive({ home: homeB, file: old }), { code: 'TUF_ROLLBACK' });
  assert.deepEqual(await snapshotTree(homeB), before);
});

test('airgap: expired at B: verify fails with the expiry code and a --grace hint; a grace passes and reports', async (t) => {
  const a = await siteA(t, { now: new Date(Date.now() - 2 * DAY) }); // timestamp: 1 day, expired a day ago
  const archive = path.join(a.dir, 'trust.tgz');
  await assert.rejects(exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: archive }), (e) => {
    assert.equal(e.code, 'TUF_EXPIRED_METADATA');
    assert.match(e.hint, /--grace/);
    return true;
  });
  const r = await exportTrustArchive({
    home: a.home,
    target: `${NAME}:v1`,
    output: archive,
    thin: a.thin,
    graceMs: 30 * DAY,
  });
  assert.ok(r.graceAccepted.some((g) => g.role === 'timestamp' && g.overdueMs > 0.9 * DAY));
  const homeB = path.join(a.dir, 'home-b');
  await assert.rejects(importTrustArchive({ home: homeB, file: archive, root: a.root }), {
    code: 'TUF_EXPIRED_METADATA',
  });
  const imp = await importTrustArchive({ home: homeB, file: archive, root: a.root, graceMs: 30 * DAY });
  await assert.rejects(verifyBundle({ target: `${NAME}:v1`, home: homeB, thin: imp.bundle }), (e) => {
    assert.equal(e.details.tufCode, 'TUF_EXPIRED_METADATA');
    assert.match(e.hint, /--grace/);
    return true;
  });
  const v = await verifyBundle({ target: `${NAME}:v1`, home: homeB, thin: imp.bundle, graceMs: 30 * DAY });
  assert.deepEqual(
    v.graceAccepted.map((g) => g.role),
    ['timestamp', 'snapshot'].filter((role) => v.graceAccepted.some((g) => g.role === role)),
  );
  assert.ok(v.graceAccepted.some((g) => g.role === 'timestamp'));
  // a grace too short is still an expiry
  await assert.rejects(
    verifyBundle({ target: `${NAME}:v1`, home: homeB, thin: imp.bundle, graceMs: 3_600_000 }),
  );
});

/** A gzip'd tar of raw entries [{name, data, type}], headers by the writer then patched. */
function rawArchive(entries) {
  const blocks = [];
  for (const e of entries) {
    const h = ustarHeader('placeholder', e.data.length, new Date(0));
    h.fill(0, 0, 100);
    h.write(e.name, 0, 100, 'latin1');
    if (e.type !== undefined) h.write(e.type, 156, 1, 'latin1');
    h.write('        ', 148, 8, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    blocks.push(h, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

test('airgap: hostile archives: ../x, a symlink, duplicate names, an oversized entry, unlisted names', async (t) => {
  const a = await siteA(t);
  const homeB = path.join(a.dir, 'home-b');
  await mkdir(homeB);
  const archive = path.join(a.dir, 'trust.tgz');
  const { manifest } = await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: archive });
  const entries = [];
  const tar = gunzipSync(await readFile(archive));
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 135), 8);
    entries.push({ name, data: tar.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  const [m, ...rest] = entries;
  const cases = {
    '../x': [m, { name: '../x', data: Buffer.from('x') }, ...rest],
    symlink: [m, { name: 'metadata/timestamp.json', data: Buffer.alloc(0), type: '2' }, ...rest],
    duplicate: [m, ...rest, rest[0]],
    'manifest not first': [...rest, m],
    unlisted: [m, ...rest, { name: 'metadata/extra.json', data: Buffer.from('{}') }],
    'longer than listed': [
      m,
      { ...rest[0], data: Buffer.concat([rest[0].data, Buffer.alloc(4096, 0x20)]) },
      ...rest.slice(1),
    ],
    oversized: [
      {
        name: m.name,
        data: Buffer.from(
          JSON.stringify({
            ...manifest,
            files: manifest.files.map((f) =>
              f.name === 'metadata/timestamp.json' ? { ...f, length: 6_000_000 } : f,
            ),
          }),
        ),
      },
      ...rest,
    ],
  };
  const expected = {
    '../x': 'ARCHIVE_BAD_ENTRY',
    symlink: 'ARCHIVE_BAD_ENTRY',
    duplicate: 'ARCHIVE_DUPLICATE_ENTRY',
    'manifest not first': 'TRUST_ARCHIVE_INVALID',
    unlisted: 'TRUST_ARCHIVE_INVALID',
    'longer than listed': 'ARCHIVE_TOO_LARGE',
    oversized: 'TRUST_ARCHIVE_INVALID',
  };
  for (const [what, list] of Object.entries(cases)) {
    const file = path.join(a.dir, `${what.replace(/\W/g, '_')}.tgz`);
    await writeFile(file, rawArchive(list));
    await assert.rejects(importTrustArchive({ home: homeB, file, root: a.root }), (e) => {
      assert.equal(e.code, expected[what], `${what}: ${e.message}`);
      assert.ok(e.hint, what);
      return true;
    });
    assert.deepEqual(await listTrust(homeB), [], what);
  }
  // the same entries re-packed are accepted (the cases above differ only in what they say)
  const ok = path.join(a.dir, 'repacked.tgz');
  await writeFile(ok, rawArchive(entries));
  await importTrustArchive({ home: homeB, file: ok, root: a.root });
});

test('airgap: a site that trusts another root refuses the archive; a second tag keeps the first bundle', async (t) => {
  const a = await siteA(t);
  const archive = path.join(a.dir, 'trust.tgz');
  await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: archive, thin: a.thin });
  const other = await siteA(t); // the same name, other keys
  const homeB = path.join(a.dir, 'home-b');
  await addTrust(homeB, NAME, other.root, pathToFileURL(other.metadata).href);
  const before = await snapshotTree(homeB);
  await assert.rejects(importTrustArchive({ home: homeB, file: archive }), { code: 'TUF_UNSIGNED_METADATA' });
  assert.deepEqual(await snapshotTree(homeB), before, 'the trust store is unchanged');

  // v2 signed later at A: importing its archive keeps the bundle of v1 imported before
  const homeC = path.join(a.dir, 'home-c');
  const first = await importTrustArchive({ home: homeC, file: archive, root: a.root });
  const v2 = Buffer.from(
    canonicalize({ schemaVersion: 'v1.0.0', name: 'app', version: '0.2.0', invocationImages: [] }),
  );
  a.sim.addBundle('v2', v2);
  await a.sim.publish();
  await writeMetadata(a.sim, a.dir);
  const thin2 = path.join(a.dir, 'bundle2.json');
  await writeFile(thin2, v2);
  const archive2 = path.join(a.dir, 'trust2.tgz');
  await exportTrustArchive({ home: a.home, target: `${NAME}:v2`, output: archive2, thin: thin2 });
  const second = await importTrustArchive({ home: homeC, file: archive2 });
  assert.equal(second.pinned, false);
  assert.ok((await verifyBundle({ target: `${NAME}:v1`, home: homeC, thin: first.bundle })).length > 0);
  assert.ok((await verifyBundle({ target: `${NAME}:v2`, home: homeC, thin: second.bundle })).length > 0);
});

test('airgap: a rotated root: the archive has the chain 1..2, a site pinned at v1 walks it (TUF §5.3)', async (t) => {
  const a = await siteA(t);
  const [k] = newSigners(1);
  a.sim.addSigners([k]);
  rotateKeys(a.sim.repo, 'root', { add: [k.publicKey] });
  await a.sim.publish();
  await writeMetadata(a.sim, a.dir);
  const archive = path.join(a.dir, 'trust.tgz');
  const { manifest } = await exportTrustArchive({ home: a.home, target: `${NAME}:v1`, output: archive });
  const roots = manifest.files.filter((f) => /^metadata\/\d+\.root\.json$/.test(f.name)).map((f) => f.name);
  assert.deepEqual(roots, ['metadata/1.root.json', 'metadata/2.root.json']);
  const homeB = path.join(a.dir, 'home-b');
  const imp = await importTrustArchive({ home: homeB, file: archive, root: a.root });
  assert.equal(imp.versions.find((v) => v.role === 'root').version, 2);
});
