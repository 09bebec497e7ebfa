// Names that cannot escape, through the real CLI (ADR 0012). Every entry point that takes
// a repository name, trust name, tag or role name is given `..`, `../../etc`, `a\nb`, `A`, an
// empty name, 300 characters, `%2F`, an escape sequence, ...; each must fail with exit 1, one
// `cnabsec: error [CODE]: ...` line and one hint line (no log injection), nothing on stdout,
// and nothing changed anywhere under the test's directory (repository, key store, trust store,
// and the files beside them). NUL cannot be passed in argv (the OS refuses it): the library
// tests (test/tuf/names.test.js) cover it. `--custom` values no TUF peer signs the same way
// are refused with the path inside the value, and later publishes still work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';

const NAME = 'example.com/org/app';
const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
const ctx = {};

const BAD_NAMES = [
  '..',
  '.',
  '../../etc',
  'a\nb',
  'A',
  '',
  'a'.repeat(300),
  'a%2Fb',
  '%2E%2E',
  'a\u001b[2Jb',
];
const BAD_TAGS = [
  '..',
  '../../etc',
  'a\nb',
  '',
  'x'.repeat(300),
  'a%2Fb',
  '.x',
  'v1\ncnabsec: error [FAKE]: x',
];
const BAD_ROLES = [
  '..',
  '../../etc',
  'targets/../x',
  'targets//x',
  'targets/\n',
  'a\nb',
  '',
  'x'.repeat(300),
  'a%2Fb',
  'a.json/b',
];

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-names-'));
  ctx.home = path.join(ctx.work, 'home');
  ctx.repo = path.join(ctx.work, 'repo');
  ctx.env = { CNABSEC_HOME: ctx.home, CNABSEC_PASSPHRASE: 'names pass', CI: 'true' };
  cliOk(['init', ctx.repo, '--name', NAME], { env: ctx.env });
  cliOk(['bundle', 'add', ctx.repo, 'v1', '--thin', FIXTURE], { env: ctx.env });
  cliOk(['publish', ctx.repo], { env: ctx.env });
  ctx.root = path.join(ctx.repo, 'metadata', '1.root.json');
  ctx.url = pathToFileURL(path.join(ctx.repo, 'metadata')).href;
  cliOk(['trust', 'add', NAME, '--root', ctx.root, '--url', ctx.url], { env: ctx.env });
  // What `trust add ..` used to delete: $CNABSEC_HOME/metadata, and files beside the home.
  await mkdir(path.join(ctx.home, 'metadata'), { recursive: true });
  await writeFile(path.join(ctx.home, 'metadata', 'keep'), 'keep');
  await writeFile(path.join(ctx.work, 'beside'), 'keep');
  ctx.sig = path.join(ctx.work, 'sig.json');
  await writeFile(ctx.sig, '{"keyid":"00","sig":"00"}');
});

after(() => rm(ctx.work, { recursive: true, force: true }));

/** Run the CLI; expect one error line with `code`, one hint line, and no change on disk. */
async function refused(args, code) {
  const before = await snapshotTree(ctx.work);
  const r = runCli(args, { env: ctx.env });
  const what = `cnabsec ${JSON.stringify(args)}\n${r.stderr}`;
  assert.equal(r.status, 1, what);
  assert.equal(r.stdout, '', what);
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 3, `one error line and one hint line: ${what}`);
  assert.equal(lines[2], '');
  assert.ok(lines[0].startsWith(`cnabsec: error [${code}]: `), what);
  assert.ok(lines[1].startsWith('  hint: '), what);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f]/.test(r.stderr.replaceAll('\n', '')), `no control character: ${what}`);
  assert.deepEqual(await snapshotTree(ctx.work), before, `nothing changed: ${what}`);
  return lines;
}

test('init --name: repository names outside the OCI grammar are refused, nothing is created', async () => {
  for (const n of BAD_NAMES) {
    const [line] = await refused(['init', path.join(ctx.work, 'new'), '--name', n], 'INVALID_NAME');
    assert.match(line, /repository name /);
  }
  // --name-from-dir takes the directory name: still checked by the OCI grammar
  const lines = await refused(['init', path.join(ctx.work, 'Upper Case'), '--name-from-dir'], 'INVALID_NAME');
  assert.match(lines[0], /directory name/);
});

test('trust add / reset: trust names cannot reach outside $CNABSEC_HOME/trust', async () => {
  for (const n of BAD_NAMES) {
    await refused(['trust', 'add', n, '--root', ctx.root, '--url', ctx.url], 'INVALID_NAME');
    await refused(['trust', 'reset', n, '--root', ctx.root], 'INVALID_NAME');
  }
  assert.equal(await readFile(path.join(ctx.home, 'metadata', 'keep'), 'utf8'), 'keep');
});

test('lookup: a target that is no trusted name is one quoted line', async () => {
  for (const n of BAD_NAMES) await refused(['lookup', `${n}:v1`], 'TRUST_NOT_FOUND');
});

test('verify: a reference that is not <repository>:<tag> is refused before anything is read', async () => {
  for (const n of BAD_NAMES) await refused(['verify', `${n}:v1`, '--thin', FIXTURE], 'INVALID_NAME');
  // a tag holding / or : does not split as <repository>:<tag>
  for (const t of BAD_TAGS)
    await refused(
      ['verify', `${NAME}:${t}`, '--thin', FIXTURE],
      t.includes('/') || t.includes(':') ? 'INVALID_NAME' : 'INVALID_TAG',
    );
  await refused(['verify', NAME, '--thin', FIXTURE], 'INVALID_NAME');
});

