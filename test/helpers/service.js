// A TrustService on a real SqliteTrustStore in a temp dir (test/server/service*.test.js,
// refresh*.test.js), with sealed online keys under a random master key, and local
// repositories (./sim.js) whose root lists the server's keys, uploaded as the CLI would.
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Metadata } from '@tufjs/models';
import { Updater } from 'tuf-js';
import '../../dist/tuf/models-patch.js';
import { LocalRepository, MemoryFetcher, MemoryMetadataStore, addTarget } from '../../dist/tuf/index.js';
import { MasterKey } from '../../dist/server/master-key.js';
import { memoryOnlineKeys } from '../../dist/server/online-keys.js';
import { SqliteOnlineKeys } from '../../dist/server/sqlite-online-keys.js';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { TrustService } from '../../dist/server/service.js';
import { NAME, Sim, newSigners } from './sim.js';
import { changedRoles, stateOf } from './upload.js';
import { tempDir } from './tmp.js';

/** A settable clock. */
export function clock(start = new Date(Math.floor(Date.now() / 1000) * 1000)) {
  let t = start.getTime();
  const now = () => new Date(t);
  now.advance = (seconds) => {
    t += seconds * 1000;
  };
  return now;
}

/** Everything one server process has: store, keys, service; closed by the test. */
export async function openServer(
  t,
  { dir, now = clock(), keys = 'memory', master, service = {}, events } = {},
) {
  const d = dir ?? (await tempDir(t, 'cnabsec-service-'));
  const file = path.join(d, 'trust.db');
  const store = await openSqliteStore({ path: file, now });
  t.after(() => store.close());
  const ring = { current: master ?? MasterKey.fromBytes(randomBytes(32)) };
  let online;
  if (keys === 'memory') online = memoryOnlineKeys({ master: ring, now });
  else if (keys === 'sqlite') {
    online = SqliteOnlineKeys.open({ path: file, master: ring, now });
    t.after(() => online.close());
  }
  const log = [];
  const record =
    (name) =>
    (...args) =>
      log.push([name, ...args]);
  const ev = events ?? {
    uploadAccepted: record('uploadAccepted'),
    uploadRefused: record('uploadRefused'),
    refreshed: record('refreshed'),
    signed: record('signed'),
    refreshFailed: (repo, e) => log.push(['refreshFailed', repo, e.code ?? e.message]),
  };
  const svc = new TrustService({ store, keys: online, now, events: ev, ...service });
  return { dir: d, file, store, keys: online, service: svc, now, log, master: ring.current };
}

/**
 * A local repository `name` whose root lists the server's keys for `online` roles (asked for
 * through GET …/<role>.key, i.e. `service.publicKey`), published locally. The local publish
 * signs those roles too (with the server's signers): what is uploaded leaves them out.
 */
export async function serverManagedRepo(
  t,
  server,
  { name = NAME, online = ['timestamp'], now, thresholds = {} } = {},
) {
  const roles = {};
  const signers = [];
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    if (online.includes(role)) {
      const k = await server.service.publicKey(name, role);
      signers.push(await server.keys.signer(name, role, k.keyid));
      roles[role] = { keys: [k.public], threshold: 1 };
    } else {
      const s = newSigners(1);
      signers.push(...s);
      roles[role] = { keys: s.map((x) => x.publicKey), threshold: thresholds[role] ?? 1 };
    }
  }
  const at = now ?? server.now();
  const repo = await LocalRepository.create(new MemoryMetadataStore(), {
    name,
    roles,
    now: at,
    serverManaged: true,
  });
  const sim = new Sim(t, repo, signers);
  sim.name = name;
  await sim.publish({ now: at });
  return sim;
}

/** The upload of everything `sim` published, without the roles the server signs. */
export function fullUpload(sim, serverRoles = ['timestamp']) {
  return changedRoles({}, stateOf(sim)).filter((p) => !serverRoles.includes(p.role));
}

/** Stage a bundle target in `sim`, publish it locally; the changed roles minus the server's. */
export async function addBundleUpload(sim, tag, serverRoles = ['timestamp'], now) {
  const before = stateOf(sim);
  const bytes = Buffer.from(`bundle ${tag}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  addTarget(sim.repo, `${sim.name ?? NAME}:${tag}`, { length: bytes.length, hashes: { sha256 } });
  await sim.publish({ now });
  return changedRoles(before, stateOf(sim)).filter((p) => !serverRoles.includes(p.role));
}

export const parseJson = (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8'));

/** TUF §5.4/§5.5 with @tufjs/models: `role`'s stored bytes verify under the stored current root. */
export async function verifyUnderRoot(store, repo, role) {
  const root = Metadata.fromJSON('root', parseJson((await store.getCurrent(repo, 'root')).bytes));
  const md = Metadata.fromJSON(role, parseJson((await store.getCurrent(repo, role)).bytes));
  root.verifyDelegate(role, md); // throws when the threshold is not met
  return md;
}

/** Every stored version of every role, as a consistent-snapshot metadata directory. */
export async function metadataFiles(store, repo) {
  const files = new Map();
  const state = await store.currentState(repo);
  for (const role of Object.keys(state)) {
    const cur = await store.getCurrent(repo, role);
    for (let v = 1; v <= cur.version; v++) {
      const m = await store.getVersion(repo, role, v);
      if (m !== undefined) files.set(`${v}.${encodeURIComponent(role)}.json`, m.bytes);
    }
    if (role === 'timestamp') files.set('timestamp.json', cur.bytes);
  }
  return files;
}

/** The unmodified tuf-js client's walk (TUF §5.3–§5.6) over the stored metadata; the target info. */
export async function tufjsWalk(t, store, repo, target) {
  const files = await metadataFiles(store, repo);
  const dir = await tempDir(t, 'cnabsec-tufjs-');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(dir, 'root.json'), files.get('1.root.json'));
  const host = 'https://server.example';
  const updater = new Updater({
    metadataDir: dir,
    metadataBaseUrl: `${host}/metadata`,
    targetBaseUrl: `${host}/targets`,
    targetDir: dir,
    fetcher: new MemoryFetcher(host, (rel) =>
      rel.startsWith('metadata/') ? files.get(rel.slice(9)) : undefined,
    ),
  });
  await updater.refresh();
  return updater.getTargetInfo(target);
}

/** Resolves `e` as ServerError `code`. */
export async function rejectsCode(promise, code) {
  let caught;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`expected ${code}, nothing was thrown`);
  if (caught.code !== code) throw new Error(`expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}
