// `cnabsec server` as a child process (test/server/run*.test.js): started on 127.0.0.1 port 0,
// ready once its stderr says `cnabsec server: listening on <url>`, killed by the test's
// t.after if still running; uploads as Notary sends them (multipart, parts `files`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { LocalRepository, MemoryMetadataStore } from '../../dist/tuf/index.js';
import { CLI, childEnv } from './cli.js';
import { Sim, newSigners } from './sim.js';
import { changedRoles, stateOf } from './upload.js';

export const masterKeyHex = () => randomBytes(32).toString('hex');

const READY = /^cnabsec server: listening on (\S+) \(db (.+)\)$/m;

/**
 * Start `cnabsec server ...args` (with `--listen 127.0.0.1:0` unless args has --listen).
 * Resolves once ready: {child, url, stderr(), stdout(), exited: Promise<{code, signal}>}.
 * Rejects with the output if the process exits first.
 */
export function startServerProcess(t, args, { env = {} } = {}) {
  const listen = args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const child = spawn(process.execPath, [CLI, 'server', ...listen, ...args], {
    env: childEnv({ CNABSEC_SERVER_LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  let ready = false;
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = READY.exec(err);
      if (m === null || ready) return;
      ready = true;
      resolve({ child, url: m[1], db: m[2], stderr: () => err, stdout: () => out, exited });
    });
    exited.then(({ code, signal }) => {
      if (!ready) reject(new Error(`cnabsec server exited (${code ?? signal}) before ready:\n${err}${out}`));
    });
  });
}

/** A multipart upload body: `{body, type}` for parts `{role, bytes}` / `{path, bytes}`. */
export async function multipart(files) {
  const fd = new FormData();
  for (const f of files) {
    if ('role' in f) fd.append('files', new Blob([f.bytes]), f.role);
    else fd.append('target', new Blob([f.bytes]), f.path);
  }
  const r = new Response(fd);
  return { body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type') };
}

/** POST an upload to `url` for `repo`: {status, json}. */
export async function upload(url, repo, files) {
  const { body, type } = await multipart(files);
  const r = await fetch(`${url}/v2/${repo}/_trust/tuf/`, {
    method: 'POST',
    body,
    headers: { 'content-type': type },
  });
  return { status: r.status, json: await r.json() };
}

/** A developer-managed repository `name` (every key local), published once: a Sim. */
export async function developerRepo(t, name) {
  const roles = {};
  const signers = [];
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    const s = newSigners(1);
    signers.push(...s);
    roles[role] = { keys: s.map((x) => x.publicKey), threshold: 1 };
  }
  const repo = await LocalRepository.create(new MemoryMetadataStore(), { name, roles });
  const sim = new Sim(t, repo, signers);
  await sim.publish();
  return sim;
}

/** Every role `sim` published, as upload parts (a new repository's first upload). */
export const fullUpload = (sim) => changedRoles({}, stateOf(sim));
