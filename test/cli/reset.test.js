// `cnabsec reset <repo>`: discard staged changes (issue 12 item 3, Notary's `notary reset --all`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import {
  FsMetadataStore,
  LocalRepository,
  addTargetFile,
  saveRecovery,
  stageRecovery,
} from '../../dist/tuf/index.js';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';
import { publishedRepository } from '../helpers/published.js';

const NAME = 'example.com/org/reset';
const published = (t) => publishedRepository(t, 'reset');

test('reset discards staged roles and prints them; the published metadata is untouched', async (t) => {
  const { repo, env, bundle } = await published(t);
  const metadata = await snapshotTree(path.join(repo, 'metadata'));
  cliOk(['bundle', 'add', repo, 'v1', '--thin', bundle], { env });
  cliOk(['resign', repo, 'root'], { env });
  const out = cliOk(['reset', repo], { env });
  assert.match(out, /^discarded staged changes of example\.com\/org\/reset:$/m);
  assert.match(out, /^ {2}root +staged v2 {2}\(back to published v1\)$/m);
  assert.match(out, /^ {2}targets +staged v2 {2}\(back to published v1\)$/m);
  assert.deepEqual(await readdir(path.join(repo, 'staged')), []);
  assert.deepEqual(await snapshotTree(path.join(repo, 'metadata')), metadata);
  const list = JSON.parse(cliOk(['bundle', 'list', repo, '--json'], { env }));
  assert.deepEqual(list, { name: NAME, targets: [] }, 'the staged bundle is gone');
  const status = JSON.parse(cliOk(['status', repo, '--json'], { env }));
  assert.deepEqual(status.staged, []);
  // the next change starts again from the published version
  const again = JSON.parse(cliOk(['bundle', 'add', repo, 'v1', '--thin', bundle, '--json'], { env }));
  assert.equal(again.version, 2);
});

test('reset with nothing staged says so and exits 0, writing nothing', async (t) => {
  const { repo, env } = await published(t);
  const before = await snapshotTree(repo);
  const r = runCli(['reset', repo], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `nothing staged in ${repo}\n`);
  assert.equal(r.stderr, '');
  const j = JSON.parse(cliOk(['reset', repo, '--json', '--all'], { env }));
  assert.deepEqual(j, { name: NAME, dryRun: false, discarded: [], files: [], recovery: false });
  assert.deepEqual(await snapshotTree(repo), before);
});

test('reset --dry-run lists what would go and removes nothing; --json has the same', async (t) => {
  const { repo, env, bundle } = await published(t);
  cliOk(['bundle', 'add', repo, 'v1', '--thin', bundle], { env });
  const before = await snapshotTree(repo);
  const out = cliOk(['reset', repo, '--dry-run'], { env });
  assert.match(out, /^dry run \(nothing removed\): would discard staged changes/m);
  assert.match(out, /^ {2}targets +staged v2/m);
  const j = JSON.parse(cliOk(['reset', repo, '--dry-run', '--json'], { env }));
  assert.deepEqual(j.discarded, [{ role: 'targets', version: 2, publishedVersion: 1 }]);
  assert.equal(j.dryRun, true);
  assert.deepEqual(await snapshotTree(repo), before);
});

test('reset removes the bytes of staged target files and a staged recovery marker', async (t) => {
  const { dir, repo, env } = await published(t);
  const store = new KeyStore(env.CNABSEC_HOME);
  const newRoot = await store.generate('ed25519', 'root', fixedPassphrases('pw'));
  const r = await LocalRepository.open(new FsMetadataStore(repo));
  await addTargetFile(r, `${NAME}/in-toto-metadata/root.layout`, new TextEncoder().encode('{"x":1}'));
  stageRecovery(r, { rootKeys: [newRoot.publicKey] });
  await saveRecovery(r);
  const config = JSON.parse(await readFile(path.join(repo, 'cnabsec.json'), 'utf8'));
  assert.equal(config.recovery.rootVersion, 2, 'set-up: a recovery is staged');
  const j = JSON.parse(cliOk(['reset', repo, '--json'], { env }));
  assert.equal(j.recovery, true);
  assert.deepEqual(
    j.files.map((f) => [f.name, /^[0-9a-f]{64}$/.test(f.hashes.sha256)]),
    [[`${NAME}/in-toto-metadata/root.layout`, true]],
  );
  assert.deepEqual(
    j.discarded.map((d) => d.role),
    ['root', 'targets'],
  );
  const after = await snapshotTree(path.join(repo, 'staged'));
  assert.deepEqual(
    Object.keys(after).filter((k) => !k.endsWith('/')),
    [],
    'no staged file left',
  );
  const config2 = JSON.parse(await readFile(path.join(repo, 'cnabsec.json'), 'utf8'));
  assert.equal(config2.recovery, undefined);
  assert.equal(config2.name, NAME);
  void dir;
});

test('reset of a repository never published is refused: it would leave no root', async (t) => {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', repo, '--name', NAME], { env });
  const before = await snapshotTree(repo);
  const r = runCli(['reset', repo], { env });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^cnabsec: error \[REPO_NOT_PUBLISHED\]: example\.com\/org\/reset has never been published/,
  );
  assert.match(r.stderr, /\n {2}hint: publish it first/);
  assert.deepEqual(await snapshotTree(repo), before);
});
