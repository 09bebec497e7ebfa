// The everyday key verbs (issue 12 item 3): key list with repositories and roles, key remove
// (refused while a known repository lists the key), key passwd, key export --private and the
// import of its backup. Every command runs the real CLI against a real repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { cliOk, rolesOf, runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const PASS = 'correct horse battery staple';
const NAME = 'example.com/org/keys';

function envFor(home, extra = {}) {
  return { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: PASS, CI: 'true', ...extra };
}

async function remember(home, repos) {
  const repositories = repos.map(({ name, location }) => ({
    name,
    location,
    added: new Date().toISOString(),
  }));
  await mkdir(home, { recursive: true });
  await writeFile(path.join(home, 'repositories.json'), JSON.stringify({ repositories }), { mode: 0o600 });
}

/** A home with an initialized repository (one key per role), known, and one spare key. */
async function setup(t) {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const repo = path.join(dir, 'repo');
  const env = envFor(home);
  const init = JSON.parse(cliOk(['init', repo, '--name', NAME, '--json'], { env }));
  const ids = Object.fromEntries(Object.entries(rolesOf(init)).map(([role, r]) => [role, r.keyids[0]]));
  const spare = cliOk(['key', 'generate', '--label', 'spare'], { env }).trim();
  await remember(home, [
    { name: NAME, location: repo },
    { name: 'example.com/org/moved', location: path.join(dir, 'moved-away') },
  ]);
  return { dir, home, repo, env, ids, spare };
}

test('key list: key id, type, label and the repository and role each key serves; a moved repository is shown', async (t) => {
  const { repo, env, ids, spare } = await setup(t);
  const doc = JSON.parse(cliOk(['key', 'list', '--json'], { env }));
  assert.deepEqual(Object.keys(doc), ['keys']);
  const { keys } = doc;
  assert.equal(keys.length, 5);
  assert.deepEqual(
    keys.map((k) => k.keyid),
    keys.map((k) => k.keyid).sort(),
    'sorted by key id',
  );
  for (const k of keys) {
    assert.deepEqual(Object.keys(k), ['keyid', 'keytype', 'scheme', 'label', 'created', 'repositories']);
    const moved = k.repositories.find((r) => r.name === 'example.com/org/moved');
    assert.equal(moved.state, 'not-found');
    assert.deepEqual(moved.roles, []);
    assert.equal(moved.inRoot, false);
  }
  for (const [role, keyid] of Object.entries(ids)) {
    const k = keys.find((x) => x.keyid === keyid);
    assert.equal(k.label, role);
    assert.equal(k.keytype, 'ed25519');
    const [use] = k.repositories.filter((r) => r.state === 'ok');
    assert.deepEqual(use, { name: NAME, location: repo, roles: [role], inRoot: true, state: 'ok' });
  }
  const s = keys.find((x) => x.keyid === spare);
  assert.deepEqual(
    s.repositories.filter((r) => r.state === 'ok'),
    [],
    'the spare key serves no repository',
  );

  const r = runCli(['key', 'list'], { env });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith(ids.timestamp));
  assert.deepEqual(line.split(/\s+/).slice(1), ['ed25519', 'timestamp', `${NAME}[timestamp]`]);
  assert.match(r.stderr, /warning: known repository example\.com\/org\/moved at .*moved-away was not found/);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('moved-away')).length, 1, 'said once');
});

test('key list: a delegated role key and a key being rotated out are shown with their roles', async (t) => {
  const { repo, env, ids } = await setup(t);
  const d = JSON.parse(
    cliOk(['delegation', 'add', repo, 'targets/releases', '--paths', `${NAME}:*`, '--json'], { env }),
  );
  const releases = d.keyids[0];
  cliOk(['publish', repo], { env });
  cliOk(['key', 'rotate', repo, 'timestamp', '--add-key', 'new', '--remove-key', ids.timestamp], { env });
  const { keys } = JSON.parse(cliOk(['key', 'list', '--json'], { env }));
  const use = (keyid) => keys.find((k) => k.keyid === keyid).repositories.find((r) => r.state === 'ok');
  assert.deepEqual(use(releases).roles, ['targets/releases']);
  assert.equal(use(releases).inRoot, false);
  // staged root no longer lists the old timestamp key, the published one still does
  assert.deepEqual(use(ids.timestamp).roles, ['timestamp']);
  assert.equal(use(ids.timestamp).inRoot, false);
  const text = cliOk(['key', 'list'], { env });
  assert.match(text, new RegExp(`^${ids.timestamp} .*\\[timestamp\\] \\(not in the staged root\\)$`, 'm'));
});

test('key remove: refused while a known repository lists the key; --force and unused keys delete only that key', async (t) => {
  const { home, env, ids, spare, repo } = await setup(t);
  const before = await snapshotTree(home);
  const r = runCli(['key', 'remove', ids.root.slice(0, 8)], { env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`^cnabsec: error \\[KEY_IN_USE\\]: key ${ids.root} .*${NAME} \\(${repo}\\) as root`),
  );
  assert.match(r.stderr, /hint: .*--force/);
  assert.deepEqual(await snapshotTree(home), before, 'nothing deleted');

  const out = JSON.parse(cliOk(['key', 'remove', spare, '--json'], { env }));
  assert.equal(out.keyid, spare);
  const after = await snapshotTree(home);
  const gone = Object.keys(before).filter((k) => !(k in after));
  assert.deepEqual(gone, [`keys/${spare}.key`], 'only the spare key file is gone');
  for (const [k, v] of Object.entries(after)) assert.equal(before[k], v, `${k} unchanged`);

  const forced = runCli(['key', 'remove', ids.root, '--force'], { env });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /warning: --force: .* still lists the removed key as root/);
  const keys = JSON.parse(cliOk(['key', 'list', '--json'], { env })).keys.map((k) => k.keyid);
  assert.ok(!keys.includes(ids.root));
  assert.equal(keys.length, 3);
});

