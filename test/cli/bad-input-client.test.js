// Bad input to the client commands (issue 12, item 8; the style of ./bad-input.test.js): list,
// lookup, trust add|reset|remove|list. Every case runs the real CLI against a home that trusts
// a published repository and checks: the exit status (1 for a user error, 2 for a usage
// error, never 70), no stack trace, stderr is one `cnabsec: error [CODE]: ...` line naming what
// was wrong plus a `hint:` line (usage errors: `error: ...` plus the `--help` pointer), nothing
// on stdout, and the trust store byte-for-byte unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { Sim, NAME, newSigners } from '../helpers/sim.js';
import { writeMetadata } from '../helpers/client-repo.js';
import { rotateKeys } from '../../dist/tuf/index.js';
import { pathToFileURL } from 'node:url';

const ctx = {};
let caseNo = 0;

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bad-client-'));
  const t = { after: () => undefined };
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  sim.addBundle('v2');
  await sim.publish();
  const [k] = newSigners(1);
  sim.addSigners([k]);
  rotateKeys(sim.repo, 'root', { add: [k.publicKey] });
  await sim.publish();
  const metadata = await writeMetadata(sim, ctx.work);
  ctx.url = pathToFileURL(metadata).href;
  ctx.root1 = path.join(metadata, '1.root.json');
  ctx.root2 = path.join(metadata, '2.root.json');
  ctx.home0 = path.join(ctx.work, 'home0');
  cliOk(['trust', 'add', NAME, '--root', ctx.root2, '--url', ctx.url], { env: { CNABSEC_HOME: ctx.home0 } });
  cliOk(['lookup', `${NAME}:v1`], { env: { CNABSEC_HOME: ctx.home0 } }); // a filled cache
  const f = (name, text) => writeFile(path.join(ctx.work, name), text).then(() => path.join(ctx.work, name));
  ctx.notJson = await f('not-json.json', '{"signed": ');
  ctx.unsigned = await f(
    'unsigned.json',
    JSON.stringify({ ...JSON.parse(Buffer.from(sim.file('1.root.json')).toString()), signatures: [] }),
  );
  ctx.targetsFile = await f(
    'targets.json',
    Buffer.from(sim.file('targets.json') ?? sim.file('2.targets.json')),
  );
  ctx.dir = path.join(ctx.work, 'a-directory');
  await mkdir(ctx.dir);
});

after(() => rm(ctx.work, { recursive: true, force: true }));

async function fresh() {
  const home = path.join(ctx.work, `case-${++caseNo}`);
  await cp(ctx.home0, home, { recursive: true });
  return home;
}

/** Run `args` (a function of the context) on a fresh copy of the home; check the contract. */
async function bad(args, code, { status = 1, match, env = {}, setup } = {}) {
  const home = await fresh();
  if (setup !== undefined) await setup(home);
  const before = await snapshotTree(home);
  const argv = typeof args === 'function' ? args(home) : args;
  const r = runCli(argv, { env: { CNABSEC_HOME: home, CI: 'true', CNABSEC_LOCK_WAIT: '0', ...env } });
  const label = `cnabsec ${argv.join(' ')}`;
  assert.equal(r.status, status, `${label}: ${r.stderr}`);
  assert.equal(r.stdout, '', label);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, label);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `${label}: ${r.stderr}`);
  if (status === 2) {
    assert.match(lines[0], /^error: /, label);
    assert.match(lines[1], /^\(run `cnabsec .*--help` for usage\)$/, label);
  } else {
    assert.match(lines[0], new RegExp(`^cnabsec: error \\[${code}\\]: `), `${label}: ${lines[0]}`);
    assert.match(lines[1], /^ {2}hint: \S/, label);
  }
  if (match !== undefined) assert.match(r.stderr, match, label);
  assert.deepEqual(await snapshotTree(home), before, `${label}: the trust store is unchanged`);
}

