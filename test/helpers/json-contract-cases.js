// The cases of test/cli/json-contract.test.js: one per command of the CLI, in the order they run
// (later ones use the state earlier ones made). `ok` and `err` give the arguments (without
// --json), `env` / `errEnv` extra variables, `cwd` the working directory under the test's
// directory; `prep` runs before, `then` receives the success document. `err: null` means the
// command takes no input that could be wrong (the reason is in `why`).
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliOk, cliOkAsync } from './cli.js';
import { registryCases } from './json-contract-registry.js';
import { startRegistry } from './registry.js';
import { pushRegistryBundle } from './registry-images.js';

export const PASS = 'correct horse battery staple';
const NAME = 'example.com/org/app';
const REMOTE = 'example.com/org/remote';
const FIXTURE = fileURLToPath(new URL('../fixtures/bundle.json', import.meta.url));
const NO_KEY = 'deadbeefdeadbeef';
const noPassphrase = { CNABSEC_PASSPHRASE: undefined };

/** The cases, for the shared state `ctx` ({work, env, ...}, filled as the cases run). */
export function contractCases(ctx) {
  const w = (...p) => path.join(ctx.work, ...p);
  const none = () => w('no-such-repo');
  return [
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
    {
      command: 'key export',
      ok: () => ['key', 'export', ctx.extraKey],
      err: () => ['key', 'export', NO_KEY],
    },
    {
      command: 'key export',
      ok: () => ['key', 'export', ctx.extraKey, '--private', '-o', w('extra.backup')],
      // the backup is never written over an existing file (without --force)
      err: () => ['key', 'export', ctx.extraKey, '--private', '-o', w('extra.backup')],
    },
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
    {
      // a repository on the metadata repository server of this test process (ctx.startServer)
      command: 'pull',
      server: true,
      prep: async () => {
        ctx.server = await ctx.startServer();
        const run = (args) => cliOkAsync(args, { env: ctx.env });
        await run(['init', w('repo-srv'), '--name', REMOTE, '--server', ctx.server.url]);
        await run(['bundle', 'add', w('repo-srv'), 'v1', '--thin', FIXTURE]);
        await run(['publish', w('repo-srv')]);
      },
      ok: () => ['pull', w('repo-srv')],
      err: () => ['pull', w('repo')],
    },
    {
      command: 'clone',
      server: true,
      ok: () => ['clone', ctx.server.url, REMOTE, w('repo-clone')],
      err: () => ['clone', ctx.server.url, REMOTE, w('repo-srv')],
    },
    { command: 'refresh', ok: () => ['refresh', w('repo'), '--force'], err: () => ['refresh', none()] },
    {
      command: 'bundle list',
      ok: () => ['bundle', 'list', w('repo')],
      err: () => ['bundle', 'list', none()],
    },
    {
      command: 'bundle canonicalize',
      ok: () => ['bundle', 'canonicalize', FIXTURE],
      err: () => ['bundle', 'canonicalize', w('none.json')],
    },
    {
      command: 'resign',
      ok: () => ['resign', w('repo'), 'targets'],
      err: () => ['resign', none(), 'targets'],
    },
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
      ok: () => [
        'intoto',
        'verify',
        '--layout',
        'root.layout',
        '--layout-key',
        'owner.pub',
        '--link-dir',
        '.',
      ],
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
    {
      command: 'trust list',
      ok: () => ['trust', 'list'],
      err: () => ['trust', 'list', '--home', w('a-file')],
    },
    {
      command: 'trust export',
      ok: () => ['trust', 'export', `${NAME}:v1`, '-o', w('trust.tgz'), '--with-bundle', '--thin', FIXTURE],
      err: () => ['trust', 'export', `${NAME}:v9`, '-o', w('trust-none.tgz')],
    },
    {
      command: 'trust import',
      ok: () => [
        'trust',
        'import',
        w('trust.tgz'),
        '--home',
        w('airgap-home'),
        '--root',
        w('repo', 'metadata', '1.root.json'),
      ],
      err: () => ['trust', 'import', w('trust.tgz'), '--home', w('airgap-home-2')],
    },
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
      command: 'server',
      serve: true,
      ok: () => ['server', '--listen', '127.0.0.1:0', '--db', w('server', 'cnabsec.db')],
      env: { CNABSEC_SERVER_MASTER_KEY: 'ab'.repeat(32) },
      err: () => ['server', '--listen', '127.0.0.1:0', '--db', w('server', 'cnabsec.db')],
      errEnv: { CNABSEC_SERVER_MASTER_KEY: undefined },
    },
    {
      command: 'server-backup',
      ok: () => ['server-backup', w('server-backup.db'), '--db', w('server', 'cnabsec.db')],
      err: () => ['server-backup', w('server-backup-2.db'), '--db', w('server', 'none.db')],
    },
    {
      command: 'server-migrate',
      ok: () => ['server-migrate', '--db', w('server', 'cnabsec.db')],
      err: () => ['server-migrate', '--db', w('repo')],
    },
    {
      command: 'server-token create',
      ok: () => [
        'server-token',
        'create',
        '--scope',
        'write',
        '--repo',
        'example.com/org/*',
        '--expires',
        '90d',
        '--db',
        w('server', 'cnabsec.db'),
      ],
      then: (d) => (ctx.tokenId = d.id),
      err: () => ['server-token', 'create', '--scope', 'read', '--repo', '*', '--db', w('server', 'none.db')],
    },
    {
      command: 'server-token list',
      ok: () => ['server-token', 'list', '--db', w('server', 'cnabsec.db')],
      err: () => ['server-token', 'list', '--db', w('server', 'none.db')],
    },
    {
      command: 'server-token revoke',
      ok: () => ['server-token', 'revoke', ctx.tokenId, '--db', w('server', 'cnabsec.db')],
      err: () => ['server-token', 'revoke', '000000000000', '--db', w('server', 'cnabsec.db')],
    },
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
    // commands of issue 12
    {
      command: 'reset',
      prep: () => cliOk(['bundle', 'add', w('repo'), 'v3', '--thin', FIXTURE], { env: ctx.env }),
      ok: () => ['reset', w('repo')],
      err: () => ['reset', none()],
    },
    {
      command: 'policy show',
      ok: () => ['policy', 'show', w('repo')],
      err: () => ['policy', 'show', none()],
    },
    {
      command: 'policy set',
      ok: () => ['policy', 'set', w('repo'), '--expires-timestamp', '2d'],
      err: () => ['policy', 'set', none(), '--expires-timestamp', '2d'],
    },
    {
      command: 'key passwd',
      ok: () => ['key', 'passwd', ctx.extraKey],
      env: { CNABSEC_NEW_PASSPHRASE: 'another passphrase' },
      // the old passphrase (CNABSEC_PASSPHRASE) is no longer the key's
      err: () => ['key', 'passwd', ctx.extraKey],
    },
    {
      command: 'key remove',
      ok: () => ['key', 'remove', ctx.importedKey],
      // the targets key is listed in the root of a repository init recorded: refused
      err: () => ['key', 'remove', ctx.targetsKey],
    },
    {
      command: 'trust remove',
      ok: () => ['trust', 'remove', NAME],
      // no longer trusted
      err: () => ['trust', 'remove', NAME],
    },
    ...registryCases(ctx, w),
    { command: 'version', ok: () => ['version'], err: null, why: 'takes no argument or input' },
    { command: 'completion', noJson: true },
    {
      // a thin bundle in a real docker-registry (test/helpers/registry.js), copied to another repository
      command: 'copy',
      prep: async () => {
        ctx.registry = await startRegistry({ after: (fn) => ctx.cleanups.push(fn) });
        await pushRegistryBundle(ctx.registry, 'org/app', 'v1');
      },
      ok: () => [
        'copy',
        `${ctx.registry.host}/org/app:v1`,
        `${ctx.registry.host}/mirror/app:v1`,
        '--insecure-registry',
        ctx.registry.host,
        '--relocation-mapping',
        w('mapping.json'),
      ],
      // no such tag in the source repository
      err: () => [
        'copy',
        `${ctx.registry.host}/org/app:v2`,
        `${ctx.registry.host}/mirror/app:v2`,
        '--insecure-registry',
        ctx.registry.host,
      ],
    },
  ];
}
