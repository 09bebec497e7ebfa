// The --json output contract (docs/cli-json.md, ADR 0018). Every command of the built CLI runs
// with --json in a child process against a real repository, key store and client: once on its
// success path and once with an error. Each time stdout must be exactly one JSON document that
// validates against the schema of the command's section in docs/cli-json.md (or the error schema),
// keeps the field glossary (no top-level sha256, digest, keyId, unsorted keyids, ...), and neither
// stdout nor stderr shows a JS class name, a stack, [object Object] or a temporary path the CLI
// made. A command the CLI registers without a section in the doc, or without a case here, fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLI, childEnv, cliOk, runCli } from '../helpers/cli.js';
import {
  cliCommands,
  glossaryProblems,
  kindOf,
  leakProblems,
  loadContract,
} from '../helpers/json-contract.js';

const PASS = 'correct horse battery staple';
const NAME = 'example.com/org/app';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));
const NO_KEY = 'deadbeefdeadbeef';

const ctx = {};
const w = (...p) => path.join(ctx.work, ...p);
const none = () => w('no-such-repo');
const noPassphrase = { CNABSEC_PASSPHRASE: undefined };

/**
 * One case per command, in the order they run (later ones use the state earlier ones made):
 * `ok` and `err` give the arguments (without --json), `env` extra variables, `cwd` the working
 * directory; `prep` runs before, `then` receives the success document. `err: null` means the
 * command takes no input that could be wrong (the reason is in `why`).
 */
