// An import killed at any rename (review of ADR 0030): the site keeps a usable trust entry
// (its pinned metadata, so rollback protection too), and the next import completes and leaves
// no staging directory behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalize } from '@tufjs/canonical-json';
import { Sim, NAME } from '../helpers/sim.js';
import { writeMetadata } from '../helpers/client-repo.js';
import { runCli, runCliAsync, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { addTrust, trustDir } from '../../dist/tuf/client/index.js';
import { exportTrustArchive, importTrustArchive, verifyBundle } from '../../dist/cnab/index.js';

const KILL = new URL('../helpers/kill-at-rename.js', import.meta.url).pathname;
const BUNDLE = Buffer.from(
  canonicalize({ schemaVersion: 'v1.0.0', name: 'app', version: '0.1.0', invocationImages: [] }),
);

test(
  'airgap crash: an import killed at any rename leaves a usable entry; the next import finishes',
  { timeout: 300_000 },
  async (t) => {
    const sim = await Sim.create(t);
    sim.addBundle('v1', BUNDLE);
    await sim.publish();
    const dir = await tempDir(t, 'cnabsec-airgap-crash-');
    const metadata = await writeMetadata(sim, dir);
    const root = await readFile(path.join(metadata, '1.root.json'));
    const homeA = path.join(dir, 'home-a');
    await addTrust(homeA, NAME, root, pathToFileURL(metadata).href);
    const thin = path.join(dir, 'bundle.json');
    await writeFile(thin, BUNDLE);
    const first = path.join(dir, 'first.tgz');
    await exportTrustArchive({ home: homeA, target: `${NAME}:v1`, output: first, thin });
    await sim.refresh();
    await writeMetadata(sim, dir);
    const second = path.join(dir, 'second.tgz');
    await exportTrustArchive({ home: homeA, target: `${NAME}:v1`, output: second, thin });

    const template = path.join(dir, 'template');
    await importTrustArchive({ home: template, file: first, root });
    const log = path.join(dir, 'renames.log');
    const counted = path.join(dir, 'counted');
    await cp(template, counted, { recursive: true });
    const ok = runCli(['trust', 'import', second], {
      env: { CNABSEC_HOME: counted, NODE_OPTIONS: `--import ${KILL}`, RENAME_LOG: log },
    });
    assert.equal(ok.status, 0, ok.stderr);
    const renames = (await readFile(log, 'utf8')).trim().split('\n').length;
    assert.ok(renames >= 3, `${renames} renames`);
    // a preload failing the Nth rename with EIO (a disk error) instead of killing
    const fail = path.join(dir, 'fail-at-rename.mjs');
    await writeFile(
      fail,
      `import fs from 'node:fs';
const at = Number(process.env.FAIL_AT_RENAME); let n = 0;
const r = fs.promises.rename; const rs = fs.renameSync;
const eio = () => Object.assign(new Error('injected EIO'), { code: 'EIO' });
fs.promises.rename = (a, b) => (++n === at ? Promise.reject(eio()) : r(a, b));
fs.renameSync = (a, b) => { if (++n === at) throw eio(); return rs(a, b); };`,
    );
    const before = await snapshotTree(template);
    for (let k = 1; k <= renames; k++) {
      const home = path.join(dir, `fail-${k}`);
      await cp(template, home, { recursive: true });
      const r = runCli(['trust', 'import', second], {
        env: { CNABSEC_HOME: home, NODE_OPTIONS: `--import ${fail}`, FAIL_AT_RENAME: String(k) },
      });
      assert.equal(r.status, 1, `rename ${k}: ${r.stderr}`);
      assert.match(r.stderr, /^cnabsec: error \[[A-Z_]+\]: .*EIO/, `rename ${k}`);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `rename ${k}`);
      assert.deepEqual(await snapshotTree(home), before, `rename ${k}: the trust store as it was`);
    }
    // three imports at once into one home: serialized by the entry's lock, all pass
    const together = path.join(dir, 'together');
    await cp(template, together, { recursive: true });
    const runs = await Promise.all(
      [second, first, second].map((f) =>
        runCliAsync(['trust', 'import', f], { env: { CNABSEC_HOME: together } }),
      ),
    );
    for (const r of runs) assert.ok(r.status === 0 || /\[TUF_ROLLBACK\]/.test(r.stderr), r.stderr);
    assert.equal((await verifyBundle({ target: `${NAME}:v1`, home: together, thin })).length, BUNDLE.length);
    assert.deepEqual(
      (await readdir(trustDir(together, NAME))).filter((f) => f.startsWith('.import-')),
      [],
    );
    for (let k = 1; k <= renames; k++) {
      const home = path.join(dir, `kill-${k}`);
      await cp(template, home, { recursive: true });
      const r = runCli(['trust', 'import', second], {
        env: { CNABSEC_HOME: home, NODE_OPTIONS: `--import ${KILL}`, KILL_AT_RENAME: String(k) },
      });
      assert.equal(r.signal, 'SIGKILL', `rename ${k}: ${r.stderr}`);
      // the import runs again (under the entry's lock) and completes
      const again = runCli(['trust', 'import', second], { env: { CNABSEC_HOME: home } });
      assert.equal(again.status, 0, `rename ${k}: ${again.stderr}`);
      const v = await verifyBundle({ target: `${NAME}:v1`, home, thin });
      assert.equal(v.length, BUNDLE.length, `rename ${k}`);
      const left = (await readdir(trustDir(home, NAME))).filter((f) => f.startsWith('.import-'));
      assert.deepEqual(left, [], `rename ${k}: staging left behind`);
    }
  },
);