test('bundle add / remove: tags outside [\\w][\\w.-]{0,127} are refused with INVALID_TAG', async () => {
  for (const t of BAD_TAGS) {
    const [line, hint] = await refused(['bundle', 'add', ctx.repo, t, '--thin', FIXTURE], 'INVALID_TAG');
    assert.match(hint, /\[\\w\]\[\\w\.-\]\{0,127\}/);
    assert.ok(!line.includes('[FAKE]') || line.includes('\\n'), line);
    await refused(['bundle', 'remove', ctx.repo, t], 'INVALID_TAG');
  }
});

test('delegation add: role names with . / .. / empty segments or control characters are refused', async () => {
  for (const r of BAD_ROLES) {
    await refused(['delegation', 'add', ctx.repo, r, '--paths', `${NAME}:*`], 'INVALID_ROLE_NAME');
    await refused(
      ['delegation', 'add', ctx.repo, 'ok', '--paths', `${NAME}:*`, '--parent', r],
      'INVALID_ROLE_NAME',
    );
  }
});

test('every other command taking a role refuses bad role names the same way', async () => {
  const role = 'targets/../x';
  const cases = [
    ['delegation', 'remove', ctx.repo, role],
    ['delegation', 'rotate', ctx.repo, role, '--add-key', 'new'],
    ['key', 'rotate', ctx.repo, role, '--add-key', 'new'],
    ['sign', ctx.repo, role, '--key', 'x'],
    ['resign', ctx.repo, role],
    ['payload', ctx.repo, role],
    ['add-signature', ctx.repo, role, ctx.sig],
    ['bundle', 'add', ctx.repo, 'v2', '--thin', FIXTURE, '--role', role],
    ['advisory', ctx.repo, '--since', '1', '--role', role],
  ];
  for (const args of cases) await refused(args, 'INVALID_ROLE_NAME');
});

test('the error printer escapes control characters of any message (defence in depth)', async () => {
  const dir = path.join(ctx.work, 'no\nsuch\u001b[31m\u2028repo');
  const [line] = await refused(['status', dir], 'REPO_NOT_FOUND');
  assert.ok(line.includes('no\\nsuch\\u001b[31m\\u2028repo'), line);
});

test('usage errors quoting an argument are one line too', () => {
  const r = runCli(['init', path.join(ctx.work, 'u'), '--root-keys', 'a\nerror: forged'], { env: ctx.env });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 3, r.stderr);
  assert.ok(lines[0].includes('a\\nerror: forged'), lines[0]);
});

test('valid names still work: tag A, role targets/releases', async (t) => {
  const repo = path.join(ctx.work, 'ok-repo');
  t.after(() => rm(repo, { recursive: true, force: true }));
  cliOk(['init', repo, '--name', 'localhost:5000/org/ok'], { env: ctx.env });
  cliOk(['bundle', 'add', repo, 'A', '--thin', FIXTURE], { env: ctx.env });
  cliOk(['delegation', 'add', repo, 'targets/releases', '--paths', 'localhost:5000/org/ok:*'], {
    env: ctx.env,
  });
  cliOk(['publish', repo], { env: ctx.env });
});

test('--custom: only values every TUF peer reads the same way; refusals name the path', async (t) => {
  const file = path.join(ctx.work, 'custom.json');
  t.after(() => rm(file, { force: true }));
  const cases = [
    ['{"x":1.5}', 'UNSIGNABLE_VALUE', /"\/x"/],
    ['{"a":{"b":[1,1e21]}}', 'UNSIGNABLE_VALUE', /"\/a\/b\/1"/],
    ['{"t":1733070123456789012}', 'UNSIGNABLE_VALUE', /"\/t"/],
    ['{"x":1.0}', 'JSON_NUMBER_UNSAFE', /"1\.0"/],
    ['{"x":1e2}', 'JSON_NUMBER_UNSAFE', /"1e2"/],
    ['{"\\ud83d\\ude00":1,"\\uffff":2}', 'UNSIGNABLE_VALUE', /code point/],
    ['{"s":"\\ud800"}', 'UNSIGNABLE_VALUE', /"\/s"/],
    ['[1]', 'INVALID_ARGUMENT', /JSON object/],
    ['{"x":', 'JSON_SYNTAX', /malformed/],
    [`${'['.repeat(10_000)}`, 'JSON_TOO_DEEP', /deeper/],
  ];
  for (const [text, code, re] of cases) {
    await writeFile(file, text);
    const [line] = await refused(
      ['bundle', 'add', ctx.repo, 'v2', '--thin', FIXTURE, '--custom', file],
      code,
    );
    assert.match(line, re, text);
  }
  // Nothing was staged: a later publish works (it used to exit 70 on a staged 1.5, for good).
  await writeFile(file, '{"x":1,"n":9007199254740991}');
  cliOk(['bundle', 'add', ctx.repo, 'v2', '--thin', FIXTURE, '--custom', file], { env: ctx.env });
  cliOk(['publish', ctx.repo], { env: ctx.env });
});

test('publish of a value staged by hand is a typed error (exit 1), never exit 70', async () => {
  const repo = path.join(ctx.work, 'hand-repo');
  cliOk(['init', repo, '--name', 'example.com/org/hand'], { env: ctx.env });
  const file = path.join(ctx.work, 'c.json');
  await writeFile(file, '{"x":1}');
  cliOk(['bundle', 'add', repo, 'v1', '--thin', FIXTURE, '--custom', file], { env: ctx.env });
  const staged = path.join(repo, 'staged', 'targets.json');
  await writeFile(staged, (await readFile(staged, 'utf8')).replace('"x":1', '"x":1.5'));
  const [line, hint] = await refused(['publish', repo], 'UNSIGNABLE_VALUE');
  assert.match(line, /targets: value at ".*\/custom\/x" cannot be signed/);
  assert.match(hint, /bundle remove/);
  await rm(repo, { recursive: true, force: true });
  await rm(file, { force: true });
});