const BAD_NAME = 'Example.COM/Org/Bundle';
const OTHER = 'example.com/org/other';

test('list: bad input', async () => {
  await bad(['list'], null, { status: 2 });
  await bad(['list', BAD_NAME], 'INVALID_NAME', { match: /Example\.COM/ });
  await bad(['list', OTHER], 'TRUST_NOT_FOUND', {
    match: /example\.com\/org\/other.*\n.*cnabsec trust list/,
  });
  await bad(['list', NAME, '--bogus'], null, { status: 2 });
  await bad(['list', NAME], 'TRUST_CORRUPT', {
    match: /cnabsec trust reset/,
    setup: (home) =>
      writeFile(path.join(home, 'trust', encodeURIComponent(NAME), 'metadata', 'root.json'), '{'),
  });
});

test('lookup: bad input', async () => {
  await bad(['lookup'], null, { status: 2 });
  await bad(['lookup', `${OTHER}:v1`], 'TRUST_NOT_FOUND');
  await bad(['lookup', `${NAME}:v3`], 'TARGET_NOT_FOUND', { match: /hint: the nearest signed tags: v1, v2/ });
});

test('trust add: bad input', async () => {
  const add = (name, root, url = ctx.url) => ['trust', 'add', name, '--root', root, '--url', url];
  await bad(['trust', 'add', OTHER, '--root', ctx.root1], null, { status: 2 });
  await bad(['trust', 'add', OTHER, '--url', ctx.url], null, { status: 2 });
  await bad(add(BAD_NAME, ctx.root1), 'INVALID_NAME');
  await bad(add(OTHER, path.join(ctx.work, 'missing.json')), 'INVALID_ARGUMENT', { match: /ENOENT/ });
  await bad(add(OTHER, ctx.dir), 'INVALID_ARGUMENT', { match: /EISDIR/ });
  await bad(add(OTHER, ctx.notJson), 'REPO_CORRUPT', { match: /not-json\.json is not TUF root metadata/ });
  await bad(add(OTHER, ctx.targetsFile), 'REPO_CORRUPT');
  await bad(add(OTHER, ctx.unsigned), 'TUF_UNSIGNED_METADATA');
  await bad(add(OTHER, ctx.root1, 'ftp://example.com/metadata'), 'INVALID_ARGUMENT', { match: /ftp:/ });
  await bad(add(NAME, ctx.root1), 'TRUST_EXISTS', { match: /cnabsec trust reset/ });
});

test('trust reset: bad input', async () => {
  await bad(['trust', 'reset', NAME], null, { status: 2 });
  await bad(['trust', 'reset', OTHER, '--root', ctx.root2], 'TRUST_NOT_FOUND');
  await bad(['trust', 'reset', BAD_NAME, '--root', ctx.root2], 'INVALID_NAME');
  await bad(['trust', 'reset', NAME, '--root', ctx.root1], 'TRUST_ROOT_OLDER', {
    match: /v1, older than the trusted root v2/,
  });
  await bad(['trust', 'reset', NAME, '--root', ctx.unsigned], 'TUF_UNSIGNED_METADATA');
  await bad(['trust', 'reset', NAME, '--root', ctx.root2, '--url', 'gopher://x'], 'INVALID_ARGUMENT');
});

test('trust remove: bad input', async () => {
  await bad(['trust', 'remove'], null, { status: 2 });
  await bad(['trust', 'remove', OTHER], 'TRUST_NOT_FOUND', { match: /cnabsec trust list/ });
  await bad(['trust', 'remove', BAD_NAME], 'INVALID_NAME');
});

test('trust list: bad input', async () => {
  await bad(['trust', 'list', 'extra'], null, { status: 2 });
  await bad(['trust', 'list'], 'TRUST_STORE_CORRUPT', {
    setup: (home) => writeFile(path.join(home, 'trust', encodeURIComponent(NAME), 'trust.json'), '[1'),
  });
});
