// `cnabsec trust add|list|reset|remove` (issue 12, items 3 and 4): remove forgets the pinned
// root and the metadata cache; reset to a root older than the trusted one is refused unless
// --allow-older; add, reset and remove hold the lock of the trust store entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { Sim, NAME, newSigners } from '../helpers/sim.js';
import { writeMetadata } from '../helpers/client-repo.js';
import { tempDir } from '../helpers/tmp.js';
import { rotateKeys } from '../../dist/tuf/index.js';

/** A repository published with root v1 then v2 (a root key added); a home trusting nothing. */
async function twoRoots(t) {
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  await sim.publish();
  const [next] = newSigners(1);
  sim.addSigners([next]);
  rotateKeys(sim.repo, 'root', { add: [next.publicKey] });
  await sim.publish();
  const dir = await tempDir(t);
  const metadata = await writeMetadata(sim, dir);
  const home = path.join(dir, 'home');
  return {
    sim,
    home,
    url: pathToFileURL(metadata).href,
    root1: path.join(metadata, '1.root.json'),
    root2: path.join(metadata, '2.root.json'),
    env: { CNABSEC_HOME: home, CI: 'true', CNABSEC_LOCK_WAIT: '0' },
    entry: path.join(home, 'trust', encodeURIComponent(NAME)),
  };
}

function refused(r, code, label) {
  assert.equal(r.status, 1, `${label}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `${label}: ${r.stderr}`);
  assert.match(lines[0], new RegExp(`^cnabsec: error \\[${code}\\]: `), label);
  assert.match(lines[1], /^ {2}hint: /, label);
  return lines;
}

test('trust add, list, remove: the entry, pinned root and cache are gone; remove again refused', async (t) => {
  const r = await twoRoots(t);
  cliOk(['trust', 'add', NAME, '--root', r.root1, '--url', r.url], { env: r.env });
  cliOk(['lookup', `${NAME}:v1`], { env: r.env }); // fills the metadata cache
  assert.ok((await readdir(path.join(r.entry, 'metadata'))).includes('timestamp.json'));
  assert.deepEqual(
    JSON.parse(cliOk(['trust', 'list', '--json'], { env: r.env })).repositories.map((e) => e.name),
    [NAME],
  );
  const out = JSON.parse(cliOk(['trust', 'remove', NAME, '--json'], { env: r.env }));
  assert.deepEqual(out, { name: NAME, url: r.url, removed: true });
  assert.deepEqual(JSON.parse(cliOk(['trust', 'list', '--json'], { env: r.env })), { repositories: [] });
  assert.deepEqual(await readdir(path.join(r.home, 'trust')), [], 'no directory left behind');
  const again = runCli(['trust', 'remove', NAME], { env: r.env });
  const [line, hint] = refused(again, 'TRUST_NOT_FOUND', 'remove twice');
  assert.ok(line.includes(NAME), line);
  assert.match(hint, /cnabsec trust list/);
  const lookup = runCli(['lookup', `${NAME}:v1`], { env: r.env });
  refused(lookup, 'TRUST_NOT_FOUND', 'lookup after remove');
  // and it can be trusted again
  cliOk(['trust', 'add', NAME, '--root', r.root1, '--url', r.url], { env: r.env });
  assert.match(
    cliOk(['trust', 'remove', NAME], { env: r.env }),
    /^no longer trusting example\.com\/org\/bundle/,
  );
});

test('trust reset to an older root: refused naming both versions, unless --allow-older', async (t) => {
  const r = await twoRoots(t);
  cliOk(['trust', 'add', NAME, '--root', r.root2, '--url', r.url], { env: r.env });
  const before = await snapshotTree(r.home);
  const older = runCli(['trust', 'reset', NAME, '--root', r.root1], { env: r.env });
  const [line, hint] = refused(older, 'TRUST_ROOT_OLDER', 'older');
  assert.match(line, /is v1, older than the trusted root v2/);
  assert.match(hint, /--allow-older/);
  assert.doesNotMatch(older.stderr, /\n\s+at /);
  assert.deepEqual(await snapshotTree(r.home), before, 'nothing changed');
  const ok = JSON.parse(
    cliOk(['trust', 'reset', NAME, '--root', r.root1, '--allow-older', '--json'], { env: r.env }),
  );
  assert.equal(ok.previous.version, 2);
  assert.equal(ok.current.version, 1);
  assert.deepEqual(await readFile(path.join(r.entry, 'metadata', 'root.json')), await readFile(r.root1));
  // the same or a newer version needs no flag; the client updates from it
  cliOk(['trust', 'reset', NAME, '--root', r.root2], { env: r.env });
  cliOk(['trust', 'reset', NAME, '--root', r.root2], { env: r.env });
  cliOk(['lookup', `${NAME}:v1`], { env: r.env });
});

test('trust add, reset and remove refuse while the entry is locked (CNABSEC_LOCK_WAIT=0)', async (t) => {
  const r = await twoRoots(t);
  cliOk(['trust', 'add', NAME, '--root', r.root1, '--url', r.url], { env: r.env });
  // the test runner (alive, this host) holds the entry's lock
  const owner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), nonce: 'n' };
  await writeFile(path.join(r.entry, '.cnabsec.lock'), JSON.stringify(owner));
  const before = await snapshotTree(r.home);
  for (const args of [
    ['trust', 'reset', NAME, '--root', r.root2],
    ['trust', 'remove', NAME],
  ]) {
    const [line] = refused(runCli(args, { env: r.env }), 'REPOSITORY_LOCKED', args[1]);
    assert.ok(line.includes(`pid ${process.pid}`), line);
    assert.ok(line.includes(path.join(r.entry, '.cnabsec.lock')), line);
  }
  assert.deepEqual(await snapshotTree(r.home), before, 'nothing changed under the lock');
  // add of a new entry whose directory holds a lock (another add in progress)
  const other = path.join(r.home, 'trust', encodeURIComponent('example.com/org/other'));
  await mkdir(other, { recursive: true });
  await writeFile(path.join(other, '.cnabsec.lock'), JSON.stringify(owner));
  refused(
    runCli(['trust', 'add', 'example.com/org/other', '--root', r.root1, '--url', r.url], { env: r.env }),
    'REPOSITORY_LOCKED',
    'add',
  );
  assert.deepEqual(await readdir(other), ['.cnabsec.lock']);
});
