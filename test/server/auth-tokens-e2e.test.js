// Tokens end to end (issue 15 item 3): a real `cnabsec server --auth tokens` process, tokens
// made by `cnabsec server token create` (= `server-token create`) beside it on its database, and the client's
// CNABSEC_TOKEN: init and publish with a write token pass; a read token's publish is 403, one
// line with a hint, nothing stored; a token created or revoked while the server runs holds at
// the next request; a user reads anonymously only where anonymousRead allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOk, cliOkAsync, runCliAsync } from '../helpers/cli.js';
import { masterKeyHex, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const NAME = 'example.com/acme/app';
const PASS = 'correct horse battery staple';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));

function oneLineError(r, code, hint) {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], new RegExp(`^cnabsec: error \\[${code}\\]: `));
  assert.match(lines[1], hint);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

test('server --auth tokens: write token publishes, read token 403 in one line, revoke holds at once', async (t) => {
  const dir = await tempDir(t, 'cnabsec-auth-e2e-');
  const db = path.join(dir, 'server.db');
  const admin = { CNABSEC_HOME: path.join(dir, 'ops') };
  // issue 15's words (`server token`, `server migrate`) and the hyphenated commands are one
  const mint = (scope, repo, words = ['server', 'token']) =>
    cliOk([...words, 'create', '--scope', scope, '--repo', repo, '--db', db], { env: admin }).trim();
  assert.match(cliOk(['server', 'migrate', '--db', db], { env: admin }), /migrated schema version 0 to 3/);
  assert.match(cliOk(['server-migrate', '--db', db], { env: admin }), /schema version 3/);
  const read = mint('read', 'example.com/acme/*', ['server-token']);
  const srv = await startServerProcess(t, ['--auth', 'tokens', '--db', db], {
    env: { CNABSEC_SERVER_MASTER_KEY: masterKeyHex(), CNABSEC_SERVER_ANONYMOUS_READ: 'example.com/open/*' },
  });
  // created while the server runs: accepted at its first request
  const write = mint('write', 'example.com/acme/*');
  const evil = mint('write', 'example.com/acme-evil/*');
  const maint = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: PASS, CI: 'true' };
  const repo = path.join(dir, 'repo');
  // init asks the server for its timestamp key: a write
  const refused = await runCliAsync(
    ['init', repo, '--name', NAME, '--server', srv.url, '--server-managed', 'timestamp'],
    { env: { ...maint, CNABSEC_TOKEN: evil } },
  );
  oneLineError(refused, 'REMOTE_REFUSED', /CNABSEC_TOKEN/);
  await cliOkAsync(['init', repo, '--name', NAME, '--server', srv.url, '--server-managed', 'timestamp'], {
    env: { ...maint, CNABSEC_TOKEN: write },
  });
  await cliOkAsync(['bundle', 'add', repo, 'v1', '--thin', FIXTURE], { env: maint });
  const r = await runCliAsync(['publish', repo], { env: { ...maint, CNABSEC_TOKEN: read } });
  oneLineError(r, 'REMOTE_REFUSED', /CNABSEC_TOKEN/);
  assert.match(r.stderr, /403|FORBIDDEN|may not write/);
  assert.ok(!r.stderr.includes(read), 'the token is not printed');
  const none = await runCliAsync(['publish', repo], { env: maint });
  oneLineError(none, 'REMOTE_REFUSED', /CNABSEC_TOKEN/);
  const pub = JSON.parse(
    await cliOkAsync(['publish', repo, '--json'], { env: { ...maint, CNABSEC_TOKEN: write } }),
  );
  assert.ok(pub.published.some((p) => p.role === 'targets'));
  // a user with the read token trusts and looks up; without a token: 401 outside anonymousRead
  const user = { CNABSEC_HOME: path.join(dir, 'user'), CI: 'true' };
  const root = path.join(repo, 'metadata', '1.root.json');
  await cliOkAsync(['trust', 'add', NAME, '--root', root, '--server', srv.url], { env: user });
  const anon = await runCliAsync(['lookup', `${NAME}:v1`], { env: user });
  assert.equal(anon.status, 1, anon.stderr);
  assert.doesNotMatch(anon.stderr, /^\s+at /m);
  await cliOkAsync(['lookup', `${NAME}:v1`], { env: { ...user, CNABSEC_TOKEN: read } });
  // revoke the write token beside the running server: the next publish is refused
  const list = JSON.parse(cliOk(['server-token', 'list', '--db', db, '--json'], { env: admin }));
  assert.equal(list.tokens.length, 3);
  assert.ok(!JSON.stringify(list).includes(write.slice(8)));
  const writeId = list.tokens.find((x) => x.scope === 'write' && x.repo[0] === 'example.com/acme/*').id;
  cliOk(['server-token', 'revoke', writeId, '--db', db], { env: admin });
  await cliOkAsync(['bundle', 'add', repo, 'v2', '--thin', FIXTURE], { env: maint });
  const after = await runCliAsync(['publish', repo], { env: { ...maint, CNABSEC_TOKEN: write } });
  oneLineError(after, 'REMOTE_REFUSED', /CNABSEC_TOKEN/);
  // the server never logged a token
  for (const tok of [read, write, evil])
    assert.ok(!srv.stderr().includes(tok) && !srv.stdout().includes(tok));
});
