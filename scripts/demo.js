// The cnabsec demo: record → sign → publish → verify a thick CNAB bundle with in-toto
// provenance on one machine, with the real CLI (no peer programs needed).
// Everything happens in a temporary directory that is removed at the end.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServe } from '../test/helpers/serve.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'bin', 'cnabsec.cjs');
const BUNDLE = path.join(ROOT, 'examples', 'bundle.json');
const NAME = 'example.com/example-org/example-bundle';

const work = await mkdtemp(path.join(tmpdir(), 'cnabsec-demo-'));
const env = {
  ...process.env,
  CNABSEC_HOME: path.join(work, 'home'),
  // Passphrases for the encrypted keys come from CNABSEC_PASSPHRASE_<ROLE> or CNABSEC_PASSPHRASE.
  CNABSEC_PASSPHRASE: 'demo passphrase (use a real one!)',
  CI: 'true',
};
const repo = path.join(work, 'repo');
const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

function run(args, { expectFail = false, cwd } = {}) {
  process.stdout.write(`$ cnabsec ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => {
      if ((code === 0) !== expectFail) resolve(code);
      else reject(new Error(`cnabsec ${args.join(' ')} exited ${code}`));
    });
  });
}

/** Run a cnabsec command in `cwd` (quiet: output shown only on failure). */
function quiet(args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`cnabsec ${args.join(' ')}: ${out}`)),
    );
  });
}

let server;
try {
  const keys = path.join(work, 'keys');
  const ws = path.join(work, 'build');
  const links = path.join(work, 'links');
  for (const d of [keys, ws, links]) await mkdir(d);

  say('1. The supply chain: each step is recorded and signed by its functionary (in-toto)');
  for (const k of ['owner', 'dev', 'builder', 'packager'])
    await quiet(['intoto', 'keygen', path.join(keys, k)], work);
  await copyFile(BUNDLE, path.join(ws, 'manifest.json'));
  await writeFile(path.join(ws, 'image.tar'), 'an invocation image (stand-in)');
  const step = (name, key, m, p, cmd) =>
    run(
      [
        'intoto',
        'run',
        '--step',
        name,
        '--key',
        path.join(keys, key),
        '-d',
        links,
        ...(m.length ? ['--materials', ...m] : []),
        '--products',
        ...p,
        '--',
        ...cmd,
      ],
      { cwd: ws },
    );
  await step('source', 'dev', [], ['manifest.json', 'image.tar'], ['true']);
  await step(
    'build',
    'builder',
    ['manifest.json', 'image.tar'],
    ['bundle.json', 'manifest.json', 'image.tar'],
    ['cp', 'manifest.json', 'bundle.json'],
  );
  await step(
    'package',
    'packager',
    ['bundle.json', 'image.tar'],
    ['bundle.tgz', 'bundle.json', 'image.tar'],
    ['tar', 'czf', 'bundle.tgz', 'bundle.json', 'image.tar'],
  );
  console.log(
    "   the layout (cnabsec's CNAB template: source → build → package, then an unpack inspection), signed by its owner:",
  );
  await run([
    'intoto',
    'layout',
    'new',
    '--template',
    'cnab',
    '-f',
    `source=${path.join(keys, 'dev.pub')}`,
    '-f',
    `build=${path.join(keys, 'builder.pub')}`,
    '-f',
    `package=${path.join(keys, 'packager.pub')}`,
    '-s',
    path.join(keys, 'owner'),
    '-o',
    path.join(work, 'root.layout'),
  ]);

  say('2. Developers set up the TUF repository with provenance (CNAB-Sec doc 302 setup)');
  console.log(
    '   root 2-of-3 offline keys; targets signs the layout and its key; targets/releases signs bundles and links',
  );
  await run([
    'init',
    repo,
    '--name',
    NAME,
    '--root-keys',
    '3',
    '--root-threshold',
    '2',
    '--in-toto',
    '--layout',
    path.join(work, 'root.layout'),
    '--layout-key',
    path.join(keys, 'owner.pub'),
  ]);

  say('3. The new thick bundle is signed with its links and published');
  const archive = path.join(ws, 'bundle.tgz');
  await run(['bundle', 'add', repo, 'v1.0.0', '--thick', archive, '--links', links]);
  await run(['publish', repo]);

  say('4. The metadata is served (a read-only HTTP server on 127.0.0.1)');
  server = await startServe(repo, env);
  console.log(`   serving ${server.url}`);

  say('5. A user pins the root once (out of band) and verifies: TUF, hashes, then in-toto (doc 303)');
  await run(['trust', 'add', NAME, '--root', path.join(repo, 'metadata', 'root.json'), '--url', server.url]);
  await run(['verify', `${NAME}:v1.0.0`, '--thick', archive]);

  say('6. An attacker swaps the archive in the registry: verification refuses it');
  const tampered = path.join(work, 'tampered.tgz');
  await writeFile(path.join(ws, 'image.tar'), 'a malicious invocation image');
  await new Promise((resolve, reject) =>
    spawn('tar', ['czf', tampered, 'bundle.json', 'image.tar'], { cwd: ws }).on('exit', (c) =>
      c === 0 ? resolve() : reject(new Error('tar')),
    ),
  );
  await run(['verify', `${NAME}:v1.0.0`, '--thick', tampered], { expectFail: true });

  say('7. Timestamps are refreshed (a daily cron job); clients keep updating');
  await run(['refresh', repo, '--force']);
  await run(['lookup', `${NAME}:v1.0.0`]);

  say('Done: recorded, signed, published, verified end to end; the tampered bundle was refused.');
} finally {
  await server?.close();
  await rm(work, { recursive: true, force: true });
}
