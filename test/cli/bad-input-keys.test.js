// Bad input to every key verb (issue 12 items 3, 6, 8): export, import, sign, remove, passwd,
// list. Same contract as test/cli/bad-input.test.js: exit status 1, no stack trace, stderr is
// `cnabsec: error [CODE]: ...` naming what was wrong plus a `hint:` line, nothing on stdout,
// and the key store (the whole $CNABSEC_HOME) and the repository byte-for-byte unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliOk, rolesOf, runCli, snapshotTree } from '../helpers/cli.js';

const PASS = 'correct horse battery staple';
const NAME = 'example.com/org/bad-keys';
const ctx = {};
let caseNo = 0;

function envFor(home, extra = {}) {
  return { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: PASS, CI: 'true', ...extra };
}

async function writeKnown(home, repo) {
  const repositories = [{ name: NAME, location: repo, added: '2026-01-01T00:00:00.000Z' }];
  await writeFile(path.join(home, 'repositories.json'), JSON.stringify({ repositories }), { mode: 0o600 });
}

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bad-keys-'));
  ctx.home0 = path.join(ctx.work, 'home0');
  ctx.repo0 = path.join(ctx.work, 'repo0');
  const env = envFor(ctx.home0);
  const init = JSON.parse(cliOk(['init', ctx.repo0, '--name', NAME, '--json'], { env }));
  ctx.ids = Object.fromEntries(Object.entries(rolesOf(init)).map(([role, r]) => [role, r.keyids[0]]));
  ctx.spare = cliOk(['key', 'generate', '--label', 'spare'], { env }).trim();
  ctx.backup = path.join(ctx.work, 'spare.backup.key');
  cliOk(['key', 'export', ctx.spare, '--private', '-o', ctx.backup], { env });
  const { privateKey } = generateKeyPairSync('ed25519');
  ctx.encryptedPem = path.join(ctx.work, 'enc.pem');
  await writeFile(
    ctx.encryptedPem,
    privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }),
  );
  ctx.publicPem = path.join(ctx.work, 'pub.pem');
  await writeFile(ctx.publicPem, cliOk(['key', 'export', ctx.spare], { env }));
  cliOk(['bundle', 'add', ctx.repo0, 'v1', '--thin', await bundleFile()], { env });
});

async function bundleFile() {
  const f = path.join(ctx.work, 'bundle.json');
  await writeFile(
    f,
    '{"invocationImages":[{"image":"cnab/helloworld:0.1.0","imageType":"docker"}],"name":"helloworld","schemaVersion":"v1.0.0","version":"0.1.0"}',
  );
  return f;
}

after(() => rm(ctx.work, { recursive: true, force: true }));

/** A fresh copy of the shared home (key store, known repositories) and repository. */
async function fresh() {
  const dir = path.join(ctx.work, `case-${++caseNo}`);
  await mkdir(dir);
  const home = path.join(dir, 'home');
  const repo = path.join(dir, 'repo');
  await cp(ctx.home0, home, { recursive: true });
  await cp(ctx.repo0, repo, { recursive: true });
  await writeKnown(home, repo);
  return { dir, home, repo };
}

/** A copy of the backup of the spare key with `edit` applied to its JSON. */
async function editedBackup(dir, edit) {
  const doc = JSON.parse(await readFile(ctx.backup, 'utf8'));
  edit(doc);
  const f = path.join(dir, 'edited.key');
  await writeFile(f, JSON.stringify(doc));
  return f;
}

const none = (extra = {}) => ({ CNABSEC_PASSPHRASE: undefined, ...extra });