const CASES = [
  {
    command: 'key generate',
    ok: () => ['key', 'generate', '--label', 'extra'],
    then: (d) => (ctx.extraKey = d.keyid),
    err: () => ['key', 'generate', '--no-prompt'],
    errEnv: noPassphrase,
  },
  {
    command: 'key import',
    prep: () =>
      writeFile(
        w('import.pem'),
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      ),
    ok: () => ['key', 'import', w('import.pem'), '--label', 'imported'],
    then: (d) => (ctx.importedKey = d.keyid),
    err: () => ['key', 'import', w('none.pem')],
  },
  { command: 'key list', ok: () => ['key', 'list'], err: () => ['key', 'list', '--home', w('a-file')] },
  { command: 'key export', ok: () => ['key', 'export', ctx.extraKey], err: () => ['key', 'export', NO_KEY] },
  {
    command: 'init',
    ok: () => ['init', w('repo'), '--name', NAME],
    then: (d) => (ctx.targetsKey = d.roles.find((r) => r.role === 'targets').keyids[0]),
    err: () => ['init', w('repo'), '--name', NAME],
  },
  {
    command: 'bundle add',
    ok: () => ['bundle', 'add', w('repo'), 'v1', '--thin', FIXTURE],
    err: () => ['bundle', 'add', none(), 'v1', '--thin', FIXTURE],
  },
  { command: 'status', ok: () => ['status', w('repo')], err: () => ['status', none()] },
  { command: 'publish', ok: () => ['publish', w('repo')], err: () => ['publish', none()] },
  { command: 'refresh', ok: () => ['refresh', w('repo'), '--force'], err: () => ['refresh', none()] },
  { command: 'bundle list', ok: () => ['bundle', 'list', w('repo')], err: () => ['bundle', 'list', none()] },
  {
    command: 'bundle canonicalize',
    ok: () => ['bundle', 'canonicalize', FIXTURE],
    err: () => ['bundle', 'canonicalize', w('none.json')],
  },
  { command: 'resign', ok: () => ['resign', w('repo'), 'targets'], err: () => ['resign', none(), 'targets'] },
  {
    command: 'payload',
    ok: () => ['payload', w('repo'), 'targets', '-o', w('targets.payload')],
    err: () => ['payload', none(), 'targets'],
  },
  {
    command: 'key sign',
    ok: () => ['key', 'sign', ctx.targetsKey, w('targets.payload'), '-o', w('targets.sig')],
    err: () => ['key', 'sign', NO_KEY, w('targets.payload')],
  },
  {
    command: 'add-signature',
    ok: () => ['add-signature', w('repo'), 'targets', w('targets.sig')],
    err: () => ['add-signature', none(), 'targets', w('targets.sig')],
  },
  {
    command: 'sign',
    ok: () => ['sign', w('repo'), 'targets', '--key', ctx.targetsKey],
    err: () => ['sign', none(), 'targets', '--key', ctx.targetsKey],
  },
  {
    command: 'key rotate',
    ok: () => ['key', 'rotate', w('repo'), 'timestamp', '--add-key', 'new', '--dry-run'],
    err: () => ['key', 'rotate', none(), 'timestamp', '--add-key', 'new'],
  },
  {
    command: 'delegation add',
    ok: () => ['delegation', 'add', w('repo'), 'targets/releases', '--paths', `${NAME}:*`],
    err: () => ['delegation', 'add', none(), 'targets/releases', '--paths', `${NAME}:*`],
  },
  {
    command: 'delegation list',
    ok: () => ['delegation', 'list', w('repo')],
    err: () => ['delegation', 'list', none()],
  },
  {
    command: 'delegation rotate',
    ok: () => ['delegation', 'rotate', w('repo'), 'targets/releases', '--add-key', 'new'],
    err: () => ['delegation', 'rotate', none(), 'targets/releases', '--add-key', 'new'],
  },
  {
    command: 'delegation remove',
    ok: () => ['delegation', 'remove', w('repo'), 'targets/releases'],
    err: () => ['delegation', 'remove', none(), 'targets/releases'],
  },
  {
    command: 'intoto keygen',
    prep: async () => {
      await mkdir(w('intoto'));
      cliOk(['intoto', 'keygen', 'dev'], { cwd: w('intoto'), env: ctx.env });
    },
    cwd: 'intoto',
    ok: () => ['intoto', 'keygen', 'owner'],
    err: () => ['intoto', 'keygen', 'k2', '-p', '--no-prompt'],
    errEnv: noPassphrase,
  },
  {
    command: 'intoto layout new',
    cwd: 'intoto',
    ok: () => [
      'intoto',
      'layout',
      'new',
      '-t',
      'minimal',
      '-f',
      'build=dev.pub',
      '-o',
      'root.layout',
      '-s',
      'owner',
    ],
    err: () => ['intoto', 'layout', 'new', '-t', 'minimal', '-f', 'nostep=dev.pub'],
  },
  {
    command: 'intoto layout lint',
    cwd: 'intoto',
    ok: () => ['intoto', 'layout', 'lint', 'root.layout'],
    err: () => ['intoto', 'layout', 'lint', 'none.layout'],
  },
  {
    command: 'intoto record start',
    cwd: 'intoto',
    ok: () => ['intoto', 'record', 'start', '-n', 'build', '-k', 'dev'],
    err: () => ['intoto', 'record', 'start', '-n', 'build', '-k', 'nokey'],
  },
  {
    command: 'intoto record stop',
    cwd: 'intoto',
    prep: () => writeFile(w('intoto', 'out.txt'), 'built\n'),
    ok: () => ['intoto', 'record', 'stop', '-n', 'build', '-k', 'dev', '-p', 'out.txt'],
    err: () => ['intoto', 'record', 'stop', '-n', 'build', '-k', 'nokey'],
  },
  {
    command: 'intoto run',
    cwd: 'intoto',
    ok: () => ['intoto', 'run', '-n', 'build', '-k', 'dev', '-p', 'out.txt', '--', 'touch', 'out.txt'],
    then: (d) => (ctx.link = d.path),
    err: () => ['intoto', 'run', '-n', 'build', '-k', 'nokey', '--', 'true'],
  },
  {
    command: 'intoto sign',
    cwd: 'intoto',
    ok: () => ['intoto', 'sign', ctx.link, '-k', 'dev'],
    err: () => ['intoto', 'sign', 'none.link', '-k', 'dev'],
  },
  {
    command: 'intoto verify',
    cwd: 'intoto',
    prep: () => cliOk(['intoto', 'sign', 'root.layout', '-k', 'owner'], { cwd: w('intoto'), env: ctx.env }),
    ok: () => ['intoto', 'verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--link-dir', '.'],
    err: () => ['intoto', 'verify', '--layout', 'none.layout', '--layout-key', 'owner.pub'],
  },
  {
    command: 'layout add',
    ok: () => [
      'layout',
      'add',
      w('repo'),
      'v2',
      '--layout',
      w('intoto', 'root.layout'),
      '--layout-key',
      w('intoto', 'owner.pub'),
    ],
    err: () => [
      'layout',
      'add',
      none(),
      'v2',
      '--layout',
      w('intoto', 'root.layout'),
      '--layout-key',
      w('intoto', 'owner.pub'),
    ],
  },
  {
    command: 'trust add',
    prep: () => cliOk(['publish', w('repo')], { env: ctx.env }),
    ok: () => [
      'trust',
      'add',
      NAME,
      '--root',
      w('repo', 'metadata', '1.root.json'),
      '--url',
      pathToFileURL(w('repo', 'metadata')).href,
    ],
    err: () => [
      'trust',
      'add',
      NAME,
      '--root',
      w('none.json'),
      '--url',
      pathToFileURL(w('repo', 'metadata')).href,
    ],
  },
  { command: 'trust list', ok: () => ['trust', 'list'], err: () => ['trust', 'list', '--home', w('a-file')] },
  { command: 'lookup', ok: () => ['lookup', `${NAME}:v1`], err: () => ['lookup', 'nope.example/x:v1'] },
  { command: 'list', ok: () => ['list', NAME], err: () => ['list', 'nope.example/x'] },
  {
    command: 'verify',
    ok: () => ['verify', `${NAME}:v1`, '--thin', FIXTURE],
    err: () => ['verify', 'nope.example/x:v1', '--thin', FIXTURE],
  },
  {
    command: 'advisory',
    ok: () => ['advisory', w('repo'), '--since', '1', '--key', ctx.targetsKey],
    err: () => ['advisory', none(), '--since', '1'],
  },
  { command: 'serve', serve: true, ok: () => ['serve', w('repo')], err: () => ['serve', none()] },
  {
    command: 'recover',
    ok: () => ['recover', w('repo'), '--new-root-key', 'new', '--out', w('recovery')],
    err: () => ['recover', none(), '--new-root-key', 'new'],
  },
  {
    command: 'trust reset',
    ok: () => ['trust', 'reset', NAME, '--root', w('recovery', 'root.json')],
    err: () => ['trust', 'reset', 'nope.example/x', '--root', w('recovery', 'root.json')],
  },
  {
    command: 'bundle remove',
    ok: () => ['bundle', 'remove', w('repo'), 'v1'],
    err: () => ['bundle', 'remove', none(), 'v1'],
  },
  // commands of issue 12 made by other branches: run once they are registered
  {
    command: 'reset',
    prep: () => cliOk(['bundle', 'add', w('repo'), 'v3', '--thin', FIXTURE], { env: ctx.env }),
    ok: () => ['reset', w('repo')],
    err: () => ['reset', none()],
  },
  { command: 'policy show', ok: () => ['policy', 'show', w('repo')], err: () => ['policy', 'show', none()] },
  {
    command: 'policy set',
    ok: () => ['policy', 'set', w('repo'), '--expires-timestamp', '2d'],
    err: () => ['policy', 'set', none(), '--expires-timestamp', '2d'],
  },
  {
    command: 'key passwd',
    ok: () => ['key', 'passwd', ctx.extraKey],
    env: { CNABSEC_NEW_PASSPHRASE: 'another passphrase' },
    err: () => ['key', 'passwd', NO_KEY],
  },
  {
    command: 'key remove',
    ok: () => ['key', 'remove', ctx.importedKey],
    err: () => ['key', 'remove', NO_KEY],
  },
  {
    command: 'trust remove',
    ok: () => ['trust', 'remove', NAME],
    err: () => ['trust', 'remove', 'nope.example/x'],
  },
  { command: 'version', ok: () => ['version'], err: null, why: 'takes no argument or input' },
  { command: 'completion', noJson: true },
];

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-json-contract-'));
  ctx.env = { CNABSEC_HOME: w('home'), CNABSEC_PASSPHRASE: PASS, CI: 'true' };
  await writeFile(w('a-file'), 'not a directory\n');
  ctx.contract = await loadContract();
  ctx.commands = await cliCommands();
});
after(() => rm(ctx.work, { recursive: true, force: true }));

