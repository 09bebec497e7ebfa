// The CLI's own command-line parser (src/cli/args.ts): GNU-style options as commander parsed
// them, positional arguments, subcommand groups, usage errors and help text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, UsageError } from '../../dist/cli/args.js';

/** A leaf command with the option kinds the CLI uses; `run(argv)` → what its action got. */
function leaf() {
  const program = new Command('cnabsec');
  const calls = [];
  const collect = (v, prev) => [...prev, v];
  program
    .command('add <repo> [tag]')
    .description('add a thing')
    .option('-o, --output <file>', 'where to write')
    .option('-k, --layout-key <files...>', 'key files')
    .option('-f, --force', 'overwrite')
    .option('-q, --quiet', 'say less')
    .option('--no-prompt', 'never prompt')
    .option('--level [n]', 'optional value')
    .option('--param <k=v>', 'repeatable', collect, [])
    .option('--count <n>', 'a number', (v) => {
      if (!/^\d+$/.test(v)) throw new Error('expected digits');
      return Number(v);
    })
    .option('--link-dir <dir>', 'link directory', '.')
    .requiredOption('--name <name>', 'required name')
    .action((repo, tag, options) => calls.push({ repo, tag, options }));
  program.command('run <step> [cmd...]').action((step, cmd, options) => calls.push({ step, cmd, options }));
  return {
    program,
    async run(...argv) {
      calls.length = 0;
      await program.run(argv);
      assert.equal(calls.length, 1);
      return calls[0];
    },
  };
}

async function usageError(cli, argv, pattern) {
  await assert.rejects(cli.program.run(argv), (e) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.code, 'CLI_USAGE');
    assert.match(e.message, pattern);
    return true;
  });
}

test('args: long, short, = and attached values; defaults; camelCase keys', async () => {
  const cli = leaf();
  const a = await cli.run('add', 'r', '--name', 'n', '--output', 'a.json');
  assert.deepEqual(a.options, { name: 'n', output: 'a.json', prompt: true, param: [], linkDir: '.' });
  assert.equal(a.repo, 'r');
  assert.equal(a.tag, undefined);
  assert.equal((await cli.run('add', 'r', 'v1', '--name=n', '-ob.json')).options.output, 'b.json');
  assert.equal((await cli.run('add', 'r', '--name', 'n', '-o', 'c.json')).options.output, 'c.json');
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--output=x=y')).options.output, 'x=y');
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--link-dir', 'l')).options.linkDir, 'l');
  assert.equal((await cli.run('add', '--name', 'n', 'r', 'v2')).tag, 'v2');
});

test('args: flags, grouped short flags, --no-*, optional values', async () => {
  const cli = leaf();
  const a = await cli.run('add', 'r', '--name', 'n', '-fq', '--no-prompt');
  assert.equal(a.options.force, true);
  assert.equal(a.options.quiet, true);
  assert.equal(a.options.prompt, false);
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--level')).options.level, true);
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--level', '3')).options.level, '3');
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--level', '-f')).options.force, true);
});

test('args: variadic options, repeated options, parsers, negative numbers, --', async () => {
  const cli = leaf();
  const a = await cli.run('add', 'r', '--name', 'n', '-k', 'a.pub', 'b.pub', '--force');
  assert.deepEqual(a.options.layoutKey, ['a.pub', 'b.pub']);
  assert.equal(a.options.force, true);
  assert.deepEqual((await cli.run('add', 'r', '-k', 'a', '--name', 'n', '-k', 'b')).options.layoutKey, [
    'a',
    'b',
  ]);
  // `=` and attached values give a variadic option one value; the words after it are operands
  const eqForm = await cli.run('add', 'r', '--name', 'n', '--layout-key=a.pub', 'v1');
  assert.deepEqual(eqForm.options.layoutKey, ['a.pub']);
  assert.equal(eqForm.tag, 'v1');
  const attached = await cli.run('add', 'r', '--name', 'n', '-ka.pub', 'v2');
  assert.deepEqual(attached.options.layoutKey, ['a.pub']);
  assert.equal(attached.tag, 'v2');
  assert.deepEqual((await cli.run('add', 'r', '-k=x', '--name', 'n', '-k', 'y', 'z')).options.layoutKey, [
    '=x',
    'y',
    'z',
  ]);
  const p = await cli.run('add', 'r', '--name', 'n', '--param', 'a=1', '--param', 'b=2');
  assert.deepEqual(p.options.param, ['a=1', 'b=2']);
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--count', '7')).options.count, 7);
  assert.equal((await cli.run('add', 'r', '--name', 'n', '--name', 'm')).options.name, 'm');
  assert.equal((await cli.run('add', 'r', '-5', '--name', 'n')).tag, '-5');
  const r = await cli.run('run', 'build', '--', 'make', '-j', '--help');
  assert.deepEqual(r.cmd, ['make', '-j', '--help']);
  assert.deepEqual((await cli.run('run', 'build')).cmd, []);
});

