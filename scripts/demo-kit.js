// What both demos share (scripts/demo.js: the local flow; scripts/demo-server.js: the flow
// against the embedded metadata repository server): a temporary working directory and
// $CNABSEC_HOME, the CLI run visibly or quietly, and the in-toto supply chain of the example
// bundle (keys, three signed steps, the layout) and its tampered twin.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'bin', 'cnabsec.cjs');
const BUNDLE = path.join(ROOT, 'examples', 'bundle.json');
export const NAME = 'example.com/example-org/example-bundle';

/** A demo's temporary directory and environment, and its ways to run the CLI. */
export async function demoContext(prefix) {
  const work = await mkdtemp(path.join(tmpdir(), prefix));
  const env = {
    ...process.env,
    CNABSEC_HOME: path.join(work, 'home'),
    // Passphrases for the encrypted keys come from CNABSEC_PASSPHRASE_<ROLE> or CNABSEC_PASSPHRASE.
    CNABSEC_PASSPHRASE: 'demo passphrase (use a real one!)',
    CI: 'true',
  };
  const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

  /** Run a cnabsec command, echoed, its output shown; rejects unless it exits as expected. */
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

  return { work, env, say, run, quiet };
}

/**
 * The supply chain (doc 301): each step recorded and signed by its functionary with
 * `cnabsec intoto run`, then the `cnab` layout signed by its owner. Returns the paths
 * `{keys, ws, links, layout, archive}`.
 */
export async function supplyChain({ work, run, quiet }) {
  const keys = path.join(work, 'keys');
  const ws = path.join(work, 'build');
  const links = path.join(work, 'links');
  for (const d of [keys, ws, links]) await mkdir(d);
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
  const layout = path.join(work, 'root.layout');
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
    layout,
  ]);
  return { keys, ws, links, layout, archive: path.join(ws, 'bundle.tgz') };
}

/** The archive an attacker swapped in: the same bundle.json, another invocation image. */
export async function tamperedArchive({ work }, ws) {
  const tampered = path.join(work, 'tampered.tgz');
  await writeFile(path.join(ws, 'image.tar'), 'a malicious invocation image');
  await new Promise((resolve, reject) =>
    spawn('tar', ['czf', tampered, 'bundle.json', 'image.tar'], { cwd: ws }).on('exit', (c) =>
      c === 0 ? resolve() : reject(new Error('tar')),
    ),
  );
  return tampered;
}
