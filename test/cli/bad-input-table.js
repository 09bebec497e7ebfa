// The shared set-up and runner of the bad-input tables bad-input-more*.test.js (issue 12,
// item 8): one repository (v1 thin, v2 thick, a delegation targets/releases; published and
// trusted by the client of the same home) and in-toto files (a key `k`, a minimal layout
// signed by it, a link of its step), copied for each case; checks in test/helpers/bad-input.js.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliOk } from '../helpers/cli.js';
import { expectUsageError, expectUserError } from '../helpers/bad-input.js';

export const PASS = 'correct horse battery staple';
export const NAME = 'example.com/org/more';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));

/** Shared state built once per test file by `setUp`. */
export const ctx = {};
let caseNo = 0;

export function envFor(home, extra = {}) {
  return { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: PASS, CI: 'true', ...extra };
}

async function setUp() {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bad-input-more-'));
  const w = (...p) => path.join(ctx.work, ...p);
  const base = w('base');
  ctx.home0 = path.join(base, 'home');
  ctx.repo0 = path.join(base, 'repo');
  const env = envFor(ctx.home0);
  const run = (args) => cliOk(args, { env, cwd: base });

  // Bundles: the canonical bundle.json and a thick archive of it.
  await mkdir(base);
  await copyFile(FIXTURE, path.join(base, 'bundle.json'));
  execFileSync('tar', ['czf', 'bundle.tgz', 'bundle.json'], { cwd: base });

  // The repository: v1 thin, v2 thick, a delegation targets/releases; published and trusted.
  run(['init', ctx.repo0, '--name', NAME]);
  run(['bundle', 'add', ctx.repo0, 'v1', '--thin', 'bundle.json']);
  run(['bundle', 'add', ctx.repo0, 'v2', '--thick', 'bundle.tgz']);
  run(['delegation', 'add', ctx.repo0, 'targets/releases', '--paths', `${NAME}:*`, '--key', 'new']);
  run(['publish', ctx.repo0]);
  const url = pathToFileURL(path.join(ctx.repo0, 'metadata')).href;
  run(['trust', 'add', NAME, '--root', path.join(ctx.repo0, 'metadata', '1.root.json'), '--url', url]);
  run(['lookup', `${NAME}:v1`]);
  run(['lookup', `${NAME}:v2`]);
  const status = JSON.parse(run(['status', ctx.repo0, '--json']));
  ctx.targetsId = status.roles.find((r) => r.role === 'targets').keyids[0];

  // in-toto: a functionary key file `k`, a minimal layout signed by it, a link of its step.
  run(['intoto', 'keygen', 'k']);
  run([
    'intoto',
    'layout',
    'new',
    '--template',
    'minimal',
    '-f',
    'build=k.pub',
    '-s',
    'k',
    '-o',
    'min.layout',
  ]);
  await mkdir(path.join(base, 'links'));
  run(['intoto', 'run', '-n', 'build', '-k', 'k', '-d', 'links', '--', 'true']);
  ctx.base = base;
}

/** A fresh copy of the shared set-up: {dir, repo, home, file(...)}; commands run in `dir`. */
async function fresh() {
  const dir = path.join(ctx.work, `case-${++caseNo}`);
  await cp(ctx.base, dir, { recursive: true });
  return {
    dir,
    repo: path.join(dir, 'repo'),
    home: path.join(dir, 'home'),
    file: (...p) => path.join(dir, ...p),
  };
}

/** A port on 127.0.0.1 held by a listener of this process until `release()`. */
async function busyPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, release: () => new Promise((resolve) => server.close(resolve)) };
}

export const missingRepo = (cmd, extra = []) => ({
  code: 'REPO_NOT_FOUND',
  prepare: ({ file }) => ({ args: [...cmd, file('no-such-repo'), ...extra], names: [file('no-such-repo')] }),
});

/**
 * Register the cases of a table: `title` (beginning with the command path, the convention of
 * test/cli/command-coverage.test.js) → {code | usage: true, busyPort?, prepare(copy, port)}.
 */
export function runTable(cases) {
  before(setUp);
  after(async () => {
    if (ctx.work !== undefined) await rm(ctx.work, { recursive: true, force: true });
  });
  for (const [title, c] of Object.entries(cases)) {
    test(`bad input: ${title} → ${c.usage === true ? 'usage error' : c.code}`, async () => {
      const copy = await fresh();
      const port = c.busyPort === true ? await busyPort() : undefined;
      try {
        const p = await c.prepare(copy, port?.port);
        const spec = { env: envFor(copy.home), cwd: copy.dir, watch: [copy.dir], ...p };
        if (c.usage === true) await expectUsageError(spec);
        else await expectUserError({ code: c.code, ...spec });
      } finally {
        await port?.release();
      }
    });
  }
  test('every title follows the convention the coverage test reads', () => {
    for (const t of Object.keys(cases)) assert.match(t, /^[a-z][a-z-]*( [a-z][a-z-]*)*: \S/, `title: ${t}`);
  });
}
