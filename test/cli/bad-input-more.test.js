// The bad-input table, continued (issue 12, item 8): at least one realistic bad input for every
// command of `cnabsec --help` (test/cli/command-coverage.test.js checks that none is missing).
// Same style as bad-input.test.js, checks in test/helpers/bad-input.js: the real CLI against a
// copy of one shared set-up, exit 1 with `cnabsec: error [CODE]: ...` naming what was wrong and
// one hint line (exit 2 for usage errors), no stack trace, nothing on stdout, and the case's
// directory (repository, key store, trust store, in-toto files) byte-for-byte unchanged.
//
// Case titles begin with the command path (`'key sign: ...'`), the convention the coverage
// test reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliOk } from '../helpers/cli.js';
import { expectUsageError, expectUserError } from '../helpers/bad-input.js';

const PASS = 'correct horse battery staple';
const NAME = 'example.com/org/more';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));

const ctx = {};
let caseNo = 0;

function envFor(home, extra = {}) {
  return { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: PASS, CI: 'true', ...extra };
}

before(async () => {
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
});

after(async () => {
  if (ctx.work !== undefined) await rm(ctx.work, { recursive: true, force: true });
});

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

const missingRepo = (cmd, extra = []) => ({
  code: 'REPO_NOT_FOUND',
  prepare: ({ file }) => ({ args: [...cmd, file('no-such-repo'), ...extra], names: [file('no-such-repo')] }),
});

