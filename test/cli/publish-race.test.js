// Two (three) real cnabsec processes racing on one repository: `bundle add` + `publish`
// (and `refresh --force`) at once, many rounds. Every command either succeeds, and then its
// target is in the repository afterwards, or fails with REPOSITORY_LOCKED: never a silent lost
// update. No versioned metadata file is ever written twice (two publishes signing two
// different N.snapshot.json would strand a client that updated in between), and clients
// (ours, through file:// URLs) update after every round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, childEnv, cliOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { FileFetcher, TrustClient } from '../../dist/tuf/index.js';

const NAME = 'example.com/org/race';
const FIXTURE = new URL('../fixtures/bundle.json', import.meta.url).pathname;
const HOOK = new URL('../helpers/kill-at-rename.js', import.meta.url).pathname;

function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', HOOK, CLI, ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ args, status, signal, stdout, stderr });
    });
  });
}

/** Exit 0, or exit 1 with REPOSITORY_LOCKED (naming pid and lock path): anything else fails. */
function succeededOrLocked(r) {
  if (r.status === 0) return true;
  assert.equal(r.status, 1, `${r.args.join(' ')}: ${r.signal ?? ''}\n${r.stdout}${r.stderr}`);
  const error = JSON.parse(r.stdout).error;
  assert.equal(error.code, 'REPOSITORY_LOCKED', `${r.args.join(' ')}: ${r.stdout}`);
  assert.match(error.message, /locked by (pid \d+ on .*|an unreadable lock file).*\(lock .*\.cnabsec\.lock/);
  assert.match(error.hint, /retry|remove/);
  return false;
}

async function clientSees(t, dir, tags) {
  const cache = await tempDir(t);
  await writeFile(path.join(cache, 'root.json'), await readFile(path.join(dir, 'metadata', '1.root.json')));
  const client = new TrustClient({
    name: NAME,
    metadataUrl: pathToFileURL(path.join(dir, 'metadata')).href,
    cacheDir: cache,
    fetcher: new FileFetcher(),
  });
  for (const tag of tags) assert.ok(await client.getTarget(`${NAME}:${tag}`), `client finds ${tag}`);
}

test('concurrent bundle add + publish + refresh: every success is kept, the rest are REPOSITORY_LOCKED', async (t) => {
  const work = await tempDir(t);
  const dir = path.join(work, 'repo');
  const log = path.join(work, 'renames.log');
  const base = { CNABSEC_HOME: path.join(work, 'home'), CNABSEC_PASSPHRASE: 'race pass', CI: 'true' };
  cliOk(['init', dir, '--name', NAME], { env: base });
  cliOk(['bundle', 'add', dir, 'v0', '--thin', FIXTURE], { env: base });
  cliOk(['publish', dir], { env: base });
  const added = ['v0'];
  const cached = await tempDir(t); // a client that updates after every round
  await writeFile(path.join(cached, 'root.json'), await readFile(path.join(dir, 'metadata', '1.root.json')));
  let locked = 0;
  for (let round = 0; round < 6; round++) {
    // half the rounds fail fast on a held lock, half wait for it
    const env = { ...base, RENAME_LOG: log, CNABSEC_LOCK_WAIT: round % 2 === 0 ? '0' : '30' };
    const tags = [`a${round}`, `b${round}`];
    const adds = await Promise.all(
      tags.map((tag) => run(['bundle', 'add', dir, tag, '--thin', FIXTURE, '--json'], env)),
    );
    adds.forEach((r, i) => (succeededOrLocked(r) ? added.push(tags[i]) : locked++));
    const pubs = await Promise.all([
      run(['publish', dir, '--json'], env),
      run(['publish', dir, '--json'], env),
      run(['refresh', dir, '--force', '--json'], env),
    ]);
    for (const r of pubs) if (!succeededOrLocked(r)) locked++;
    const listed = JSON.parse(cliOk(['bundle', 'list', dir, '--json'], { env: base })).targets.map(
      (x) => x.name,
    );
    for (const tag of added) assert.ok(listed.includes(`${NAME}:${tag}`), `round ${round}: ${tag} kept`);
    const client = new TrustClient({
      name: NAME,
      metadataUrl: pathToFileURL(path.join(dir, 'metadata')).href,
      cacheDir: cached,
      fetcher: new FileFetcher(),
    });
    assert.ok(await client.getTarget(`${NAME}:v0`), `round ${round}: the updating client still updates`);
  }
  cliOk(['publish', dir], { env: base }); // whatever a locked publish left staged
  await clientSees(t, dir, added);
  // Each versioned metadata file was renamed into place once only.
  const targets = (await readFile(log, 'utf8'))
    .split('\n')
    .map((l) => l.slice(l.indexOf(' ') + 1))
    .filter((f) => /[/\\]metadata[/\\]\d+\.[^/\\]+\.json$/.test(f));
  const twice = targets.filter((f, i) => targets.indexOf(f) !== i);
  assert.deepEqual(twice, [], 'no versioned metadata file written twice');
  t.diagnostic(`${added.length} targets added, ${locked} commands refused with REPOSITORY_LOCKED`);
});
