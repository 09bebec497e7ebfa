// The cnabsec demo: sign → publish → verify a CNAB bundle on one machine, with the real CLI.
// Everything happens in a temporary directory that is removed at the end.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
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

function run(args, { expectFail = false } = {}) {
  process.stdout.write(`$ cnabsec ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => {
      if ((code === 0) !== expectFail) resolve(code);
      else reject(new Error(`cnabsec ${args.join(' ')} exited ${code}`));
    });
  });
}

function serve() {
  const child = spawn(process.execPath, [CLI, 'serve', repo], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

let server;
try {
  say('1. Developers set up a TUF repository for the bundle (CNAB-Sec doc 302, one-time setup)');
  console.log(
    '   root: 2-of-3 offline keys; targets, snapshot, timestamp: 1 key each; all encrypted at rest',
  );
  await run(['init', repo, '--name', NAME, '--root-keys', '3', '--root-threshold', '2']);

  say(
    '2. A new bundle version is signed: its target is <repository>:<tag> with the sha256 of the canonical bundle.json',
  );
  await run(['bundle', 'add', repo, 'v1.0.0', '--thin', BUNDLE]);
  await run(['publish', repo]);
  await run(['status', repo]);

  say('3. The metadata is published (a read-only HTTP server on 127.0.0.1)');
  server = await serve();
  console.log(`   serving ${server.url}`);

  say('4. A user pins the root of trust once (obtained out of band), then verifies the bundle (doc 303)');
  await run(['trust', 'add', NAME, '--root', path.join(repo, 'metadata', 'root.json'), '--url', server.url]);
  await run(['verify', `${NAME}:v1.0.0`, '--thin', BUNDLE]);

  say('5. An attacker alters the bundle in the registry: verification refuses it');
  const tampered = path.join(work, 'tampered-bundle.json');
  const text = await readFile(BUNDLE, 'utf8');
  await writeFile(tampered, text.replace('"daily"', '"never"'));
  await run(['verify', `${NAME}:v1.0.0`, '--thin', tampered], { expectFail: true });

  say('6. Timestamps are refreshed (a daily cron job); clients keep updating');
  await run(['refresh', repo, '--force']);
  await run(['lookup', `${NAME}:v1.0.0`]);

  say('Done: signed, published, verified; the tampered bundle was refused.');
} finally {
  server?.stop();
  await rm(work, { recursive: true, force: true });
}