test('args: usage errors name the option, argument or command, with a suggestion', async () => {
  const cli = leaf();
  await usageError(
    cli,
    ['add', 'r', '--name', 'n', '--outptu', 'x'],
    /unknown option '--outptu' \(Did you mean --output\?\)/,
  );
  await usageError(cli, ['add', 'r', '--name', 'n', '-z'], /unknown option '-z'/);
  await usageError(cli, ['add', 'r'], /required option '--name <name>' not specified/);
  await usageError(cli, ['add', '--name', 'n'], /missing required argument 'repo'/);
  await usageError(
    cli,
    ['add', 'r', 't', 'extra', '--name', 'n'],
    /too many arguments for 'add'. Expected 2 arguments but got 3/,
  );
  await usageError(
    cli,
    ['add', 'r', '--name', 'n', '--output'],
    /option '-o, --output <file>' argument missing/,
  );
  await usageError(cli, ['add', 'r', '--name', 'n', '--force=yes'], /option '-f, --force' takes no value/);
  await usageError(
    cli,
    ['add', 'r', '--name', 'n', '--count', 'x'],
    /argument 'x' is invalid. expected digits/,
  );
  const files = new Command('x');
  files.command('rm <files...>').action(() => {});
  await usageError({ program: files }, ['rm'], /missing required argument 'files'/);
  await usageError(cli, ['ad'], /unknown command 'ad' \(Did you mean add\?\)/);
  await usageError(cli, ['--bogus'], /unknown option '--bogus'/);
  await usageError(cli, ['help', 'nope'], /unknown command 'nope'/);
  await assert.rejects(
    cli.program.run(['zzzzzz']),
    (e) => e instanceof UsageError && !/Did you mean/.test(e.message),
  );
  await assert.rejects(
    cli.program.run(['add', 'r', '--name', 'n', '-z']),
    (e) => e.command.path() === 'cnabsec add',
  );
});

test('args: help text lists usage, arguments, options with defaults, and subcommands', () => {
  const program = new Command('cnabsec').description('top').version('0.1.0');
  const group = program.command('intoto').description('in-toto things');
  group
    .command('verify')
    .description('verify a supply chain')
    .argument('<layout>', 'the layout file')
    .option('--link-dir <dir>', 'directory of the link files', '.')
    .option('--no-prompt', 'never prompt');
  const top = program.helpText();
  assert.match(top, /^Usage: cnabsec \[options\] \[command\]\n\ntop\n/);
  assert.match(top, /-V, --version +output the version number/);
  assert.match(top, /intoto +in-toto things/);
  assert.match(top, /help \[command\] +display help for command/);
  const verify = group.commands[0].helpText();
  assert.match(verify, /^Usage: cnabsec intoto verify \[options\] <layout>\n/);
  assert.match(verify, /Arguments:\n {2}layout +the layout file/);
  assert.match(verify, /--link-dir <dir> +directory of the link files \(default: "\."\)/);
  assert.match(verify, /--no-prompt +never prompt\n/);
  assert.match(verify, /-h, --help +display help for command/);
  assert.doesNotMatch(verify, /--version/);
  assert.match(group.helpText(), /verify \[options\] <layout> +verify a supply chain/);
});

test('args: long descriptions wrap at 80 columns under their column', () => {
  const program = new Command('x');
  const c = program.command('c').option('--a <v>', 'word '.repeat(30).trim());
  const lines = c.helpText().split('\n');
  const first = lines.findIndex((l) => l.startsWith('  --a <v>'));
  assert.ok(
    lines.every((l) => l.length <= 80),
    c.helpText(),
  );
  const column = lines[first].indexOf('word');
  assert.equal(lines[first + 1].indexOf('word'), column, c.helpText());
  assert.match(lines[first + 1], /^ +word/);
});