const CASES = [
  // ---- export
  {
    title: 'export: unknown key id',
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'export', 'deadbeef'], names: ['deadbeef'] }),
  },
  {
    title: 'export: not a key id',
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'export', 'root'], names: ['"root"'] }),
  },
  {
    title: 'export --private onto an existing file',
    code: 'KEY_BACKUP_EXISTS',
    prepare: async ({ dir }) => {
      const f = path.join(dir, 'exists.key');
      await writeFile(f, 'keep me');
      return {
        args: ['key', 'export', ctx.spare, '--private', '-o', f],
        names: [f],
        hint: /--force/,
        watch: [f],
      };
    },
  },
  {
    title: 'export --private into a missing directory',
    code: 'KEY_BACKUP_IO',
    prepare: ({ dir }) => {
      const f = path.join(dir, 'no', 'such', 'b.key');
      return { args: ['key', 'export', ctx.spare, '--private', '-o', f], names: [f, 'ENOENT'] };
    },
  },
  // ---- import
  ...[
    ['a missing file', (dir) => path.join(dir, 'missing.key'), 'ENOENT'],
    ['a directory', (dir) => dir, 'EISDIR'],
  ].map(([what, file, errno]) => ({
    title: `import: ${what}`,
    code: 'KEY_INVALID',
    prepare: ({ dir }) => ({ args: ['key', 'import', file(dir)], names: [file(dir), errno] }),
  })),
  {
    title: 'import: neither PEM nor a backup',
    code: 'KEY_INVALID',
    prepare: async ({ dir }) => {
      const f = path.join(dir, 'junk.txt');
      await writeFile(f, 'hello');
      return { args: ['key', 'import', f], names: [f] };
    },
  },
  {
    title: 'import: a truncated backup',
    code: 'KEY_INVALID',
    prepare: async ({ dir }) => {
      const f = path.join(dir, 'cut.key');
      await writeFile(f, (await readFile(ctx.backup, 'utf8')).slice(0, 100));
      return { args: ['key', 'import', f], names: [f] };
    },
  },
  {
    title: 'import: a backup asking for another scrypt cost',
    code: 'KEY_FILE_INVALID',
    prepare: async ({ dir }) => {
      const f = await editedBackup(dir, (d) => (d.kdf.N = 2 ** 20));
      return { args: ['key', 'import', f], names: [f, 'kdf.N'] };
    },
  },
  {
    title: 'import: a backup whose key id is not its public key',
    code: 'KEY_FILE_CORRUPT',
    prepare: async ({ dir }) => {
      const f = await editedBackup(dir, (d) => (d.keyid = 'ab'.repeat(32)));
      return { args: ['key', 'import', f], names: [f] };
    },
  },
  {
    title: 'import: a backup already in the store',
    code: 'KEY_EXISTS',
    prepare: () => ({
      args: ['key', 'import', ctx.backup],
      env: none(),
      names: [ctx.spare],
      hint: /key remove/,
    }),
  },
  {
    title: 'import: a backup with the wrong passphrase',
    code: 'WRONG_PASSPHRASE',
    prepare: async ({ home }) => {
      await rm(path.join(home, 'keys', `${ctx.spare}.key`));
      return { args: ['key', 'import', ctx.backup], env: { CNABSEC_PASSPHRASE: 'nope' }, names: [ctx.spare] };
    },
  },
  {
    title: 'import: an encrypted PEM private key',
    code: 'KEY_INVALID',
    prepare: () => ({
      args: ['key', 'import', ctx.encryptedPem],
      names: [ctx.encryptedPem],
      hint: /openssl/,
    }),
  },
  {
    title: 'import: a public key',
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'import', ctx.publicPem], names: [ctx.publicPem] }),
  },
  // ---- sign
  {
    title: 'sign: a key not authorized for the role, no passphrase, --no-prompt',
    code: 'KEY_NOT_AUTHORIZED',
    prepare: ({ repo }) => ({
      args: ['sign', repo, 'targets', '--key', ctx.ids.root, '--no-prompt'],
      env: none({ CI: undefined }),
      names: [ctx.ids.root, 'targets'],
      hint: new RegExp(ctx.ids.targets),
    }),
  },
  {
    title: 'sign: an unknown key',
    code: 'KEY_NOT_FOUND',
    prepare: ({ repo }) => ({ args: ['sign', repo, 'targets', '--key', 'deadbeef'], names: ['deadbeef'] }),
  },
  {
    title: 'sign: a role without staged changes, before any passphrase',
    code: 'ROLE_NOT_STAGED',
    prepare: ({ repo }) => ({
      args: ['sign', repo, 'snapshot', '--key', ctx.ids.snapshot],
      env: none(),
      names: ['snapshot'],
    }),
  },
  {
    title: 'key sign: wrong passphrase',
    code: 'WRONG_PASSPHRASE',
    prepare: async ({ dir }) => {
      const f = path.join(dir, 'payload.bin');
      await writeFile(f, 'x');
      return { args: ['key', 'sign', ctx.spare, f], env: { CNABSEC_PASSPHRASE: 'nope' }, names: [ctx.spare] };
    },
  },
  // ---- remove
  {
    title: 'remove: a key the known repository lists',
    code: 'KEY_IN_USE',
    prepare: ({ repo }) => ({
      args: ['key', 'remove', ctx.ids.targets],
      names: [ctx.ids.targets, NAME, repo, 'targets'],
      hint: /--force/,
    }),
  },
  {
    title: 'key remove: unknown key',
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'remove', 'deadbeef'], names: ['deadbeef'] }),
  },
  {
    title: 'key remove: not a key id',
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'remove', '../x'], names: ['"../x"'] }),
  },
  // ---- passwd
  {
    title: 'key passwd: wrong old passphrase',
    code: 'WRONG_PASSPHRASE',
    prepare: () => ({
      args: ['key', 'passwd', ctx.spare],
      env: { CNABSEC_PASSPHRASE: 'nope', CNABSEC_NEW_PASSPHRASE: 'n' },
      names: [ctx.spare],
    }),
  },
  {
    title: 'key passwd: no new passphrase without a terminal',
    code: 'PASSPHRASE_REQUIRED',
    prepare: () => ({
      args: ['key', 'passwd', ctx.spare],
      names: [ctx.spare.slice(0, 8)],
      hint: /CNABSEC_NEW_PASSPHRASE/,
    }),
  },
  {
    title: 'key passwd: an empty new passphrase',
    code: 'PASSPHRASE_REQUIRED',
    prepare: () => ({
      args: ['key', 'passwd', ctx.spare],
      env: { CNABSEC_NEW_PASSPHRASE: '' },
      names: [ctx.spare],
    }),
  },
  {
    title: 'key passwd: no old passphrase, --no-prompt',
    code: 'PASSPHRASE_REQUIRED',
    prepare: () => ({
      args: ['key', 'passwd', ctx.spare, '--no-prompt'],
      env: none({ CI: undefined, CNABSEC_NEW_PASSPHRASE: 'n' }),
      names: [ctx.spare.slice(0, 8)],
    }),
  },
  {
    title: 'key passwd: unknown key',
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'passwd', 'deadbeef'], names: ['deadbeef'] }),
  },
  // ---- list
  {
    title: 'list: a corrupt repositories.json',
    code: 'KNOWN_REPOSITORIES_IO',
    prepare: async ({ home }) => {
      const f = path.join(home, 'repositories.json');
      await writeFile(f, '{"repositories": ', { mode: 0o600 });
      return { args: ['key', 'list'], names: [f] };
    },
  },
  {
    title: 'list: a key file others can read',
    code: 'KEY_FILE_PERMISSIONS',
    prepare: async ({ home }) => {
      const f = path.join(home, 'keys', `${ctx.spare}.key`);
      await (await import('node:fs/promises')).chmod(f, 0o644);
      return { args: ['key', 'list'], names: [f], hint: /chmod 600/ };
    },
  },
];

