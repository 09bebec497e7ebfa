// Bad input of `cnabsec server-token create|list|revoke` and `cnabsec server-migrate` (issue 15
// item 3): a missing database is refused (never created by a typo), a bad scope, pattern,
// duration or id is one line with a hint, and the database is left as it was.
import { test } from 'node:test';
import * as path from 'node:path';
import { expectUsageError, expectUserError } from '../helpers/bad-input.js';
import { cliOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

async function withDb(t) {
  const dir = await tempDir(t, 'cnabsec-token-bad-');
  const db = path.join(dir, 'server.db');
  cliOk(['server-migrate', '--db', db], { env: { CNABSEC_HOME: dir } });
  return { dir, db, env: { CNABSEC_HOME: dir } };
}

test('server-token create: the database does not exist', async (t) => {
  const { dir, env } = await withDb(t);
  const none = path.join(dir, 'none.db');
  await expectUserError({
    args: ['server-token', 'create', '--scope', 'read', '--repo', '*', '--db', none],
    env,
    code: 'STORE_IO',
    names: [none, 'no such database'],
    hint: /server-migrate/,
    watch: [dir],
  });
});

test('server-token create: a pattern that is not one (acme-*, a traversal, **/x)', async (t) => {
  const { dir, db, env } = await withDb(t);
  for (const p of ['example.com/acme-*', 'example.com/../x', '**/x', 'example.com/acme/'])
    await expectUsageError({
      args: ['server-token', 'create', '--scope', 'write', '--repo', p, '--db', db],
      env,
      names: ['--repo', p],
      watch: [dir],
    });
});

test('server-token create: a scope that is not read, write or admin; a bad --expires', async (t) => {
  const { dir, db, env } = await withDb(t);
  await expectUsageError({
    args: ['server-token', 'create', '--scope', 'root', '--repo', '*', '--db', db],
    env,
    names: ['--scope', 'root'],
    watch: [dir],
  });
  await expectUsageError({
    args: ['server-token', 'create', '--scope', 'read', '--repo', '*', '--expires', 'soon', '--db', db],
    env,
    names: ['--expires', 'soon'],
    watch: [dir],
  });
  await expectUsageError({
    args: ['server-token', 'create', '--scope', 'read', '--db', db],
    env,
    names: ['--repo'],
    watch: [dir],
  });
});

test('server-token create: a description with a newline', async (t) => {
  const { dir, db, env } = await withDb(t);
  await expectUserError({
    args: ['server-token', 'create', '--scope', 'read', '--repo', '*', '--description', 'a\nb', '--db', db],
    env,
    code: 'TOKEN_PATTERN',
    names: ['description'],
    watch: [dir],
  });
});

test('server-token list: the database does not exist', async (t) => {
  const { dir, env } = await withDb(t);
  const none = path.join(dir, 'none.db');
  await expectUserError({
    args: ['server-token', 'list', '--db', none],
    env,
    code: 'STORE_IO',
    names: [none],
    watch: [dir],
  });
});

test('server-token revoke: an id that is not in the database', async (t) => {
  const { dir, db, env } = await withDb(t);
  for (const id of ['000000000000', 'abc', "x' OR 1=1"])
    await expectUserError({
      args: ['server-token', 'revoke', id, '--db', db],
      env,
      code: 'TOKEN_UNKNOWN',
      names: [id],
      hint: /server-token list/,
      watch: [dir],
    });
});

test('server-migrate: the database is a directory; the config file does not exist', async (t) => {
  const { dir, env } = await withDb(t);
  await expectUserError({
    args: ['server-migrate', '--db', dir],
    env,
    code: 'STORE_IO',
    names: [dir],
  });
  await expectUserError({
    args: ['server-migrate', '--config', path.join(dir, 'missing.json')],
    env,
    code: 'SERVER_CONFIG',
    names: ['missing.json'],
    watch: [dir],
  });
});