test('key passwd: old passphrase from CNABSEC_PASSPHRASE_<KEYID8>, new from CNABSEC_NEW_PASSPHRASE', async (t) => {
  const { dir, env, spare, home } = await setup(t);
  const k8 = spare.slice(0, 8).toUpperCase();
  const payload = path.join(dir, 'payload.bin');
  await writeFile(payload, 'bytes');
  const out = cliOk(['key', 'passwd', spare.slice(0, 8)], {
    env: envFor(home, {
      CNABSEC_PASSPHRASE: undefined,
      [`CNABSEC_PASSPHRASE_${k8}`]: PASS,
      CNABSEC_NEW_PASSPHRASE: 'new',
    }),
  });
  assert.equal(out, `changed the passphrase of key ${spare}\n`);
  const file = path.join(home, 'keys', `${spare}.key`);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).label, 'spare');
  const sig = JSON.parse(
    cliOk(['key', 'sign', spare, payload], { env: envFor(home, { CNABSEC_PASSPHRASE: 'new' }) }),
  );
  assert.equal(sig.keyid, spare);
  const old = runCli(['key', 'sign', spare, payload], { env });
  assert.equal(old.status, 1);
  assert.match(old.stderr, /WRONG_PASSPHRASE/);
});

test('key export --private and key import: an encrypted backup (0600) restores the key in another store', async (t) => {
  const { dir, env, ids } = await setup(t);
  const backup = path.join(dir, 'targets.backup.key');
  const out = cliOk(['key', 'export', ids.targets.slice(0, 8), '--private', '-o', backup], { env });
  assert.equal(out, `wrote an encrypted backup of key ${ids.targets} to ${backup}\n`);
  assert.equal((await stat(backup)).mode & 0o777, 0o600);
  const text = await readFile(backup, 'utf8');
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.equal(JSON.parse(text).keyid, ids.targets);

  // never over an existing file, unless --force
  const again = runCli(['key', 'export', ids.targets, '--private', '-o', backup], { env });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /KEY_BACKUP_EXISTS/);
  cliOk(['key', 'export', ids.targets, '--private', '-o', backup, '--force'], { env });
  assert.equal(await readFile(backup, 'utf8'), text);

  // the public export is unchanged: PEM on stdout
  assert.match(cliOk(['key', 'export', ids.targets], { env }), /^-----BEGIN PUBLIC KEY-----\n/);

  const other = envFor(path.join(dir, 'other-home'));
  const imported = JSON.parse(cliOk(['key', 'import', backup, '--json'], { env: other }));
  assert.equal(imported.keyid, ids.targets);
  assert.equal(imported.label, 'targets');
  assert.equal(imported.format, 'backup');
  const stored = path.join(dir, 'other-home', 'keys', `${ids.targets}.key`);
  assert.equal((await stat(stored)).mode & 0o777, 0o600);
  const dup = runCli(['key', 'import', backup], { env: other });
  assert.equal(dup.status, 1);
  assert.match(
    dup.stderr,
    new RegExp(
      `^cnabsec: error \\[KEY_EXISTS\\]: key ${ids.targets} \\("targets"\\) is already in the key store`,
    ),
  );
  // the restored key signs
  const payload = path.join(dir, 'p.bin');
  await writeFile(payload, 'x');
  assert.equal(JSON.parse(cliOk(['key', 'sign', ids.targets, payload], { env: other })).keyid, ids.targets);
});

test('init records its repository: key list shows the role and key remove refuses, with no registry written by hand', async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const repo = path.join(dir, 'repo');
  const env = envFor(home);
  const init = JSON.parse(cliOk(['init', repo, '--name', NAME, '--json'], { env }));
  const rootKey = rolesOf(init).root.keyids[0];
  const { keys } = JSON.parse(cliOk(['key', 'list', '--json'], { env }));
  const root = keys.find((k) => k.keyid === rootKey);
  assert.ok(root, 'the root key is listed');
  const serving = root.repositories.filter((r) => r.inRoot);
  assert.equal(serving.length, 1);
  assert.equal(serving[0].name, NAME);
  assert.equal(serving[0].location, repo);
  assert.deepEqual(serving[0].roles, ['root']);
  const r = runCli(['key', 'remove', rootKey], { env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /KEY_IN_USE/);
  await stat(path.join(home, 'keys', `${rootKey}.key`));
});

test('key export --private without -o is a usage error (exit 2), also as one JSON document; nothing written', async (t) => {
  const { home, env, spare } = await setup(t);
  const before = await snapshotTree(home);
  const r = runCli(['key', 'export', spare, '--private'], { env });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error: key export --private needs -o <file>/);
  assert.doesNotMatch(r.stderr, /at .*\.(c?js|ts):\d+/);
  assert.equal(r.stdout, '');
  const j = runCli(['key', 'export', spare, '--private', '--json'], { env });
  assert.equal(j.status, 2, j.stderr);
  assert.equal(JSON.parse(j.stdout).error.code, 'CLI_USAGE');
  assert.deepEqual(await snapshotTree(home), before);
});