/** Arguments with --json (before a `--` that ends the options). */
function withJson(args) {
  const i = args.indexOf('--');
  return i < 0 ? [...args, '--json'] : [...args.slice(0, i), '--json', ...args.slice(i)];
}

/** `cnabsec serve --json`: its first line, then SIGTERM; the whole output once it exited. */
function runServe(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      // one SIGTERM, a moment after the line: one sent at once is sometimes taken by the
      // default handler (exit by signal) before serve's own is in place
      if (!stopped && stdout.includes('\n')) {
        stopped = true;
        setTimeout(() => child.kill('SIGTERM'), 200);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * The same error without --json: nothing on stdout, the same exit status, and on stderr the
 * line `cnabsec: error [CODE]: ...` (or a usage error), without internals.
 */
function humanError(c, side, doc, options) {
  const args = c.err();
  const r = runCli(args, options);
  const out = `cnabsec ${args.join(' ')}\n--- exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
  assert.equal(r.stdout, '', out);
  assert.ok(r.status === 1 || r.status === 2, out);
  if (r.status === 1) assert.ok(r.stderr.includes(`cnabsec: error [${doc.error.code}]: `), out);
  assert.deepEqual(leakProblems(r.stderr, ctx.work), [], out);
}

/** Run one side of a case and check its document; returns the document. */
async function runChecked(c, side) {
  const { contract } = ctx;
  const args = withJson(side === 'ok' ? c.ok() : c.err());
  const env = { ...ctx.env, ...(c.env ?? {}), ...(side === 'err' ? (c.errEnv ?? {}) : {}) };
  const cwd = c.cwd === undefined ? ctx.work : w(c.cwd);
  const r = c.serve === true && side === 'ok' ? await runServe(args, env) : runCli(args, { env, cwd });
  const out = `cnabsec ${args.join(' ')}\n--- exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
  const schema = ctx.contract.sections.get(c.command);
  // a pass-through document is printed byte for byte (canonical JSON has no final newline)
  if (side === 'err' || kindOf(schema) !== 'passthrough')
    assert.ok(r.stdout.endsWith('\n'), `stdout ends with a newline\n${out}`);
  let doc;
  assert.doesNotThrow(() => (doc = JSON.parse(r.stdout)), `stdout is exactly one JSON document\n${out}`);
  assert.ok(doc !== null && typeof doc === 'object' && !Array.isArray(doc), `an object\n${out}`);
  assert.deepEqual(leakProblems(r.stdout + r.stderr, ctx.work), [], out);
  if (doc.warnings !== undefined)
    assert.ok(
      contract.warnings(doc.warnings),
      `warnings: ${JSON.stringify(contract.warnings.errors)}\n${out}`,
    );
  if (side === 'err') {
    assert.ok(
      r.status === 1 || (r.status === 2 && doc.error?.code === 'CLI_USAGE'),
      `exit 1 (or 2 for CLI_USAGE)\n${out}`,
    );
    assert.ok(contract.error(doc), `error schema: ${JSON.stringify(contract.error.errors)}\n${out}`);
    assert.deepEqual(glossaryProblems(doc), [], out);
    humanError(c, side, doc, { env, cwd });
    return doc;
  }
  assert.equal(r.status, 0, out);
  const { warnings, ...rest } = doc;
  void warnings;
  const validate = contract.validator(c.command);
  assert.ok(
    validate(rest),
    `schema of ${c.command} in docs/cli-json.md: ${JSON.stringify(validate.errors)}\n${out}`,
  );
  if (kindOf(schema) !== 'passthrough') assert.deepEqual(glossaryProblems(doc), [], out);
  return doc;
}

test('every registered command has a section with a schema in docs/cli-json.md', () => {
  const { sections } = ctx.contract;
  assert.ok(ctx.commands.length >= 39, `found the commands: ${ctx.commands.join(', ')}`);
  const missing = ctx.commands.filter((c) => sections.get(c) === undefined);
  assert.deepEqual(missing, [], 'add a "### `cnabsec <command>`" section with a ```json schema block');
  for (const [command, schema] of sections) {
    if (schema === undefined) continue;
    assert.doesNotThrow(() => ctx.contract.validator(command), `the schema of ${command} compiles`);
  }
});

test('every registered command has a case in this test', () => {
  const cased = new Set(CASES.map((c) => c.command));
  assert.deepEqual(
    ctx.commands.filter((c) => !cased.has(c)),
    [],
    'add a case (success and error) to CASES in test/cli/json-contract.test.js',
  );
});

test('each command with --json: one document of its documented shape, on success and on error', async (t) => {
  for (const c of CASES) {
    if (!ctx.commands.includes(c.command)) continue;
    await t.test(c.command, async () => {
      if (c.noJson === true) {
        assert.equal(kindOf(ctx.contract.sections.get(c.command)), 'no-json', 'documented as no-json');
        return;
      }
      await c.prep?.();
      const doc = await runChecked(c, 'ok');
      c.then?.(doc);
      if (c.err === null) assert.ok(typeof c.why === 'string');
      else await runChecked(c, 'err');
    });
  }
});

test('the glossary and leak checks catch what they are for', () => {
  assert.deepEqual(
    glossaryProblems({ name: 'a', hashes: { sha256: 'f'.repeat(64) }, keyids: ['a'.repeat(64)] }),
    [],
  );
  assert.equal(glossaryProblems({ sha256: 'f'.repeat(64) }).length, 1);
  assert.equal(glossaryProblems({ x: [{ keyId: 'k' }] }).length, 1);
  assert.equal(glossaryProblems({ keyids: ['b'.repeat(64), 'a'.repeat(64)] }).length, 1);
  assert.equal(glossaryProblems({ expires: '1 Jan 2030' }).length, 1);
  assert.equal(glossaryProblems({ target: 'x:v1' }).length, 1);
  assert.deepEqual(glossaryProblems({ custom: { sha256: 'user data' } }), []);
  assert.equal(leakProblems('{"name": "TufError"}', '/nowhere').length, 1);
  assert.equal(leakProblems('x\n    at run (file.js:1:2)\n', '/nowhere').length, 1);
  assert.equal(leakProblems('[object Object]', '/nowhere').length, 1);
  assert.equal(
    leakProblems(`cannot read ${path.join(tmpdir(), 'cnabsec-links-x', 'a.link')}`, '/nowhere').length,
    1,
  );
  assert.deepEqual(leakProblems(`wrote ${w('x')}`, ctx.work), []);
});

test('warnings: on stderr for people and in the document as `warnings` (rule 3)', () => {
  const repo = w('repo-warnings');
  cliOk(['init', repo, '--name', 'example.com/org/warnings'], { env: ctx.env });
  const r = runCli(['resign', repo, 'targets', '--expires', '2d', '--json'], { env: ctx.env });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(ctx.contract.warnings(doc.warnings), r.stdout);
  assert.ok(
    doc.warnings.some((x) => x.startsWith('targets v1 expires in ')),
    r.stdout,
  );
  for (const x of doc.warnings) assert.ok(r.stderr.includes(`cnabsec: warning: ${x}`), r.stderr);
  const { warnings, ...rest } = doc;
  assert.ok(warnings.length > 0 && ctx.contract.validator('resign')(rest), r.stdout);
});

test(
  'usage errors with --json: one {"error": {"code": "CLI_USAGE", ...}} document, exit 2',
  { todo: 'the usage-error JSON of main.ts comes with the typed-options branch of issue 12' },
  () => {
    for (const args of [
      ['init', w('repo-usage'), '--no-such-option', '--json'],
      ['status', '--json'],
      ['bundle', 'add', w('repo'), 'v9', 'bundle.json', '--json'],
    ]) {
      const r = runCli(args, { env: ctx.env });
      const out = `cnabsec ${args.join(' ')}\n--- exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
      assert.equal(r.status, 2, out);
      const doc = JSON.parse(r.stdout);
      assert.ok(ctx.contract.error(doc), out);
      assert.equal(doc.error.code, 'CLI_USAGE', out);
      assert.deepEqual(leakProblems(r.stdout + r.stderr, ctx.work), [], out);
    }
  },
);
