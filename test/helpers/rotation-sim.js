// In-memory (directory-backed) simulator used by the rotation, delegation, recovery, advisory and expiry suites.
// Repository simulator for scenario tests (design.md §2): a LocalRepository on an in-memory
// store, in-memory signers, an "attacker overlay" of files served instead of the real ones,
// and two kinds of client over the same served files:
//   - "ours":   cnabsec's TrustClient (tuf-js Updater + our fetcher + fast-forward recovery);
//   - "tuf-js": the unmodified tuf-js Updater with a plain fetcher written here.
// Each client update is a new client instance over the same cache directory, like a new
// process run, so what persists between updates is only what the client wrote to disk.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { Blob } from 'node:buffer';
import { Updater, BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { generateKeyPair, KeyObjectSigner } from '../../dist/crypto/index.js';
import {
  LocalRepository,
  MemoryMetadataStore,
  FsMetadataStore,
  MemoryFetcher,
  TrustClient,
  publish,
} from '../../dist/tuf/index.js';

export const BASE = 'mem://repo';
export const NAME = 'example.com/org/app';
export const CLIENTS = ['ours', 'tuf-js'];

export function newSigner() {
  return new KeyObjectSigner(generateKeyPair('ed25519').privateKey);
}

export function target(tag, bytes = `bundle ${tag}`) {
  const data = Buffer.from(bytes);
  return {
    name: `${NAME}:${tag}`,
    info: { length: data.length, hashes: { sha256: sha256(data) } },
  };
}

export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

export class Sim {
  /** keys: number of keys per top-level role; thresholds likewise (default 1). */
  static async create({ keys = {}, thresholds = {}, now, dir } = {}) {
    const sim = new Sim(dir);
    const roles = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      const signers = Array.from({ length: keys[role] ?? 1 }, () => sim.addSigner(newSigner()));
      sim.keys[role] = signers;
      roles[role] = { keys: signers.map((s) => s.publicKey), threshold: thresholds[role] ?? 1 };
    }
    sim.repo = await LocalRepository.create(sim.store, { name: NAME, roles, ...(now ? { now } : {}) });
    return sim;
  }

  /** `dir`: keep the repository in a directory (FsMetadataStore), e.g. to serve it as file://. */
  constructor(dir) {
    this.store = dir === undefined ? new MemoryMetadataStore() : new FsMetadataStore(dir);
    this.signers = new Map();
    /** key ids whose signers are unavailable (offline, lost). */
    this.withheld = new Set();
    /** files served instead of the repository's (attacker, or hand-made metadata). */
    this.overlay = new Map();
    this.keys = {};
    this.provider = async (_role, keyid) => (this.withheld.has(keyid) ? undefined : this.signers.get(keyid));
  }

  addSigner(signer) {
    this.signers.set(signer.keyid, signer);
    return signer;
  }

  newKey() {
    return this.addSigner(newSigner());
  }

  publish(options = {}) {
    return publish(this.repo, { signers: this.provider, ...options });
  }

  /** Re-open from the store, as a new CLI process would. */
  async reopen() {
    this.repo = await LocalRepository.open(this.store);
    return this.repo;
  }

  read(rel) {
    if (this.overlay.has(rel)) return this.overlay.get(rel);
    if (this.store.files !== undefined) return this.store.files.get(`metadata/${rel}`);
    const file = path.join(this.store.location, 'metadata', rel);
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  rootBytes(version) {
    return this.read(`${version}.root.json`);
  }

  /** Serve `bytes` as `file` (e.g. "3.root.json") instead of the repository's. */
  serve(file, bytes) {
    this.overlay.set(file, bytes);
  }
}

class PlainFetcher extends BaseFetcher {
  constructor(read) {
    super();
    this.read = read;
  }

  async fetch(url) {
    // file names are the URL's last segment as requested (delegated roles stay %2F-encoded)
    const data = url.startsWith(BASE) ? this.read(url.slice(BASE.length + 1)) : undefined;
    if (data === undefined) throw new DownloadHTTPError(`${url} not found`, 404);
    return new Blob([Uint8Array.from(data)]).stream();
  }
}

/**
 * A client of `kind` pinned at root `pin` (bytes, or a version of the sim's published root).
 * `update()` runs the TUF client workflow once and returns the target info of `name`
 * (or undefined when no name is given).
 */
export async function makeClient(t, kind, sim, pin = 1) {
  const dir = await mkdtemp(path.join(tmpdir(), 'cnabsec-client-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = typeof pin === 'number' ? sim.rootBytes(pin) : pin;
  await writeFile(path.join(dir, 'root.json'), root);
  const read = (rel) => sim.read(rel);
  return {
    kind,
    dir,
    async update(name) {
      if (kind === 'ours') {
        const c = new TrustClient({
          name: NAME,
          metadataUrl: BASE,
          cacheDir: dir,
          fetcher: new MemoryFetcher(BASE, read),
        });
        if (name === undefined) return c.refresh();
        return c.getTarget(name);
      }
      const u = new Updater({ metadataDir: dir, metadataBaseUrl: BASE, fetcher: new PlainFetcher(read) });
      await u.refresh();
      return name === undefined ? undefined : u.getTargetInfo(name);
    },
  };
}

/**
 * What a failed update must look like, per client: our client's stable code, and a pattern
 * over the tuf-js error (its class name or message; tuf-js wraps some errors in RuntimeError).
 */
export const FAILURES = {
  unsigned: { code: 'TUF_UNSIGNED_METADATA', tufjs: /UnsignedMetadataError|signed by|signature/i },
  rollback: { code: 'TUF_ROLLBACK', tufjs: /BadVersionError|version/i },
  expired: { code: 'TUF_EXPIRED_METADATA', tufjs: /ExpiredMetadataError|expired/i },
};

/**
 * Metadata made by hand (an attacker's, or one the repository would refuse to publish): the
 * published `file` of the sim with `mutate(signed)` applied, signed by `signers` only.
 */
export async function forge(sim, file, mutate, signers) {
  const json = JSON.parse(Buffer.from(sim.read(file)).toString('utf8'));
  mutate(json.signed);
  const data = Buffer.from(canonicalize(json.signed));
  json.signatures = [];
  for (const s of signers)
    json.signatures.push({ keyid: s.keyid, sig: Buffer.from(await s.sign(data)).toString('hex') });
  return Buffer.from(JSON.stringify(json));
}

export function matchesFailure(kind, failure, e) {
  const f = FAILURES[failure];
  if (kind === 'ours') return e?.code === f.code;
  return f.tufjs.test(`${e?.constructor?.name} ${e?.message}`);
}
