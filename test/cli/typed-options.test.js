// Typed options (src/cli/options.ts, ADR 0017): the parsers themselves, and one bad value for
// every typed option of every command, which must be a usage error: exit 2, one error line
// naming the option and the value (and the pointer to --help), nothing on stdout, no stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  byteCount,
  duration,
  durationOrOff,
  listenAddress,
  expiryTime,
  integer,
  keyType,
  mebibytes,
  namedValues,
  oneOf,
  port,
  positiveInt,
  repeatable,
  seconds,
  versionOrTime,
} from '../../dist/cli/options.js';
import { parseDuration } from '../../dist/tuf/policy.js';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { helpTree } from '../helpers/command-tree.js';

const refused = (parser, ...values) => {
  for (const v of values)
    assert.throws(() => parser(v), /^Error: expected /, `${JSON.stringify(v)} accepted`);
};

test('typed options: integers, ports, sizes and seconds', () => {
  assert.equal(positiveInt('3'), 3);
  assert.equal(positiveInt(' 2 '), 2);
  refused(positiveInt, '0', '-1', '1.5', '1e3', '0x10', '', 'abc', '99999999999999999999');
  assert.equal(integer({ min: 2, max: 4 })('4'), 4);
  refused(integer({ min: 2, max: 4 }), '1', '5');
  assert.equal(integer({ min: 2, max: 4 }).expected, 'an integer from 2 to 4');
  assert.equal(byteCount('0'), 0);
  refused(byteCount, '-5', 'lots');
  assert.equal(mebibytes('256'), 256);
  refused(mebibytes, '0', '1048577');
  assert.equal(port('0'), 0);
  assert.equal(port('65535'), 65535);
  refused(port, '65536', '-1', 'http');
  assert.equal(seconds('0.5'), 0.5);
  assert.equal(seconds('60'), 60);
  refused(seconds, '0', '-1', 'NaN', 'Infinity', '1e3', '2147484', '1m');
});

test('typed options: durations have the syntax of the expiry policy', () => {
  for (const ok of ['90s', '15m', '12h', '30d', '2w', '1y', ' 7d ', '1000y']) {
    assert.equal(duration(ok), ok.trim());
    assert.equal(typeof parseDuration(duration(ok)), 'number');
  }
  refused(duration, 'abc', '30', '0d', '-1d', '1.5d', '1001y', '30 days', 'd');
  for (const bad of ['abc', '0d', '1001y']) assert.throws(() => parseDuration(bad), /is not a duration/);
  assert.match(duration.expected, /30d, 12h or 90s/);
  assert.equal(durationOrOff('0'), '0');
  assert.equal(durationOrOff(' 5m '), '5m');
  refused(durationOrOff, '00', '-0', 'off', '0d', '1 day');
  for (const ok of ['127.0.0.1:4443', '[::1]:0', 'example.com:443', '0.0.0.0:65535'])
    assert.equal(listenAddress(ok), ok);
  refused(listenAddress, 'localhost', ':80', '127.0.0.1:65536', '[::1:80', 'a b:80', 'http://x:80');
});