// prepare(copy) → {args, names, hint, env, watch}; `usage: true` for an exit-2 case.
const CASES = {
  // ---- keys ------------------------------------------------------------------------------
  'key generate: $CNABSEC_HOME is a regular file': {
    code: 'KEY_STORE_IO',
    prepare: async ({ file }) => {
      await writeFile(file('not-a-dir'), 'x');
      return {
        args: ['key', 'generate', '--label', 'releases'],
        env: envFor(file('not-a-dir')),
        names: [path.join(file('not-a-dir'), 'keys')],
      };
    },
  },
  'key list: a key file that is not JSON': {
    code: 'KEY_FILE_CORRUPT',
    prepare: async ({ home }) => {
      const key = path.join(home, 'keys', `${ctx.targetsId}.key`);
      await truncate(key, 50);
      return { args: ['key', 'list'], names: [key], hint: /backup/ };
    },
  },
  'key export: unknown key id': {
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'export', 'ffffffff'], names: ['ffffffff'], hint: /key list/ }),
  },
  'key sign: payload file missing': {
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'sign', ctx.targetsId, 'payload.bin'], names: ['payload.bin'] }),
  },
  'key sign: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ file }) => ({
      args: ['key', 'sign', ctx.targetsId, 'bundle.json', '-o', file('no-dir', 'sig.json')],
      names: [file('no-dir', 'sig.json'), 'ENOENT'],
    }),
  },
  'key import: a file that is not a PEM private key': {
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'import', 'bundle.json'], names: ['PEM'], hint: /PEM private key/ }),
  },
  'key import: missing PEM file': {
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'import', 'nope.pem'], names: ['nope.pem', 'ENOENT'] }),
  },
  'key rotate: threshold above the number of keys': {
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ repo }) => ({
      args: ['key', 'rotate', repo, 'targets', '--add-key', 'new', '--threshold', '5'],
      names: ['targets', '5'],
    }),
  },
  'key rotate: unknown role': {
    code: 'ROLE_UNKNOWN',
    prepare: ({ repo }) => ({
      args: ['key', 'rotate', repo, 'deploy', '--add-key', 'new'],
      names: ['deploy'],
    }),
  },

  // ---- delegations --------------------------------------------------------------------------
  'delegation add: --key that is no key id or file': {
    code: 'KEY_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['delegation', 'add', repo, 'targets/ci', '--paths', `${NAME}:ci-*`, '--key', 'ci.pem'],
      names: ['ci.pem'],
    }),
  },
  'delegation add: without --paths': {
    usage: true,
    prepare: ({ repo }) => ({
      args: ['delegation', 'add', repo, 'targets/ci', '--key', 'new'],
      names: ['--paths'],
    }),
  },
  'delegation remove: not a delegated role': {
    code: 'DELEGATION_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['delegation', 'remove', repo, 'targets/nightly'],
      names: ['targets/nightly'],
      hint: /targets\/releases/,
    }),
  },
  'delegation rotate: threshold above the number of keys': {
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ repo }) => ({
      args: ['delegation', 'rotate', repo, 'targets/releases', '--add-key', 'new', '--threshold', '7'],
      names: ['targets/releases'],
    }),
  },
  'delegation list: missing repository': missingRepo(['delegation', 'list']),

  // ---- recovery -----------------------------------------------------------------------------
  'recover: missing repository': missingRepo(['recover'], ['--new-root-key', 'new']),
  'recover: no --new-root-key': {
    code: 'INVALID_ARGUMENT',
    prepare: ({ repo }) => ({ args: ['recover', repo], names: ['--new-root-key'] }),
  },
  'recover: threshold above the new root keys': {
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ repo }) => ({
      args: ['recover', repo, '--new-root-key', 'new', '--threshold', '3'],
      names: ['root', '3'],
    }),
  },
  'advisory: without --since': {
    usage: true,
    prepare: ({ repo }) => ({ args: ['advisory', repo], names: ['--since'] }),
  },
  'advisory: --since neither a version nor a time': {
    code: 'INVALID_ARGUMENT',
    prepare: ({ repo }) => ({ args: ['advisory', repo, '--since', 'yesterday'], names: ['yesterday'] }),
  },
  'advisory: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ repo, file }) => ({
      args: ['advisory', repo, '--since', '1', '--key', ctx.targetsId, '-o', file('no-dir', 'advisory.txt')],
      names: [file('no-dir', 'advisory.txt')],
    }),
  },

  // ---- repository ---------------------------------------------------------------------------
  'init: repository name outside the OCI grammar': {
    code: 'INVALID_NAME',
    prepare: ({ file }) => ({
      args: ['init', file('new-repo'), '--name', 'Example.com/Org'],
      names: ['Example.com/Org'],
    }),
  },
  'status: missing repository': missingRepo(['status']),
  'publish: missing repository': missingRepo(['publish']),
  'refresh: missing repository': missingRepo(['refresh']),
  'resign: unknown role': {
    code: 'ROLE_UNKNOWN',
    prepare: ({ repo }) => ({ args: ['resign', repo, 'deploy'], names: ['deploy'] }),
  },
  'sign: key id not in the key store': {
    code: 'KEY_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['sign', repo, 'targets', '--key', 'ffffffffffff'],
      names: ['ffffffffffff'],
    }),
  },
  'payload: role without staged changes': {
    code: 'ROLE_NOT_STAGED',
    prepare: ({ repo }) => ({ args: ['payload', repo, 'targets'], names: ['targets'], hint: /resign/ }),
  },
  'payload: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ repo, home, file }) => {
      cliOk(['resign', repo, 'targets'], { env: envFor(home) });
      return {
        args: ['payload', repo, 'targets', '-o', file('no-dir', 'p.bin')],
        names: [file('no-dir', 'p.bin')],
      };
    },
  },
  'add-signature: missing signature file': {
    code: 'BAD_SIGNATURE',
    prepare: ({ repo }) => ({ args: ['add-signature', repo, 'targets', 'sig.json'], names: ['sig.json'] }),
  },

  // ---- bundles and layouts ------------------------------------------------------------------
  'bundle add: missing bundle file': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', 'missing.json'],
      names: ['missing.json'],
    }),
  },
  'bundle add: neither --thin nor --thick': {
    code: 'INVALID_ARGUMENT',
    prepare: ({ repo }) => ({ args: ['bundle', 'add', repo, 'v3'], names: ['--thin', '--thick'] }),
  },
  'bundle add: --links directory that does not exist': {
    code: 'INTOTO_METADATA_MISSING',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', 'bundle.json', '--links', 'no-links'],
      names: ['no-links'],
    }),
  },
  'bundle remove: unknown tag': {
    code: 'TARGET_NOT_FOUND',
    prepare: ({ repo }) => ({ args: ['bundle', 'remove', repo, 'v9'], names: [`${NAME}:v9`] }),
  },
  'bundle list: missing repository': missingRepo(['bundle', 'list']),
  'bundle canonicalize: missing file': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['bundle', 'canonicalize', 'missing.json'], names: ['missing.json'] }),
  },
  'bundle canonicalize: a directory': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['bundle', 'canonicalize', 'repo'], names: ['repo'] }),
  },
  'bundle canonicalize: truncated bundle.json': {
    code: 'BUNDLE_INVALID_JSON',
    prepare: async ({ file }) => {
      await truncate(file('bundle.json'), 30);
      return { args: ['bundle', 'canonicalize', 'bundle.json'], names: ['bundle.json'] };
    },
  },
  'layout add: missing layout file': {
    code: 'INTOTO_METADATA_MISSING',
    prepare: ({ repo }) => ({
      args: ['layout', 'add', repo, 'release', '--layout', 'root.layout', '--layout-key', 'k.pub'],
      names: ['root.layout'],
    }),
  },

  // ---- client -------------------------------------------------------------------------------
  'trust add: repository already trusted': {
    code: 'TRUST_EXISTS',
    prepare: ({ repo }) => ({
      args: [
        'trust',
        'add',
        NAME,
        '--root',
        path.join(repo, 'metadata', '1.root.json'),
        '--url',
        'http://127.0.0.1:9',
      ],
      names: [NAME],
      hint: /trust reset/,
    }),
  },
  'trust reset: repository not trusted': {
    code: 'TRUST_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['trust', 'reset', 'example.com/org/other', '--root', path.join(repo, 'metadata', '1.root.json')],
      names: ['example.com/org/other'],
      hint: /trust add/,
    }),
  },
  'trust reset: missing root file': {
    code: 'INVALID_ARGUMENT',
    prepare: () => ({ args: ['trust', 'reset', NAME, '--root', 'new-root.json'], names: ['new-root.json'] }),
  },
  'trust list: a truncated trust entry': {
    code: 'TRUST_STORE_CORRUPT',
    prepare: async ({ home }) => {
      const entry = path.join(home, 'trust', encodeURIComponent(NAME), 'trust.json');
      await truncate(entry, 20);
      // The advice must work: `trust add` refuses while the entry exists, so it says to remove it.
      return {
        args: ['trust', 'list'],
        names: [entry],
        hint: new RegExp(`remove ${path.dirname(entry)} and run`),
      };
    },
  },
  'lookup: repository not trusted': {
    code: 'TRUST_NOT_FOUND',
    prepare: () => ({ args: ['lookup', 'example.com/org/other:v1'], names: ['example.com/org/other:v1'] }),
  },
  'serve: missing repository': missingRepo(['serve']),
  'serve: nothing published yet': {
    code: 'SERVER_DIRECTORY',
    prepare: ({ home, file }) => {
      cliOk(['init', file('new-repo'), '--name', 'example.com/org/new'], { env: envFor(home) });
      return { args: ['serve', file('new-repo')], names: [file('new-repo')], hint: /cnabsec publish/ };
    },
  },
  'serve: port out of range': {
    usage: true,
    prepare: ({ repo }) => ({ args: ['serve', repo, '--port', '99999'], names: ['--port', '99999'] }),
  },
  'serve: port in use': {
    code: 'SERVER_LISTEN_FAILED',
    busyPort: true,
    prepare: ({ repo }, port) => ({
      args: ['serve', repo, '--port', String(port)],
      names: [`127.0.0.1:${port}`, 'EADDRINUSE'],
      hint: /--port/,
    }),
  },
  'verify: repository not trusted': {
    code: 'TUF_UPDATE_FAILED',
    prepare: () => ({
      args: ['verify', 'example.com/org/other:v1', '--thin', 'bundle.json'],
      names: ['example.com/org/other:v1'],
      hint: /trust add/,
    }),
  },
  'verify: missing bundle file': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['verify', `${NAME}:v1`, '--thin', 'missing.json'], names: ['missing.json'] }),
  },
  'verify: no bundle given': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['verify', `${NAME}:v1`], names: ['--thin', '--thick'] }),
  },
  'verify: missing --map file': {
    code: 'MAP_INVALID',
    prepare: () => ({
      args: ['verify', `${NAME}:v1`, '--thin', 'bundle.json', '--map', 'map.json'],
      names: ['map.json'],
    }),
  },
  'verify: --map file that is not a TAP 4 map': {
    code: 'MAP_INVALID',
    prepare: async ({ file }) => {
      await writeFile(file('map.json'), JSON.stringify({ repositories: [], mapping: {} }));
      return {
        args: ['verify', `${NAME}:v1`, '--thin', 'bundle.json', '--map', 'map.json'],
        names: ['repositories'],
      };
    },
  },
  'verify: thick archive corrupted (same length)': {
    code: 'BUNDLE_HASH_MISMATCH',
    prepare: async ({ file }) => {
      const bytes = await readFile(file('bundle.tgz'));
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      await writeFile(file('bundle.tgz'), bytes);
      return { args: ['verify', `${NAME}:v2`, '--thick', 'bundle.tgz'], names: [`${NAME}:v2`] };
    },
  },
  'verify: --thick names a directory': {
    // was: BUNDLE_HASH_MISMATCH "length differs", blaming a bundle that was never read
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({
      args: ['verify', `${NAME}:v2`, '--thick', 'links'],
      names: ['links', 'not a regular file'],
    }),
  },
  'verify: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ file }) => ({
      args: ['verify', `${NAME}:v1`, '--thin', 'bundle.json', '-o', file('no-dir', 'bundle.json')],
      names: [file('no-dir', 'bundle.json')],
    }),
  },

  // ---- in-toto ------------------------------------------------------------------------------
  'intoto run: key that is no file or key id': {
    code: 'KEY_NOT_FOUND',
    prepare: () => ({
      args: ['intoto', 'run', '-n', 'build', '-k', 'builder', '--', 'true'],
      names: ['builder'],
    }),
  },
  'intoto run: -d below a regular file': {
    code: 'INTOTO_IO',
    prepare: () => ({
      args: ['intoto', 'run', '-n', 'build', '-k', 'k', '-d', 'bundle.json/links', '--', 'true'],
      names: ['bundle.json/links', 'ENOTDIR'],
    }),
  },
  'intoto record start: key that is no file or key id': {
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['intoto', 'record', 'start', '-n', 'source', '-k', 'dev'], names: ['dev'] }),
  },
  'intoto record stop: never started': {
    code: 'INTOTO_RECORD_NOT_STARTED',
    prepare: () => ({
      args: ['intoto', 'record', 'stop', '-n', 'source', '-k', 'k'],
      names: ['source'],
      hint: /record start/,
    }),
  },
  'intoto sign: a file that is not in-toto metadata': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({ args: ['intoto', 'sign', 'bundle.json', '--key', 'k'], names: ['bundle.json'] }),
  },
  'intoto verify: missing link directory': {
    code: 'INTOTO_LINK_DIR_MISSING',
    prepare: () => ({
      args: ['intoto', 'verify', '--layout', 'min.layout', '--layout-key', 'k.pub', '--link-dir', 'no-links'],
      names: ['no-links'],
    }),
  },
  'intoto verify: --layout-key names a directory': {
    code: 'INTOTO_IO',
    prepare: () => ({
      args: ['intoto', 'verify', '--layout', 'min.layout', '--layout-key', 'links', '--link-dir', 'links'],
      names: ['links'],
      hint: /key file/,
    }),
  },
  'intoto verify: missing layout': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({
      args: ['intoto', 'verify', '--layout', 'root.layout', '--layout-key', 'k.pub', '--link-dir', 'links'],
      names: ['root.layout'],
    }),
  },
  'intoto layout new: a step the template does not have': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({
      args: ['intoto', 'layout', 'new', '--template', 'cnab', '-f', 'deploy=k.pub', '-o', 'root.layout'],
      names: ['deploy'],
      hint: /source, build, package/,
    }),
  },
  'intoto layout new: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ file }) => ({
      args: [
        'intoto',
        'layout',
        'new',
        '--template',
        'minimal',
        '-f',
        'build=k.pub',
        '-o',
        file('no-dir', 'l'),
      ],
      names: [file('no-dir', 'l')],
    }),
  },
  'intoto layout lint: a file that is not a layout': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({ args: ['intoto', 'layout', 'lint', 'bundle.json'], names: ['bundle.json'] }),
  },
  'intoto keygen: parent path is a regular file': {
    code: 'INTOTO_IO',
    prepare: () => ({
      args: ['intoto', 'keygen', 'bundle.json/builder'],
      names: ['bundle.json/builder', 'ENOTDIR'],
    }),
  },
};

for (const [title, c] of Object.entries(CASES)) {
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

test('bad-input-more: every title follows the convention the coverage test reads', () => {
  for (const t of Object.keys(CASES)) assert.match(t, /^[a-z][a-z-]*( [a-z][a-z-]*)*: \S/, `title: ${t}`);
});
