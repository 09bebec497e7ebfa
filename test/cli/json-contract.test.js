// The --json output contract (docs/cli-json.md, ADR 0018). Every command of the built CLI runs
// with --json in a child process against a real repository, key store and client: once on its
// success path and once with an error. Each time stdout must be exactly one JSON document that
// validates against the schema of the command's section in docs/cli-json.md (or the error schema),
// keeps the field glossary (no top-level sha256, digest, keyId, unsorted keyids, ...), and neither
// stdout nor stderr shows a JS class name, a stack, [object Object] or a temporary path the CLI
// made. A command the CLI registers without a section in the doc, or without a case in
// test/helpers/json-contract-cases.js, fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI, childEnv, cliOk, runCli, runCliAsync } from '../helpers/cli.js';
import { startMetadataServer } from '../helpers/metadata-server.js';
import {
  cliCommands,
  glossaryProblems,
  kindOf,
  leakProblems,
  loadContract,
  sectionGlossaryProblems,
} from '../helpers/json-contract.js';
import { contractCases, PASS } from '../helpers/json-contract-cases.js';

const ctx = {
  cleanups: [],
  // the metadata repository server in this process, for pull and clone (closed in `after`)
  startServer: () => startMetadataServer({ after: (fn) => ctx.cleanups.push(fn) }),
};
const w = (...p) => path.join(ctx.work, ...p);
const CASES = contractCases(ctx);

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-json-contract-'));
  ctx.env = { CNABSEC_HOME: w('home'), CNABSEC_PASSPHRASE: PASS, CI: 'true' };
  await writeFile(w('a-file'), 'not a directory\n');
  ctx.contract = await loadContract();
  ctx.commands = await cliCommands();
});
after(async () => {
  for (const fn of ctx.cleanups.reverse()) await fn();
  await rm(ctx.work, { recursive: true, force: true });
});

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
  const r =
    c.serve === true && side === 'ok'
      ? await runServe(args, env)
      : c.server === true
        ? await runCliAsync(args, { env, cwd })
        : runCli(args, { env, cwd });
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
  if (kindOf(schema) !== 'passthrough') assert.deepEqual(sectionGlossaryProblems(schema, doc), [], out);
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

test('every registered command has a case in test/helpers/json-contract-cases.js', () => {
  const cased = new Set(CASES.map((c) => c.command));
  assert.deepEqual(
    ctx.commands.filter((c) => !cased.has(c)),
    [],
    'add a case (success and error) to test/helpers/json-contract-cases.js',
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
  // an exemption covers its one path, nothing else
  const exempt = { $comment: 'glossary-exempt $.version: the CLI version' };
  assert.deepEqual(sectionGlossaryProblems(exempt, { version: '1.2.3' }), []);
  assert.equal(sectionGlossaryProblems(exempt, { version: '1.2.3', x: { version: 'a' } }).length, 1);
  assert.equal(sectionGlossaryProblems({}, { version: '1.2.3' }).length, 1);
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

test('usage errors with --json: one {"error": {"code": "CLI_USAGE", ...}} document, exit 2', () => {
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
});
