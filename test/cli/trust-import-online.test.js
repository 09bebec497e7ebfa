// `trust import` into a repository the site trusted online (review of ADR 0030): the entry
// turns offline (no update from its URL any more), and the CLI says so, also with --json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Sim, NAME } from '../helpers/sim.js';
import { writeMetadata } from '../helpers/client-repo.js';
import { cliOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { addTrust } from '../../dist/tuf/client/index.js';
import { exportTrustArchive } from '../../dist/cnab/index.js';

test('trust import: an entry trusted online turns offline with a warning naming its URL', async (t) => {
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  await sim.publish();
  const dir = await tempDir(t, 'cnabsec-import-online-');
  const metadata = await writeMetadata(sim, dir);
  const root = await readFile(path.join(metadata, '1.root.json'));
  const url = pathToFileURL(metadata).href;
  const homeA = path.join(dir, 'home-a');
  await addTrust(homeA, NAME, root, url);
  const archive = path.join(dir, 'trust.tgz');
  await exportTrustArchive({ home: homeA, target: `${NAME}:v1`, output: archive });

  const homeB = path.join(dir, 'home-b');
  await addTrust(homeB, NAME, root, url); // site B trusts the repository online
  const doc = JSON.parse(cliOk(['trust', 'import', archive, '--json'], { env: { CNABSEC_HOME: homeB } }));
  const warning = (doc.warnings ?? []).find((w) => w.includes('was trusted online'));
  assert.ok(warning, JSON.stringify(doc));
  assert.ok(warning.includes(url) && warning.includes('trust reset'), warning);
  // imported again: it was offline already, nothing to say
  const again = JSON.parse(cliOk(['trust', 'import', archive, '--json'], { env: { CNABSEC_HOME: homeB } }));
  assert.equal(
    (again.warnings ?? []).some((w) => w.includes('was trusted online')),
    false,
  );
});
