// The crash-safety harness of the metadata repository server (issue 15 item 4): client
// repositories whose root lists the server's timestamp (and snapshot) keys publish a stream of
// uploads to a `cnabsec server` child process while the test kills it with SIGKILL at seeded
// random moments (idle, while a request body is streaming, right after a 200 was sent, any
// time), restarts it on the same database and checks every repository with the unmodified
// tuf-js Updater from the pinned root. Backend-agnostic: `db()` gives the `--db` argument (a
// SQLite path or a postgres:// URL). Uploads are built by hand from the server's current
// state (targets +1, and the client's own snapshot +1 when the server holds only the
// timestamp key), so every accepted upload is one exact byte string the checks can look for.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { Updater } from 'tuf-js';
import { LocalRepository, MemoryMetadataStore } from '../../dist/tuf/index.js';
import { signForUpload } from '../../dist/tuf/publish.js';
import { multipart, startServerProcess } from './server-process.js';
import { newSigners } from './sim.js';

/** mulberry32: a seeded PRNG in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
export const trustUrl = (url, repo) => `${url}/v2/${repo}/_trust/tuf`;

/** GET a metadata file: its bytes, or undefined on 404 (anything else throws). */
export async function getMeta(url, repo, file) {
  const r = await fetch(`${trustUrl(url, repo)}/${file}`);
  if (r.status === 404) return undefined;
  assert.equal(r.status, 200, `GET ${repo} ${file}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

/** A restartable `cnabsec server` on one database; `url` changes with every start. */
export class CrashServer {
  constructor(t, dbArg, env) {
    this.t = t;
    this.dbArg = dbArg;
    this.env = env;
    this.proc = undefined;
    this.starts = 0;
  }

  get url() {
    return this.proc.url;
  }

  async start() {
    this.proc = await startServerProcess(this.t, ['--db', this.dbArg], { env: this.env });
    this.starts++;
    return this;
  }

  /** SIGKILL now (synchronously sends the signal); resolves once the process is gone. */
  kill() {
    const p = this.proc;
    p.child.kill('SIGKILL');
    return p.exited.then((e) => assert.equal(e.signal, 'SIGKILL', p.stderr()));
  }
}

/**
 * A client repository `name` on the server at `url`: its own root/targets (and snapshot unless
 * `managed` has it) keys, the server's keys for `managed` (GET …/<role>.key), root v1 signed.
 * `first` is its first upload (root, targets v1, snapshot v1 when the client signs it).
 */
export async function clientRepo(url, name, managed) {
  const roles = {};
  const signers = new Map();
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    if (managed.includes(role)) {
      const r = await fetch(`${trustUrl(url, name)}/${role}.key`);
      assert.equal(r.status, 200, `GET ${name} ${role}.key`);
      roles[role] = { keys: [await r.json()], threshold: 1 };
    } else {
      const [s] = newSigners(1);
      signers.set(role, s);
      roles[role] = { keys: [s.publicKey], threshold: 1 };
    }
  }
  const repo = await LocalRepository.create(new MemoryMetadataStore(), { name, roles, serverManaged: true });
  const byId = new Map([...signers.values()].map((s) => [s.keyid, s]));
  const plan = await signForUpload(repo, { signers: async (_r, k) => byId.get(k) }, new Set(managed));
  const first = plan.pending.map((p) => ({ role: p.role, bytes: Buffer.from(p.bytes) }));
  return { name, managed, signers, rootBytes: first.find((f) => f.role === 'root').bytes, first };
}

async function signJson(signed, signer) {
  const sig = Buffer.from(await signer.sign(Buffer.from(canonicalize(signed)))).toString('hex');
  return Buffer.from(JSON.stringify({ signatures: [{ keyid: signer.keyid, sig }], signed }));
}

/**
 * The next upload of `client` adding target `target` on the server's current state: targets
 * +1 (and the client's snapshot +1); the first upload when the server has nothing yet.
 */
export async function nextUpload(url, client, target) {
  const own = !client.managed.includes('snapshot');
  // the client's snapshot, then the targets it lists: one consistent state (two plain GETs
  // could straddle another client's commit and build a stale upload)
  const snapCur = own ? await getMeta(url, client.name, 'snapshot.json') : undefined;
  const listedVersion = snapCur && JSON.parse(snapCur.toString('utf8')).signed.meta['targets.json'].version;
  const cur = await getMeta(
    url,
    client.name,
    own && snapCur ? `${listedVersion}.targets.json` : 'targets.json',
  );
  const base = cur === undefined ? client.first.find((f) => f.role === 'targets').bytes : cur;
  const signed = JSON.parse(base.toString('utf8')).signed;
  const content = Buffer.from(`bundle ${target}`);
  signed.version = cur === undefined ? 1 : signed.version + 1;
  signed.targets[target] = { length: content.length, hashes: { sha256: sha256(content) } };
  const targets = await signJson(signed, client.signers.get('targets'));
  const files = [{ role: 'targets', bytes: targets }];
  if (cur === undefined) files.unshift(client.first.find((f) => f.role === 'root'));
  if (own) {
    const snapBase = snapCur ?? client.first.find((f) => f.role === 'snapshot').bytes;
    const snap = JSON.parse(snapBase.toString('utf8')).signed;
    snap.version = snapCur === undefined ? 1 : snap.version + 1;
    snap.meta['targets.json'] = { version: signed.version, length: targets.length };
    files.push({ role: 'snapshot', bytes: await signJson(snap, client.signers.get('snapshot')) });
  }
  return { repo: client.name, target, version: signed.version, files };
}

/**
 * POST `files` to `url` for `repo` over one connection; the body is sent in two halves, with
 * `onMidBody()` (and a `pauseMs` pause) between them when `pauseMs` > 0, `onSent()` once all
 * of it is written (the server validates and commits it now). {status, json} or
 * {status: 0, error} when the connection broke (no response seen).
 */
export async function postUpload(url, repo, files, { pauseMs = 0, onMidBody, onSent } = {}) {
  const { body, type } = await multipart(files);
  const half = Math.floor(body.length / 2);
  return new Promise((resolve) => {
    const req = http.request(`${trustUrl(url, repo)}/`, {
      method: 'POST',
      headers: { 'content-type': type, 'content-length': body.length },
      agent: false,
    });
    req.on('error', (error) => resolve({ status: 0, error }));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      // a status line read is an answer (the server sends 200 only after its commit), even
      // when the kill cut the body after it
      res.on('close', () => resolve({ status: res.statusCode, json: undefined }));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, json });
      });
    });
    if (pauseMs <= 0) {
      req.end(body, () => onSent?.());
      return;
    }
    req.write(body.subarray(0, half));
    onMidBody?.();
    setTimeout(() => req.end(body.subarray(half), () => onSent?.()), pauseMs);
  });
}

/** A fresh metadata dir pinned at `rootBytes`, and the unmodified tuf-js Updater over HTTP. */
export async function tufjsAt(dir, url, repo, rootBytes) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'root.json'), rootBytes);
  const base = trustUrl(url, repo);
  return new Updater({
    metadataDir: dir,
    metadataBaseUrl: base,
    targetBaseUrl: `${base}/targets`,
    targetDir: dir,
  });
}

/** Opened and closed by the killer: clients wait at it; `settled()` once none is mid-request. */
export class Gate {
  constructor() {
    this.isOpen = true;
    this.waiters = [];
    this.busy = 0;
    this.idle = [];
  }
  open() {
    this.isOpen = true;
    for (const w of this.waiters.splice(0)) w();
  }
  close() {
    this.isOpen = false;
  }
  wait() {
    return this.isOpen ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
  enter() {
    this.busy++;
  }
  leave() {
    this.busy--;
    if (this.busy === 0) for (const w of this.idle.splice(0)) w();
  }
  settled() {
    return this.busy === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }
}

const STALE = new Set(['VERSION_CONFLICT', 'OLD_VERSION']);

/** What every client sent and saw, per repository. */
export class Ledger {
  constructor() {
    this.byRepo = new Map();
    this.counts = { accepted: 0, cut: 0, conflict: 0, refused: 0, cutPresent: 0 };
    this.refusedCodes = new Map();
  }
  of(repo) {
    let r = this.byRepo.get(repo);
    if (r === undefined) {
      r = { acked: [], cut: [], refused: [], sent: new Map(), lastVersion: 0 };
      this.byRepo.set(repo, r);
    }
    return r;
  }
  sent(up) {
    for (const f of up.files) this.of(up.repo).sent.set(sha256(f.bytes), { up, role: f.role });
  }
  record(up, res) {
    const r = this.of(up.repo);
    if (res.status === 200) {
      this.counts.accepted++;
      r.acked.push(up);
    } else if (res.status === 0) {
      this.counts.cut++;
      r.cut.push(up);
    } else {
      const code = res.json?.errors?.[0]?.detail?.code ?? res.json?.errors?.[0]?.code ?? res.status;
      this.refusedCodes.set(code, (this.refusedCodes.get(code) ?? 0) + 1);
      // a stale upload: lost the commit race (409), or validated after the winner's commit
      if (STALE.has(code) || res.status === 409) this.counts.conflict++;
      else this.counts.refused++;
      r.refused.push(up);
    }
  }
}

const fileOf = (up, role) => up.files.find((f) => f.role === role);
const listed = (targetsBytes, target) =>
  targetsBytes !== undefined &&
  JSON.parse(targetsBytes.toString('utf8')).signed.targets[target] !== undefined;

/**
 * One repository after a restart (clients paused): see the module comment. `dir` is scratch
 * space for the tuf-js client. Cut uploads are resolved here (entirely present: from now on
 * they must stay; entirely absent: never seen again).
 */
export async function checkRepository(url, client, ledger, dir, where) {
  const r = ledger.of(client.name);
  const current = await getMeta(url, client.name, 'targets.json');
  if (current === undefined) {
    assert.equal(r.acked.length, 0, `${where}: ${client.name} lost its accepted first upload`);
    r.cut = [];
    return;
  }
  // the current roles are exact bytes a client sent as one upload
  const origin = r.sent.get(sha256(current));
  assert.ok(origin?.role === 'targets', `${where}: ${client.name} targets.json is no upload's targets`);
  const version = JSON.parse(current.toString('utf8')).signed.version;
  assert.ok(version >= r.lastVersion, `${where}: ${client.name} targets v${version} < v${r.lastVersion}`);
  r.lastVersion = version;
  if (!client.managed.includes('snapshot')) {
    const snap = await getMeta(url, client.name, 'snapshot.json');
    assert.ok(
      r.sent.get(sha256(snap))?.role === 'snapshot',
      `${where}: ${client.name} snapshot.json not sent`,
    );
  }
  // the unmodified tuf-js client walks it from the pinned root (TUF §5.3–§5.6)
  const updater = await tufjsAt(dir, url, client.name, client.rootBytes);
  await updater.refresh().catch((e) => assert.fail(`${where}: tuf-js on ${client.name}: ${e.message}`));
  for (const cut of r.cut.splice(0)) {
    const stored = await getMeta(url, client.name, `${cut.version}.targets.json`);
    const ours = stored !== undefined && stored.equals(fileOf(cut, 'targets').bytes);
    assert.equal(listed(current, cut.target), ours, `${where}: ${cut.target} half present`);
    if (!ours) continue;
    const snap = fileOf(cut, 'snapshot');
    if (snap !== undefined) {
      const v = JSON.parse(snap.bytes.toString('utf8')).signed.version;
      const got = await getMeta(url, client.name, `${v}.snapshot.json`);
      assert.ok(got?.equals(snap.bytes), `${where}: ${cut.target} stored without its snapshot`);
    }
    ledger.counts.cutPresent++;
    r.acked.push(cut);
  }
  for (const up of r.acked) {
    const info = await updater.getTargetInfo(up.target);
    assert.ok(info !== undefined, `${where}: accepted ${up.target} (targets v${up.version}) lost`);
  }
  for (const up of r.refused)
    assert.equal(listed(current, up.target), false, `${where}: refused ${up.target} stored`);
}