test('args: a string default of a typed option is parsed, help shows it as given', async () => {
  const program = new Command('x');
  const got = [];
  const days = (v) => {
    if (!/^\d+d$/.test(v)) throw new Error('expected a number of days such as 30d');
    return Number(v.slice(0, -1));
  };
  const c = program
    .command('c')
    .option('--expires <duration>', 'expiry', days, '30d')
    .action((o) => got.push(o));
  await program.run(['c']);
  assert.equal(got[0].expires, 30);
  await program.run(['c', '--expires', '7d']);
  assert.equal(got[1].expires, 7);
  assert.match(c.helpText(), /--expires <duration> +expiry \(default: "30d"\)/);
  await assert.rejects(
    program.run(['c', '--expires', 'soon']),
    /option '--expires <duration>' argument 'soon' is invalid. expected a number of days such as 30d/,
  );
  const long = 'x'.repeat(500);
  await assert.rejects(program.run(['c', '--expires', long]), (e) => e.message.length < 200);
});

test('args: a deprecated option works under its key, is hidden from help and completion', async (t) => {
  const program = new Command('x');
  const got = [];
  const c = program
    .command('c')
    .option('-o, --output <dir>', 'where')
    .deprecatedOption('--out <dir>', '-o, --output <dir>', { key: 'output' })
    .action((o) => got.push(o));
  const writes = [];
  t.mock.method(process.stderr, 'write', (s) => writes.push(String(s)) > 0);
  await program.run(['c', '--out', 'pkg']);
  t.mock.restoreAll();
  assert.equal(got[0].output, 'pkg');
  assert.match(writes.join(''), /--out is deprecated; use -o, --output <dir>/);
  assert.doesNotMatch(c.helpText(), /--out /);
  assert.deepEqual(
    c.optionSummaries().map((o) => o.flags),
    [
      ['-o', '--output'],
      ['-h', '--help'],
    ],
  );
});

test('args: Notary-habit hooks: extra arguments, checks and unknown commands give advice', async () => {
  const program = new Command('cnabsec').onUnknownCommand((w) =>
    w === 'add' ? 'run `cnabsec bundle add`' : undefined,
  );
  program
    .command('verify <target>')
    .onExtraArguments((extra, operands) => `Did you mean ${operands[0]}:${extra[0]}?`)
    .check(([target]) => (target === 'bad' ? "'bad' is not a target" : undefined))
    .action(() => {});
  await assert.rejects(
    program.run(['verify', 'app', 'v1']),
    /Expected 1 argument but got 2. Did you mean app:v1\?/,
  );
  await assert.rejects(
    program.run(['verify', 'bad']),
    (e) => e instanceof UsageError && /'bad' is not/.test(e.message),
  );
  await assert.rejects(program.run(['add', 'x']), /unknown command 'add'. run `cnabsec bundle add`/);
  await assert.rejects(program.run(['verifx']), /unknown command 'verifx' \(Did you mean verify\?\)/);
});

test('args: the top-level help groups commands under headings; unknown names under Other', () => {
  const program = new Command('cnabsec').version(() => '1.2.3');
  for (const name of ['verify', 'init', 'frobnicate', 'key', 'serve', 'intoto', 'list'])
    program.command(name).description(`${name} things`);
  const help = program.helpText();
  const headings = [...help.matchAll(/^(\S[^:\n]*):$/gm)].map((m) => m[1]);
  assert.deepEqual(headings, [
    'Options',
    'Developer commands (sign and publish a bundle repository)',
    'User commands (trust and verify bundles)',
    'Key commands',
    'in-toto commands',
    'Server commands',
    'Other commands',
  ]);
  const under = (heading) => help.split(`${heading}:\n`)[1].split('\n\n')[0];
  assert.match(under('User commands (trust and verify bundles)'), /list[^\n]*\n {2}verify/);
  assert.match(under('Other commands'), /frobnicate things\n {2}help \[command\]/);
  // subgroups are not grouped
  assert.doesNotMatch(program.commands[0].helpText(), /Developer/);
});

test('args: a term too long for its column gets a line of its own', () => {
  const program = new Command('x');
  const c = program
    .command('c')
    .option(`--${'a'.repeat(50)} <v>`, 'long one')
    .option('--b', 'short one');
  const lines = c.helpText().split('\n');
  const i = lines.findIndex((l) => l.includes('aaaa'));
  assert.match(lines[i + 1], /^ {10,}long one$/);
  assert.ok(
    lines.every((l) => l.length <= 80),
    c.helpText(),
  );
});