test('typed options: expiry times, versions, enums, key types, repeatable and NAME=VALUE options', () => {
  const inADay = Date.parse(expiryTime('1d')) - Date.now();
  assert.ok(inADay > 86_390_000 && inADay <= 86_400_000, String(inADay));
  assert.match(expiryTime('1d'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(expiryTime('2030-01-01T00:00:00Z'), '2030-01-01T00:00:00Z');
  assert.equal(expiryTime('2030-01-01'), '2030-01-01T00:00:00Z');
  refused(expiryTime, 'abc', '2030-13-01', 'tomorrow', '365');
  assert.equal(versionOrTime('3'), '3');
  assert.equal(versionOrTime('2030-01-01T00:00:00Z'), '2030-01-01T00:00:00Z');
  refused(versionOrTime, '0', 'yesterday', '1.5');
  assert.equal(keyType('rsa'), 'rsa');
  refused(keyType, 'dsa', 'RSA', '');
  assert.deepEqual(keyType.choices, ['ed25519', 'ecdsa', 'rsa']);
  const role = repeatable(oneOf(['targets', 'snapshot']));
  assert.deepEqual(role('snapshot', role('targets')), ['targets', 'snapshot']);
  refused(role, 'root');
  assert.deepEqual(role.choices, ['targets', 'snapshot']);
  const thresholds = namedValues(positiveInt);
  assert.deepEqual(thresholds('build=2', ['a=1']), ['a=1', 'build=2']);
  refused(thresholds, 'build=x', '=2', 'build', 'build=0');
});

/** [command line, the flags of the option as its usage error names it]; the value is the last word before any `--`. */
const CASES = [
  [['key', 'generate', '-t', 'dsa'], '-t, --type <type>'],
  [['key', 'rotate', 'r', 'targets', '--threshold', '0'], '--threshold <n>'],
  [['key', 'rotate', 'r', 'targets', '--key-type', 'dsa'], '-t, --key-type <type>'],
  [['delegation', 'add', 'r', 'targets/x', '--paths', 'a/*', '--threshold', 'two'], '--threshold <n>'],
  [['delegation', 'add', 'r', 'targets/x', '--paths', 'a/*', '-t', 'ed448'], '-t, --key-type <type>'],
  [['delegation', 'rotate', 'r', 'targets/x', '--threshold', '-1'], '--threshold <n>'],
  [['delegation', 'rotate', 'r', 'targets/x', '-t', 'x'], '-t, --key-type <type>'],
  [['recover', 'r', '--threshold', '1.5'], '--threshold <n>'],
  [['recover', 'r', '--rotate', 'root'], '--rotate <role>'],
  [['recover', 'r', '--key-type', 'dsa'], '-t, --key-type <type>'],
  [['advisory', 'r', '--since', 'yesterday'], '--since <version|time>'],
  [['init', 'r', '--name', 'a.com/b', '--root-keys', 'three'], '--root-keys <n>'],
  [['init', 'r', '--name', 'a.com/b', '--targets-threshold', '0'], '--targets-threshold <n>'],
  [['init', 'r', '--name', 'a.com/b', '--expires-snapshot', '1 day'], '--expires-snapshot <duration>'],
  [['init', 'r', '--name', 'a.com/b', '--expires-root', '0d'], '--expires-root <duration>'],
  [['init', 'r', '--name', 'a.com/b', '--expires-delegated', 'abc'], '--expires-delegated <duration>'],
  [['init', 'r', '--name', 'a.com/b', '-t', 'dsa'], '-t, --key-type <type>'],
  [['init', 'r', '--name', 'a.com/b', '--releases-keys', '0'], '--releases-keys <n>'],
  [['init', 'r', '--name', 'a.com/b', '--releases-threshold', 'x'], '--releases-threshold <n>'],
  [['init', 'r', '--name', 'a.com/b', '--server', 'ftp://x'], '--server <url>'],
  [['init', 'r', '--name', 'a.com/b', '--server-managed', 'root'], '--server-managed <roles>'],
  [
    ['clone', 'http://127.0.0.1:9', 'a.com/b', 'r', '--server-managed', 'snapshot'],
    '--server-managed <roles>',
  ],
  [['trust', 'add', 'a.com/b', '--root', 'r.json', '--server', 'file:///x'], '--server <url>'],
  [['refresh', 'r', '--if-expiring-within', '12'], '--if-expiring-within <duration>'],
  [['resign', 'r', 'targets', '--expires', 'abc'], '--expires <duration>'],
  [['bundle', 'add', 'r', 'v1', '--thin', 'b.json', '--max-unpacked', 'big'], '--max-unpacked <MiB>'],
  [['serve', 'r', '--port', '70000'], '--port <port>'],
  [['server', '--listen', 'localhost'], '--listen <host:port>'],
  [['server', '--listen', '127.0.0.1:65536'], '--listen <host:port>'],
  [['server', '--log-level', 'loud'], '--log-level <level>'],
  [['server', '--refresh-interval', '1 day'], '--refresh-interval <duration>'],
  [
    ['verify', 'a.com/b:v1', '--thin', 'b.json', '--inspection-timeout', '0'],
    '--inspection-timeout <seconds>',
  ],
  [['verify', 'a.com/b:v1', '--thin', 'b.json', '--max-unpacked', '-3'], '--max-unpacked <MiB>'],
  [['intoto', 'run', '-n', 's', '-k', 'k', '--timeout', 'abc', '--', 'true'], '--timeout <seconds>'],
  [
    ['intoto', 'verify', '-l', 'x', '-k', 'y', '--inspection-timeout', 'NaN'],
    '--inspection-timeout <seconds>',
  ],
  [
    ['intoto', 'verify', '-l', 'x', '-k', 'y', '--max-inspection-output', 'lots'],
    '--max-inspection-output <bytes>',
  ],
  [['intoto', 'layout', 'new', '-t', 'fancy'], '-t, --template <name>'],
  [['intoto', 'layout', 'new', '--threshold', 'build=x'], '--threshold <step=n>'],
  [['intoto', 'layout', 'new', '--expires', 'abc'], '--expires <duration|time>'],
  [['intoto', 'layout', 'new', '--expires-in-days', 'abc'], '--expires-in-days <n>'],
  [['intoto', 'keygen', 'k', '-t', 'dsa'], '-t, --type <type>'],
];

const valueOf = (args) => {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  return args[end - 1];
};

test('typed options: a bad value of every typed option is a one-line usage error, exit 2', async (t) => {
  const dir = await tempDir(t);
  for (const [args, flags] of CASES) {
    const r = runCli(
      [
        ...args.slice(0, args.indexOf('--') >= 0 ? args.indexOf('--') : args.length),
        '--home',
        dir,
        ...(args.includes('--') ? args.slice(args.indexOf('--')) : []),
      ],
      { cwd: dir },
    );
    const what = `cnabsec ${args.join(' ')}: ${r.stdout}${r.stderr}`;
    assert.equal(r.status, 2, what);
    assert.equal(r.stdout, '', what);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, what);
    assert.equal(
      lines[0],
      `error: option '${flags}' argument '${valueOf(args)}' is invalid. ${lines[0].split('is invalid. ')[1]}`,
      what,
    );
    assert.match(lines[0], / is invalid\. expected \S/, what);
    assert.match(lines[1], /^\(run `cnabsec .+ --help` for usage\)$/, what);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, what);
  }
});

