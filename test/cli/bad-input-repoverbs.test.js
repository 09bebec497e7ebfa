// Bad input to the verbs of issue 12 items 3-5 (reset, status, policy set/show, intoto run
// --fail-on-error), in the style of test/cli/bad-input.test.js: every case runs the real CLI
// against a copy of one published repository and checks the exit status (1 user error, 2 usage
// error, never 70), no stack trace, the one-line error plus its hint (or the usage line),
// nothing on stdout, and the repository and key store byte-for-byte unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';

const ctx = {};
let caseNo = 0;

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bad-repoverbs-'));
  ctx.repo0 = path.join(ctx.work, 'repo0');
  ctx.home0 = path.join(ctx.work, 'home0');
  const env = { CNABSEC_HOME: ctx.home0, CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', ctx.repo0, '--name', 'example.com/org/bad'], { env });
  cliOk(['publish', ctx.repo0], { env });
  cliOk(['resign', ctx.repo0, 'targets'], { env }); // something staged
  ctx.unpublished = path.join(ctx.work, 'unpublished0');
  cliOk(['init', ctx.unpublished, '--name', 'example.com/org/unpublished'], { env });
  ctx.key = path.join(ctx.work, 'step.key');
  cliOk(['intoto', 'keygen', ctx.key]);
});

after(() => rm(ctx.work, { recursive: true, force: true }));

async function fresh(from = ctx.repo0) {
  const dir = path.join(ctx.work, `case-${++caseNo}`);
  await mkdir(dir);
  const repo = path.join(dir, 'repo');
  const home = path.join(dir, 'home');
  await cp(from, repo, { recursive: true });
  await cp(ctx.home0, home, { recursive: true });
  return { dir, repo, home, env: { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: 'pw', CI: 'true' } };
}

/** A lock held by this (live) test process: writers wait CNABSEC_LOCK_WAIT=0 s, then refuse. */
async function holdLock(repo) {
  const lock = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), nonce: 'test' };
  await writeFile(path.join(repo, '.cnabsec.lock'), JSON.stringify(lock));
}

