// In-memory repository simulator for table-driven TUF scenarios: a LocalRepository on a
// MemoryMetadataStore, served to clients (ours, and the unmodified tuf-js Updaters) by a
// MemoryFetcher, with in-memory signers. Attack helpers edit the served files directly.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Updater as Updater5 } from 'tuf-js';
import { Updater as Updater6, BaseFetcher as BaseFetcher6 } from 'tuf-js-6';
import { DownloadHTTPError as DownloadHTTPError6 } from 'tuf-js-6/dist/error.js';
import { KeyObjectSigner, generateKeyPair } from '../../dist/crypto/index.js';
import {
  LocalRepository,
  MemoryMetadataStore,
  MemoryFetcher,
  TrustClient,
  publish,
  refresh,
  addTarget,
  addDelegation,
} from '../../dist/tuf/index.js';

export const HOST = 'https://tuf.example';
export const BASE = `${HOST}/metadata`;
export const TARGETS = `${HOST}/targets`;
export const NAME = 'example.com/org/bundle';

export function newSigners(n, type = 'ed25519') {
  return Array.from({ length: n }, () => new KeyObjectSigner(generateKeyPair(type).privateKey));
}

export class Sim {
  constructor(t, repo, signers) {
    this.t = t;
    this.repo = repo;
    this.signers = new Map(signers.map((s) => [s.keyid, s]));
    this.store = repo.store;
    /** Target files served under targets/ (consistent-snapshot names). */
    this.targets = new Map();
  }

  /** A repository with given key counts/thresholds, published once. */
  static async create(t, { keys = {}, thresholds = {}, now, expiry } = {}) {
    const roles = {};
    const all = [];
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      const s = newSigners(keys[role] ?? 1);
      all.push(...s);
      roles[role] = { keys: s.map((x) => x.publicKey), threshold: thresholds[role] ?? 1 };
    }
    const repo = await LocalRepository.create(new MemoryMetadataStore(), { name: NAME, roles, now, expiry });
    const sim = new Sim(t, repo, all);
    await sim.publish({ now });
    return sim;
  }

  addSigners(signers) {
    for (const s of signers) this.signers.set(s.keyid, s);
  }

  provider(only) {
    return async (_role, keyid) =>
      only === undefined || only.has(keyid) ? this.signers.get(keyid) : undefined;
  }

  publish({ now, only } = {}) {
    return publish(this.repo, { signers: this.provider(only), now });
  }

  refresh(opts = {}) {
    return refresh(this.repo, { signers: this.provider(), force: true, ...opts });
  }

  /** Stage a target `name` with `content`, and serve it as a consistent-snapshot target file. */
  addFile(name, content, role) {
    const bytes = Buffer.from(content);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const dir = path.posix.dirname(name);
    this.targets.set(`${dir === '.' ? '' : `${dir}/`}${sha256}.${path.posix.basename(name)}`, bytes);
    addTarget(this.repo, name, { length: bytes.length, hashes: { sha256 } }, role);
    return name;
  }

  addBundle(tag, content = `bundle ${tag}`, role) {
    const bytes = Buffer.from(content);
    const name = `${NAME}:${tag}`;
    addTarget(
      this.repo,
      name,
      { length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } },
      role,
    );
    return name;
  }

  addDelegation(parent, spec) {
    addDelegation(this.repo, parent, spec);
  }

  /** Delegate to `targets/releases` (doc 301 paths by default) with `n` new signers; returns them. */
  delegateReleases(n = 1, paths = [`${NAME}:*`, `${NAME}/in-toto-metadata/*/*.link`]) {
    const signers = newSigners(n);
    this.addSigners(signers);
    this.addDelegation('targets', {
      name: 'targets/releases',
      keys: signers.map((x) => x.publicKey),
      threshold: 1,
      paths,
    });
    return signers;
  }

  /** Served metadata file (under metadata/). */
  file(name) {
    return this.store.files.get(`metadata/${name}`);
  }

  setFile(name, bytes) {
    this.store.files.set(`metadata/${name}`, Buffer.from(bytes));
  }

  editJson(name, fn) {
    const json = JSON.parse(Buffer.from(this.file(name)).toString('utf8'));
    fn(json);
    this.setFile(name, JSON.stringify(json));
  }

  /** Serves metadata/ from the store and targets/ from `this.targets` (path → bytes). */
  fetcher() {
    return new MemoryFetcher(HOST, (rel) =>
      rel.startsWith('metadata/')
        ? this.file(rel.slice(9))
        : (this.targets.get(rel.slice(8)) ?? this.file(rel)),
    );
  }

  async cacheDir(rootVersion = 1) {
    const dir = await mkdtemp(path.join(tmpdir(), 'cnabsec-client-'));
    this.t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'root.json'), this.file(`${rootVersion}.root.json`));
    return dir;
  }

  /** Our client, pinned at root v`rootVersion`. */
  async client(rootVersion = 1, cacheDir) {
    return new TrustClient({
      name: NAME,
      metadataUrl: BASE,
      targetBaseUrl: TARGETS,
      cacheDir: cacheDir ?? (await this.cacheDir(rootVersion)),
      fetcher: this.fetcher(),
    });
  }

  /** The same, for tuf-js 6, which recognises a 404 only through its own error class. */
  fetcher6() {
    const read = (rel) =>
      rel.startsWith('metadata/')
        ? this.file(rel.slice(9))
        : (this.targets.get(rel.slice(8)) ?? this.file(rel));
    return new (class extends BaseFetcher6 {
      async fetch(url) {
        const data = url.startsWith(HOST) ? read(url.slice(HOST.length + 1)) : undefined;
        if (data === undefined) throw new DownloadHTTPError6(`${url} not found`, 404);
        return new Blob([Uint8Array.from(data)]).stream();
      }
    })();
  }

  /** The unmodified tuf-js Updater (v5 or v6), pinned at root v`rootVersion`. */
  async tufjs(major = 5, rootVersion = 1, cacheDir) {
    const Updater = major === 6 ? Updater6 : Updater5;
    const dir = cacheDir ?? (await this.cacheDir(rootVersion));
    return new Updater({
      metadataDir: dir,
      metadataBaseUrl: BASE,
      targetBaseUrl: TARGETS,
      targetDir: dir,
      fetcher: major === 6 ? this.fetcher6() : this.fetcher(),
    });
  }

  /** Persistent clients (same cache across calls), for rollback scenarios. */
  async clients() {
    return {
      ours: await this.client(),
      tufjs5: await this.tufjs(5),
      tufjs6: await this.tufjs(6),
    };
  }
}
