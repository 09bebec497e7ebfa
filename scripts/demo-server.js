// The cnabsec demo against the embedded metadata repository server (`npm run demo`, issue 13
// item 7): `cnabsec server` on 127.0.0.1 (a temporary SQLite file, a generated master key) →
// the in-toto supply chain → a repository whose timestamp key the server holds → bundle add →
// publish (one upload; the server signs the timestamp) → a user trusts the server → verify →
// a tampered bundle refused → the server re-signs the timestamp by itself → SIGTERM.
// Everything happens in a temporary directory that is removed at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { CLI, NAME, demoContext, supplyChain, tamperedArchive } from './demo-kit.js';

const READY = /^cnabsec server: listening on (\S+) \(db (.+)\)$/m;
// So that the demo sees a refresh within seconds: a timestamp the server signs lives a day (the
// default) and is re-signed once less than 99.995 % of it is left, about 4 s after it was
// signed, instead of after half a day (the default fraction 0.5); checked every second
// (--refresh-interval 1s). A lifetime of seconds would do the same, but clients rightly warn
// about a timestamp that expires so soon.
const SERVER_SETTINGS = {
  CNABSEC_SERVER_TIMESTAMP_EXPIRY: '1d',
  CNABSEC_SERVER_REFRESH_FRACTION: '0.99995',
  CNABSEC_SERVER_LOG_LEVEL: 'warn',
};

const ctx = await demoContext('cnabsec-demo-server-');
const { work, env, say, run } = ctx;
const repo = path.join(work, 'repo');

/** `cnabsec server` as a child; resolves once it prints its ready line. */
function startServer(args) {
  const serverEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('CNABSEC_SERVER_')));
  Object.assign(serverEnv, SERVER_SETTINGS, {
    // The key that seals the server's online keys (in production: a 0600 file or a secret store).
    CNABSEC_SERVER_MASTER_KEY: randomBytes(32).toString('hex'),
  });
  process.stdout.write(`$ cnabsec server ${args.join(' ')} &\n`);
  const child = spawn(process.execPath, [CLI, 'server', ...args], {
    env: serverEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.stdout.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    let ready = false;
    child.stderr.on('data', (d) => {
      output += d;
      const m = READY.exec(output);
      if (m === null || ready) return;
      ready = true;
      console.log(`   ${m[0]}`);
      resolve({ child, url: m[1], exited, output: () => output });
    });
    exited.then((code) => {
      if (!ready) reject(new Error(`cnabsec server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/** The current timestamp the server serves for NAME: {version, expires}. */
async function servedTimestamp(url) {
  const r = await fetch(`${url}/v2/${NAME}/_trust/tuf/timestamp.json`);
  if (!r.ok) throw new Error(`GET timestamp.json: HTTP ${r.status}`);
  const { signed } = await r.json();
  return { version: signed.version, expires: signed.expires };
}

/** Wait (at most `seconds`) until the served timestamp's version is above `version`. */
async function nextTimestamp(url, version, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const ts = await servedTimestamp(url);
    if (ts.version > version) return ts;
    if (Date.now() > deadline)
      throw new Error(`the server did not re-sign timestamp v${version} in ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

let server;
try {
  say('1. The metadata repository server starts (embedded SQLite, a master key sealing its keys)');
  server = await startServer([
    '--listen',
    '127.0.0.1:0',
    '--db',
    path.join(work, 'server.db'),
    '--refresh-interval',
    '1s',
  ]);

  say('2. The supply chain: each step is recorded and signed by its functionary (in-toto)');
  const { ws, links, keys, layout, archive } = await supplyChain(ctx);

  say('3. Developers set up the repository on the server; the server holds its timestamp key');
  console.log(
    '   root 2-of-3 offline keys; targets signs the layout and its key; targets/releases signs bundles and links;',
  );
  console.log("   the timestamp key is the server's (fetched from it and listed in root)");
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
    layout,
    '--layout-key',
    path.join(keys, 'owner.pub'),
    '--server',
    server.url,
    '--server-managed',
    'timestamp',
  ]);

  say(
    '4. The new thick bundle is signed with its links and published: one upload, the server signs the timestamp',
  );
  await run(['bundle', 'add', repo, 'v1.0.0', '--thick', archive, '--links', links]);
  await run(['publish', repo]);

  say('5. A user pins the root once (out of band), trusts the server and verifies (doc 303)');
  await run([
    'trust',
    'add',
    NAME,
    '--root',
    path.join(repo, 'metadata', 'root.json'),
    '--server',
    server.url,
  ]);
  await run(['verify', `${NAME}:v1.0.0`, '--thick', archive]);

  say('6. An attacker swaps the archive in the registry: verification refuses it');
  const tampered = await tamperedArchive(ctx, ws);
  await run(['verify', `${NAME}:v1.0.0`, '--thick', tampered], { expectFail: true });

  say('7. The server refreshes the timestamp by itself (no cron job, no developer key)');
  const before = await servedTimestamp(server.url);
  console.log(`   served: timestamp v${before.version}, expires ${before.expires}`);
  const after = await nextTimestamp(server.url, before.version, 60);
  console.log(`   served: timestamp v${after.version}, expires ${after.expires}`);
  console.log(`   the server re-signed the timestamp: v${before.version} → v${after.version}`);
  await run(['lookup', `${NAME}:v1.0.0`]);

  say('8. The server stops gracefully (SIGTERM: finish what is in flight, close the database)');
  server.child.kill('SIGTERM');
  const code = await server.exited;
  console.log(`   cnabsec server exited ${code}`);
  if (code !== 0) throw new Error(`cnabsec server exited ${code}:\n${server.output()}`);
  server = undefined;

  say(
    'Done: published through the server, verified end to end, the tampered bundle refused, the timestamp kept fresh by the server.',
  );
} catch (e) {
  if (server !== undefined) process.stderr.write(`--- cnabsec server output ---\n${server.output()}\n`);
  throw e;
} finally {
  if (server !== undefined && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await rm(work, { recursive: true, force: true });
}
