// Every client entry point wraps its failures (fuzz issue, item 3): tuf-js loads the pinned
// root in the Updater's constructor, outside refresh(); a corrupt cached root.json must give
// TRUST_CORRUPT with a `cnabsec trust reset` hint from `new TrustClient` and exit 1 (not 70)
// from `cnabsec lookup` and `cnabsec verify`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TrustClient, resetTrust } from '../../dist/tuf/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { Sim, NAME } from '../helpers/sim.js';

const CORRUPT = {
  truncated: '{',
  'not an object': '[1, 2]',
  'wrong _type': JSON.stringify({ signatures: [], signed: { _type: 'targets' } }),
  'huge _type': JSON.stringify({ signatures: [], signed: { _type: 'a'.repeat(100_000) } }),
  'nested 100 000 deep': `{"signed":${'['.repeat(100_000)}`,
  'no signed': JSON.stringify({ signatures: [] }),
  'root without fields': JSON.stringify({ signatures: [], signed: { _type: 'root' } }),
  'signatures not an array': JSON.stringify({ signatures: 5, signed: { _type: 'root' } }),
};

async function unsignedRoot(t) {
  const sim = await Sim.create(t);
  const j = JSON.parse(Buffer.from(sim.file('1.root.json')).toString('utf8'));
  j.signatures = [];
  return JSON.stringify(j);
}

function checkCorrupt(e, label) {
  assert.equal(e.code, 'TRUST_CORRUPT', `${label}: ${e.code} ${String(e.message).slice(0, 300)}`);
  assert.match(e.hint, /cnabsec trust reset/, label);
  assert.ok(e.message.length < 1000, `${label}: message of ${e.message.length} characters`);
}

test('new TrustClient with a corrupt, unsigned or missing pinned root: TRUST_CORRUPT', async (t) => {
  const dir = await tempDir(t);
  const cases = { ...CORRUPT, unsigned: await unsignedRoot(t), missing: null };
  for (const [label, content] of Object.entries(cases)) {
    const cacheDir = path.join(dir, label.replace(/\W/g, '_'));
    await mkdir(cacheDir, { recursive: true });
    if (content !== null) await writeFile(path.join(cacheDir, 'root.json'), content);
    assert.throws(
      () => new TrustClient({ name: NAME, metadataUrl: 'https://tuf.example/metadata', cacheDir }),
      (e) => {
        checkCorrupt(e, label);
        return true;
      },
    );
  }
});

/** A CNABSEC_HOME trusting NAME at a file:// URL, with `root` as its pinned root. */
async function homeWithPinnedRoot(t, root) {
  const home = await tempDir(t);
  const dir = path.join(home, 'trust', encodeURIComponent(NAME));
  await mkdir(path.join(dir, 'metadata'), { recursive: true });
  const url = pathToFileURL(path.join(home, 'repo', 'metadata')).href;
  await writeFile(
    path.join(dir, 'trust.json'),
    JSON.stringify({ name: NAME, url, added: new Date().toISOString() }),
  );
  await writeFile(path.join(dir, 'metadata', 'root.json'), root);
  return home;
}

test('cnabsec lookup / verify with a corrupt pinned root: exit 1, [TRUST_CORRUPT], a trust reset hint', async (t) => {
  for (const label of ['truncated', 'wrong _type', 'nested 100 000 deep']) {
    const home = await homeWithPinnedRoot(t, CORRUPT[label]);
    const thin = path.join(home, 'bundle.json');
    await writeFile(thin, '{}');
    for (const args of [
      ['lookup', `${NAME}:v1`],
      ['verify', `${NAME}:v1`, '--thin', thin],
    ]) {
      const r = runCli(args, { env: { CNABSEC_HOME: home } });
      assert.equal(r.status, 1, `${label}, ${args[0]}: ${r.stderr}`);
      // verify reports step 1 of doc 303 as TUF_UPDATE_FAILED, naming the pinned root
      assert.match(
        r.stderr,
        args[0] === 'lookup' ? /error \[TRUST_CORRUPT\]/ : /error \[TUF_UPDATE_FAILED\].*the pinned root/,
        `${label}, ${args[0]}`,
      );
      assert.match(r.stderr, /trust reset/, `${label}, ${args[0]}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    await rm(home, { recursive: true, force: true });
  }
});

test('the hint works: trust reset over a corrupt pinned root re-pins it and the client loads', async (t) => {
  const sim = await Sim.create(t);
  const home = await homeWithPinnedRoot(t, CORRUPT['nested 100 000 deep']);
  const reset = await resetTrust(home, NAME, sim.file('1.root.json'));
  assert.equal(reset.previous, null, 'the corrupt root is not described');
  assert.equal(reset.current.version, 1);
  const cacheDir = path.join(home, 'trust', encodeURIComponent(NAME), 'metadata');
  const client = new TrustClient({ name: NAME, metadataUrl: 'https://tuf.example/metadata', cacheDir });
  assert.equal(client.name, NAME);
});