test('typed options: the old spellings still work and say what to use instead', async (t) => {
  const dir = await tempDir(t);
  const r = runCli(
    ['intoto', 'layout', 'new', '-t', 'minimal', '--expires-in-days', '10', '-o', 'x.layout', '--json'],
    {
      cwd: dir,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /--expires-in-days is deprecated; use --expires <n>d/);
  const r2 = runCli(['intoto', 'layout', 'new', '-t', 'minimal', '--expires', '10d', '-o', 'y.layout'], {
    cwd: dir,
  });
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(r2.stderr, '');
  const { readFile } = await import('node:fs/promises');
  const expires = async (f) => Date.parse(JSON.parse(await readFile(`${dir}/${f}`, 'utf8')).signed.expires);
  const [a, b] = [await expires('x.layout'), await expires('y.layout')];
  assert.ok(Math.abs(a - b) < 120_000, `${a} ${b}`);
  assert.ok(Math.abs(a - (Date.now() + 10 * 86_400_000)) < 120_000);
  const help = runCli(['intoto', 'layout', 'new', '--help']).stdout;
  assert.doesNotMatch(help, /--expires-in-days/);
  assert.match(help, /--expires <duration\|time>/);
});

test('typed options: a bad value writes nothing (init generates no key, creates no directory)', async (t) => {
  const dir = await tempDir(t);
  const home = `${dir}/home`;
  const before = await snapshotTree(dir);
  for (const args of [
    ['init', `${dir}/new-repo`, '--name', 'example.com/org/app', '--expires-root', '5q'],
    ['init', `${dir}/new-repo`, '--name', 'example.com/org/app', '--root-keys', '2', '--root-threshold', 'x'],
    ['intoto', 'layout', 'new', '-o', `${dir}/x.layout`, '--threshold', 'build=0'],
    ['intoto', 'keygen', `${dir}/k`, '--type', 'dsa'],
  ]) {
    const r = runCli([...args, '--home', home], { cwd: dir });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.deepEqual(await snapshotTree(dir), before);
});

/** Value placeholders that say "typed": such an option must have a parser of options.ts. */
const TYPED = /^(n|seconds|duration|duration\|time|type|port|MiB|bytes|step=n|version\|time)$/;

/** Every leaf command path with its help text, walking `--help` from the top. */
const leaves = () =>
  helpTree()
    .filter((n) => n.leaf)
    .map((n) => [n.words, n.help]);

test('typed options: every option of every command whose value is typed refuses "abc" (exit 2)', () => {
  let checked = 0;
  for (const [path, help] of leaves()) {
    for (const m of help.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+) <([^>]+)>/gm)) {
      if (!TYPED.test(m[2])) continue;
      const r = runCli([...path, m[1], 'abc']);
      const what = `cnabsec ${path.join(' ')} ${m[1]} abc: ${r.stdout}${r.stderr}`;
      assert.equal(r.status, 2, what);
      assert.match(
        r.stderr,
        new RegExp(`^error: option '[^']*${m[1]} <[^']*' argument 'abc' is invalid\\. expected `),
        what,
      );
      checked++;
    }
  }
  assert.ok(checked >= 30, String(checked));
});
