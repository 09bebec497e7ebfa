// Hostile trust archives (review of ADR 0030): the manifest is not signed, so everything it
// says besides the entry hashes is attacker-chosen; an import must not let it change what the
// site trusts or break the trust store, whatever the TUF metadata inside says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalize } from '@tufjs/canonical-json';
import { Sim, NAME } from '../helpers/sim.js';
import { writeMetadata } from '../helpers/client-repo.js';
import { spawnSync } from 'node:child_process';
import { childEnv, CLI, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { addTarget } from '../../dist/tuf/index.js';
import { addTrust, listTrust, removeTrust } from '../../dist/tuf/client/index.js';
import { exportTrustArchive, importTrustArchive, ustarHeader } from '../../dist/cnab/index.js';

const BUNDLE = Buffer.from(
  canonicalize({ schemaVersion: 'v1.0.0', name: 'app', version: '0.1.0', invocationImages: [] }),
);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** Site A trusting `name` (a repository on disk signing `<name>:v1`), and an archive of it. */
async function exported(t, name = NAME) {
  const sim = await Sim.create(t);
  addTarget(sim.repo, `${name}:v1`, { length: BUNDLE.length, hashes: { sha256: sha256(BUNDLE) } });
  await sim.publish();
  const dir = await tempDir(t, 'cnabsec-airgap-hostile-');
  const metadata = await writeMetadata(sim, dir);
  const root = await readFile(path.join(metadata, '1.root.json'));
  const home = path.join(dir, 'home-a');
  await addTrust(home, name, root, pathToFileURL(metadata).href);
  const archive = path.join(dir, 'trust.tgz');
  const thin = path.join(dir, 'bundle.json');
  await writeFile(thin, BUNDLE);
  const { manifest } = await exportTrustArchive({ home, target: `${name}:v1`, output: archive, thin });
  return { dir, root, archive, manifest, entries: readEntries(await readFile(archive)) };
}

/** The entries [{name, data}] of a trust archive. */
function readEntries(gz) {
  const tar = gunzipSync(gz);
  const out = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 135), 8);
    out.push({ name, data: Buffer.from(tar.subarray(at + 512, at + 512 + size)) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** A gzip'd ustar of `entries` (the writer's headers, names patched). */
export function rawArchive(entries) {
  const blocks = [];
  for (const e of entries) {
    const h = ustarHeader('placeholder', e.data.length, new Date(0));
    h.fill(0, 0, 100);
    h.write(e.name, 0, 100, 'latin1');
    h.write('        ', 148, 8, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    blocks.push(h, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The archive of `a` with its manifest changed by `edit` (the other entries as they were). */
async function withManifest(a, file, edit) {
  const [m, ...rest] = a.entries;
  const manifest = edit(JSON.parse(m.data.toString('utf8')));
  const out = path.join(a.dir, file);
  await writeFile(out, rawArchive([{ name: m.name, data: Buffer.from(JSON.stringify(manifest)) }, ...rest]));
  return out;
}

test('airgap hostile: a huge or non-string exportedFrom is refused, the trust store stays readable', async (t) => {
  const a = await exported(t);
  const home = path.join(a.dir, 'home-b');
  await mkdir(home);
  for (const [what, value] of [
    ['70 kB string', 'x'.repeat(70_000)],
    ['object', { url: 'https://evil.example' }],
  ]) {
    const file = await withManifest(a, `${what.replace(/\W/g, '_')}.tgz`, (m) => ({
      ...m,
      exportedFrom: value,
    }));
    await assert.rejects(importTrustArchive({ home, file, root: a.root }), (e) => {
      assert.equal(e.code, 'TRUST_ARCHIVE_INVALID', `${what}: ${e.message}`);
      assert.match(e.message, /exportedFrom/);
      return true;
    });
    assert.deepEqual(await listTrust(home), [], what);
  }
  await importTrustArchive({ home, file: a.archive, root: a.root });
  assert.equal((await listTrust(home)).length, 1);
});

test('airgap hostile: a manifest repository that is only a prefix of the target is refused', async (t) => {
  // `example.com:5000/org/app:v1` starts with `example.com:`: an archive saying its repository is
  // `example.com` would pin the given root for every name under example.com
  const a = await exported(t, 'example.com:5000/org/app');
  const home = path.join(a.dir, 'home-b');
  await mkdir(home);
  const file = await withManifest(a, 'prefix.tgz', (m) => ({ ...m, repository: 'example.com' }));
  const before = await snapshotTree(home);
  await assert.rejects(importTrustArchive({ home, file, root: a.root }), (e) => {
    assert.equal(e.code, 'TRUST_ARCHIVE_INVALID', e.message);
    assert.match(e.message, /repository/);
    return true;
  });
  assert.deepEqual(await snapshotTree(home), before);
  const r = await importTrustArchive({ home, file: a.archive, root: a.root });
  assert.equal(r.entry.name, 'example.com:5000/org/app');
});

test('airgap hostile: target paths that are a file and a directory at once: one refusal with a code', async (t) => {
  const a = await exported(t);
  const home = path.join(a.dir, 'home-b');
  await mkdir(home);
  const x = Buffer.from('x');
  for (const order of [
    ['a', 'a/b'],
    ['a/b', 'a'],
    ['a', 'a'],
  ]) {
    const extra = order.map((target, i) => ({ name: `targets/${900 + i}`, target, data: x }));
    const [m, ...rest] = a.entries;
    const manifest = JSON.parse(m.data.toString('utf8'));
    manifest.files.push(
      ...extra.map((e) => ({ name: e.name, length: 1, sha256: sha256(x), target: e.target })),
    );
    const file = path.join(a.dir, `${order.join('_').replace(/\W/g, '_')}.tgz`);
    await writeFile(
      file,
      rawArchive([{ name: m.name, data: Buffer.from(JSON.stringify(manifest)) }, ...rest, ...extra]),
    );
    await assert.rejects(importTrustArchive({ home, file, root: a.root }), (e) => {
      assert.equal(typeof e.code, 'string', `${order}: ${e.stack}`);
      assert.ok(e.hint, order.join(' '));
      if (order[0] === order[1]) assert.match(e.message, /targets\/a/, e.message);
      return true;
    });
    assert.deepEqual(await listTrust(home), [], order.join(' '));
  }
});

test('airgap hostile: the thick bundle cannot be written to the temporary directory: one error line, no crash', async (t) => {
  const a = await exported(t);
  const home = path.join(a.dir, 'home-b');
  await importTrustArchive({ home, file: a.archive, root: a.root });
  const before = await snapshotTree(home);
  const big = Buffer.alloc(1 << 20, 0x61);
  const [m, ...rest] = a.entries.filter((e) => !e.name.startsWith('bundle/'));
  const manifest = JSON.parse(m.data.toString('utf8'));
  manifest.files = manifest.files.filter((f) => !f.name.startsWith('bundle/'));
  manifest.files.push({ name: 'bundle/bundle.tgz', length: big.length, sha256: sha256(big) });
  const file = path.join(a.dir, 'thick.tgz');
  await writeFile(
    file,
    rawArchive([
      { name: m.name, data: Buffer.from(JSON.stringify(manifest)) },
      ...rest,
      { name: 'bundle/bundle.tgz', data: big },
    ]),
  );
  const tmp = path.join(a.dir, 'tmp');
  await mkdir(tmp);
  // a file size limit of 64 blocks: writing the 1 MiB bundle fails with EFBIG (node ignores SIGXFSZ)
  const r = spawnSync(
    'sh',
    ['-c', 'ulimit -f 64; exec "$0" "$@"', process.execPath, CLI, 'trust', 'import', file],
    {
      env: childEnv({ CNABSEC_HOME: home, TMPDIR: tmp }),
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^cnabsec: error \[[A-Z_]+\]: .*thick\.tgz/);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  assert.match(r.stderr, /ARCHIVE_WRITE_FAILED/);
  assert.deepEqual(await readdir(tmp), [], 'the temporary directory is removed');
  assert.deepEqual(await snapshotTree(home), before);
});

test('airgap hostile: manifest files that are not objects: TRUST_ARCHIVE_INVALID naming the manifest', async (t) => {
  const a = await exported(t);
  const home = path.join(a.dir, 'home-b');
  await mkdir(home);
  for (const bad of [null, 1, 'metadata/timestamp.json', []]) {
    const file = await withManifest(a, 'files.tgz', (m) => ({ ...m, files: [bad, ...m.files] }));
    await assert.rejects(importTrustArchive({ home, file, root: a.root }), (e) => {
      assert.equal(e.code, 'TRUST_ARCHIVE_INVALID', e.message);
      assert.match(e.message, /manifest cnabsec-trust\.json: /, e.message);
      assert.doesNotMatch(e.message, /Cannot read|undefined|null/, e.message);
      return true;
    });
  }
});

test('airgap hostile: export refuses an archive import would refuse (an entry trusted under a shorter name)', async (t) => {
  const sim = await Sim.create(t);
  addTarget(sim.repo, 'example.com/org/app:v1', {
    length: BUNDLE.length,
    hashes: { sha256: sha256(BUNDLE) },
  });
  await sim.publish();
  const dir = await tempDir(t, 'cnabsec-airgap-hostile-');
  const metadata = await writeMetadata(sim, dir);
  const home = path.join(dir, 'home-a');
  // verify finds example.com/org/app:v1 under the entry example.com/org (trustFor: <name>/...)
  await addTrust(
    home,
    'example.com/org',
    await readFile(path.join(metadata, '1.root.json')),
    pathToFileURL(metadata).href,
  );
  const output = path.join(dir, 'trust.tgz');
  await assert.rejects(exportTrustArchive({ home, target: 'example.com/org/app:v1', output }), (e) => {
    assert.equal(e.code, 'TRUST_ARCHIVE_INVALID', e.message);
    assert.match(e.message, /nothing was written/);
    assert.match(e.hint, /trust import would refuse/);
    return true;
  });
  await assert.rejects(readFile(output), { code: 'ENOENT' });
});

test('airgap hostile: export -o onto the bundle it carries is refused, the bundle left as it was', async (t) => {
  const a = await exported(t);
  const home = path.join(a.dir, 'home-a');
  const thin = path.join(a.dir, 'bundle.json');
  await assert.rejects(exportTrustArchive({ home, target: `${NAME}:v1`, output: thin, thin }), (e) => {
    assert.equal(e.code, 'ARCHIVE_WRITE_FAILED', e.message);
    assert.ok(e.message.includes(thin), e.message);
    return true;
  });
  assert.deepEqual(await readFile(thin), BUNDLE);
});

test('airgap hostile: trust remove also removes the staging of an import killed half-way', async (t) => {
  const a = await exported(t);
  const home = path.join(a.dir, 'home-b');
  const r = await importTrustArchive({ home, file: a.archive, root: a.root });
  const staging = path.join(path.dirname(fileURLToPath(r.entry.url)), '.import-dead', 'old-metadata');
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, 'root.json'), a.root);
  await removeTrust(home, NAME);
  assert.deepEqual(await snapshotTree(path.join(home, 'trust')), {});
});