for (const c of CASES) {
  test(`bad key input: ${c.title}`, async () => {
    const copy = await fresh();
    const p = await c.prepare(copy);
    const env = envFor(copy.home, p.env ?? {});
    const watch = [copy.home, copy.repo, ...(p.watch ?? [])];
    const before = await Promise.all(watch.map((d) => snapshotTree(d).catch(() => readFile(d, 'utf8'))));
    const r = runCli(p.args, { env });
    const out = `cnabsec ${p.args.join(' ')}\n--- status ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
    assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, `no stack trace\n${out}`);
    assert.equal(r.status, 1, `exit status 1\n${out}`);
    assert.equal(r.stdout, '', `nothing on stdout\n${out}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('cnabsec: warning:'));
    assert.equal(lines.length, 2, `one error line and one hint\n${out}`);
    assert.match(lines[0], new RegExp(`^cnabsec: error \\[${c.code}\\]: \\S`), out);
    for (const n of p.names ?? []) assert.ok(lines[0].includes(n), `the error line names ${n}\n${out}`);
    assert.match(lines[1], /^ {2}hint: \S/, out);
    if (p.hint !== undefined) assert.match(lines[1], p.hint, out);
    const afterState = await Promise.all(watch.map((d) => snapshotTree(d).catch(() => readFile(d, 'utf8'))));
    assert.deepEqual(afterState, before, `key store and repository unchanged\n${out}`);
  });
}

test('bad key input: --json prints the error as one JSON document on stdout, nothing removed', async () => {
  const { home } = await fresh();
  const before = await snapshotTree(home);
  const r = runCli(['key', 'remove', ctx.ids.root, '--json'], { env: envFor(home) });
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.code, 'KEY_IN_USE');
  assert.equal(doc.error.details.keyid, ctx.ids.root);
  assert.deepEqual(
    doc.error.details.repositories.map((u) => u.roles),
    [['root']],
  );
  assert.deepEqual(await snapshotTree(home), before);
});