const CASES = [
  // ---- missing repository
  ...[['reset'], ['status'], ['policy', 'show'], ['policy', 'set', '--expires-targets', '90d']].map(
    (cmd) => ({
      title: `${cmd.join(' ')}: missing repository`,
      status: 1,
      code: 'REPO_NOT_FOUND',
      prepare: async (c) => {
        const at = cmd[0] === 'policy' ? 2 : 1;
        const nope = path.join(c.dir, 'nope');
        return { args: [...cmd.slice(0, at), nope, ...cmd.slice(at)], names: [nope] };
      },
    }),
  ),
  // ---- reset
  {
    title: 'reset: never published (it would leave no root)',
    status: 1,
    code: 'REPO_NOT_PUBLISHED',
    from: () => ctx.unpublished,
    prepare: async (c) => ({ args: ['reset', c.repo], names: ['example.com/org/unpublished'] }),
  },
  {
    title: 'reset: repository locked by another writer',
    status: 1,
    code: 'REPOSITORY_LOCKED',
    prepare: async (c) => {
      await holdLock(c.repo);
      return { args: ['reset', c.repo], env: { CNABSEC_LOCK_WAIT: '0' } };
    },
  },
  {
    title: 'reset: unknown option',
    status: 2,
    usage: /^error: unknown option '--force'/,
    prepare: async (c) => ({ args: ['reset', c.repo, '--force'] }),
  },
  {
    title: 'reset: no repository given',
    status: 2,
    usage: /^error: missing required argument 'repo'/,
    prepare: async () => ({ args: ['reset'] }),
  },
  {
    title: 'policy show: an option it does not take',
    status: 2,
    usage: /^error: unknown option '--expires-root'/,
    prepare: async (c) => ({ args: ['policy', 'show', c.repo, '--expires-root', '2d'] }),
  },
  // ---- status
  {
    title: 'status: no repository given',
    status: 2,
    usage: /^error: missing required argument 'repo'/,
    prepare: async () => ({ args: ['status'] }),
  },
  // ---- policy set
  ...[
    [
      '--expires-timestamp',
      'abc',
      /^error: option '--expires-timestamp <duration>' argument 'abc' is invalid\. expected a duration such as 30d/,
    ],
    [
      '--expires-snapshot',
      '1h',
      /^error: option '--expires-snapshot <duration>' argument '1h' is invalid\. snapshot expiry 1h is shorter than 2h/,
    ],
    ['--expires-root', '1.5d', /^error: option '--expires-root <duration>' argument '1\.5d' is invalid/],
    ['--expires-delegated', '0d', /^error: option '--expires-delegated <duration>' argument '0d' is invalid/],
    [
      '--expires-targets',
      '2000y',
      /^error: option '--expires-targets <duration>' argument '2000y' is invalid/,
    ],
    ['--expires-timestamp', '', /^error: option '--expires-timestamp <duration>' argument '' is invalid/],
  ].map(([opt, value, usage]) => ({
    title: `policy set ${opt} ${JSON.stringify(value)}: usage error naming the option`,
    status: 2,
    usage,
    prepare: async (c) => ({ args: ['policy', 'set', c.repo, opt, value] }),
  })),
  {
    title: 'policy set: an unknown role option',
    status: 2,
    usage: /^error: unknown option '--expires-releases'/,
    prepare: async (c) => ({ args: ['policy', 'set', c.repo, '--expires-releases', '30d'] }),
  },
  {
    title: 'policy set: no period given',
    status: 1,
    code: 'NOTHING_TO_CHANGE',
    prepare: async (c) => ({ args: ['policy', 'set', c.repo], names: ['no expiry period'] }),
  },
  {
    title: 'policy set: repository locked by another writer',
    status: 1,
    code: 'REPOSITORY_LOCKED',
    prepare: async (c) => {
      await holdLock(c.repo);
      return { args: ['policy', 'set', c.repo, '--expires-targets', '90d'], env: { CNABSEC_LOCK_WAIT: '0' } };
    },
  },
  // ---- intoto run --fail-on-error
  {
    title: 'intoto run --fail-on-error: the command exits 5',
    status: 1,
    code: 'INTOTO_COMMAND_FAILED',
    prepare: async (c) => ({
      args: [
        'intoto',
        'run',
        '-n',
        'build',
        '-k',
        ctx.key,
        '-d',
        c.repo,
        '--fail-on-error',
        '--',
        'sh',
        '-c',
        'exit 5',
      ],
      names: ['step "build"', 'exited 5'],
    }),
  },
];

for (const k of CASES) {
  test(`bad input: ${k.title}`, async () => {
    const c = await fresh(k.from?.());
    const { args, env = {}, names = [] } = await k.prepare(c);
    const before = [await snapshotTree(c.repo), await snapshotTree(c.home)];
    const r = runCli(args, { env: { ...c.env, ...env } });
    const out = `cnabsec ${args.join(' ')}\n--- status ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
    assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace\n${out}`);
    assert.equal(r.status, k.status, out);
    assert.equal(r.stdout, '', `nothing on stdout\n${out}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2, `two lines\n${out}`);
    if (k.status === 1) {
      assert.match(lines[0], new RegExp(`^cnabsec: error \\[${k.code}\\]: \\S`), out);
      for (const n of names) assert.ok(lines[0].includes(n), `names ${n}\n${out}`);
      assert.match(lines[1], /^ {2}hint: \S/, out);
    } else {
      assert.match(lines[0], k.usage, out);
      assert.match(lines[1], /^\(run `cnabsec .*--help` for usage\)$/, out);
    }
    assert.deepEqual(await snapshotTree(c.repo), before[0], `nothing written in the repository\n${out}`);
    assert.deepEqual(await snapshotTree(c.home), before[1], `nothing written in the key store\n${out}`);
  });
}
