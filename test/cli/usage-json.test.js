// With --json on the command line, a usage error is exactly one JSON document on stdout,
// {"error":{"code":"CLI_USAGE","message","hint"}}, exit 2, nothing on stderr (issue 12 item 7).
// --help and --version are not affected; a --json after `--` is an operand, not the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

const CASES = [
  [
    ['bundle', 'add', './repo', 'v1', 'bundle.json', '--json'],
    /too many arguments.*--thin bundle\.json/,
    'cnabsec bundle add',
  ],
  [['verify', '--json', 'app', 'v1'], /Did you mean app:v1\?/, 'cnabsec verify'],
  [['status', '--json'], /missing required argument 'repo'/, 'cnabsec status'],
  [
    ['key', 'generate', '--json', '--type', 'dsa'],
    /option '-t, --type <type>' argument 'dsa' is invalid/,
    'cnabsec key generate',
  ],
  [['init', 'r', '--json', '--bogus'], /unknown option '--bogus'/, 'cnabsec init'],
  [
    ['trust', 'add', 'x', '--json'],
    /required option '--root <root.json>' not specified/,
    'cnabsec trust add',
  ],
  [['frobnicate', '--json'], /unknown command 'frobnicate'/, 'cnabsec'],
  [['delete', 'x', '--json'], /unknown command 'delete'.*bundle remove/, 'cnabsec'],
  [
    ['intoto', 'layout', 'new', '--expires', 'soon', '--json'],
    /--expires <duration\|time>/,
    'cnabsec intoto layout new',
  ],
];

test('usage-json: a usage error with --json is one JSON document on stdout, exit 2', () => {
  for (const [args, message, command] of CASES) {
    const r = runCli(args);
    const what = `cnabsec ${args.join(' ')}: ${r.stdout}${r.stderr}`;
    assert.equal(r.status, 2, what);
    assert.equal(r.stderr, '', what);
    const doc = JSON.parse(r.stdout); // exactly one document: JSON.parse refuses anything after it
    assert.deepEqual(Object.keys(doc), ['error'], what);
    assert.deepEqual(Object.keys(doc.error), ['code', 'message', 'hint'], what);
    assert.equal(doc.error.code, 'CLI_USAGE');
    assert.match(doc.error.message, message, what);
    assert.equal(doc.error.hint, `run \`${command} --help\``, what);
  }
});

test('usage-json: without --json the same error is two lines on stderr; --json after -- does not count', () => {
  const r = runCli(['verify', 'app', 'v1']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    "error: too many arguments for 'verify'. Expected 1 argument but got 2. Did you mean app:v1?\n(run `cnabsec verify --help` for usage)\n",
  );
  const after = runCli(['intoto', 'run', '-n', 's', '-k', 'k', '--timeout', 'x', '--', 'echo', '--json']);
  assert.equal(after.status, 2);
  assert.equal(after.stdout, '');
  assert.match(after.stderr, /^error: option '--timeout <seconds>' argument 'x' is invalid/);
});

test('usage-json: --help and --version print as usual even with --json', () => {
  const help = runCli(['init', '--json', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: cnabsec init /);
  const version = runCli(['--version', '--json']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^cnabsec \d+\.\d+\.\d+/);
});
