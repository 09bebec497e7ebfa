// An in-memory MetadataService (src/server/service-types.ts) for the HTTP app's tests
// (test/server/app*.test.js): stored rows in maps, sha256 computed here, uploads checked by the
// REAL validateUpload (so refusals are the real ones), keys generated with dist/crypto. It signs
// nothing: uploads carry every role (no serverKeyids). `calls` records each method call, and
// `failWith(method, error)` makes the next call of `method` throw, for the error paths.
import { createHash } from 'node:crypto';
import { generateKeyPair, keyIdOf, toPublicKeyJson } from '../../dist/crypto/index.js';
import { ServerError, uploadRefused } from '../../dist/server/errors.js';
import { DEFAULT_UPLOAD_LIMITS } from '../../dist/server/upload-parse.js';
import { validateUpload } from '../../dist/server/validate.js';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function newKey() {
  const pub = toPublicKeyJson(generateKeyPair('ed25519').publicKey);
  return { keyid: keyIdOf(pub), public: pub };
}

export class ServiceDouble {
  constructor({ events = {}, limits = DEFAULT_UPLOAD_LIMITS, now = () => new Date() } = {}) {
    this.events = events;
    this.limits = limits;
    this.now = now;
    /** repo → { meta: Map<role, StoredMeta[]>, files: StoredTargetFile[], keys: Map<role, key[]> } */
    this.repos = new Map();
    this.calls = [];
    this.failures = new Map();
  }

  failWith(method, error) {
    this.failures.set(method, error);
  }

  #enter(method, ...args) {
    this.calls.push([method, ...args]);
    const e = this.failures.get(method);
    if (e !== undefined) {
      this.failures.delete(method);
      throw e;
    }
  }

  #repo(repo, create = false) {
    let r = this.repos.get(repo);
    if (r === undefined && create) {
      r = { meta: new Map(), files: [], keys: new Map() };
      this.repos.set(repo, r);
    }
    return r;
  }

  /** Store a row directly (fixtures the upload path cannot make, e.g. a second version). */
  seed(repo, role, version, bytes) {
    const rows = this.#repo(repo, true).meta.get(role) ?? [];
    const row = { role, version, sha256: sha256(bytes), bytes, createdAt: new Date(), expiresAt: undefined };
    rows.push(row);
    rows.sort((a, b) => a.version - b.version);
    this.#repo(repo).meta.set(role, rows);
    return row;
  }

  async current(repo, role) {
    this.#enter('current', repo, role);
    return this.#repo(repo)?.meta.get(role)?.at(-1);
  }

  async byVersion(repo, role, version) {
    this.#enter('byVersion', repo, role, version);
    return this.#repo(repo)
      ?.meta.get(role)
      ?.find((m) => m.version === version);
  }

  async byChecksum(repo, role, digest) {
    this.#enter('byChecksum', repo, role, digest);
    return this.#repo(repo)
      ?.meta.get(role)
      ?.find((m) => m.sha256 === digest);
  }

  async targetFile(repo, path, digest) {
    this.#enter('targetFile', repo, path, digest);
    const files = (this.#repo(repo)?.files ?? []).filter(
      (f) => f.path === path && (digest === undefined || f.sha256 === digest),
    );
    return files.at(-1);
  }

  async publish(repo, files) {
    this.#enter('publish', repo, files);
    const r = this.#repo(repo);
    const state = Object.fromEntries(
      [...(r?.meta ?? new Map())].map(([role, rows]) => [role, rows.at(-1).bytes]),
    );
    const result = validateUpload(state, files, { now: this.now(), limits: this.limits });
    if (!result.ok) {
      this.events.uploadRefused?.(repo, result.refusal.code);
      throw uploadRefused(result.refusal);
    }
    const stored = result.accepted.map((a) => {
      const row = this.seed(repo, a.role, a.version, Buffer.from(a.bytes));
      return {
        role: a.role,
        version: a.version,
        sha256: row.sha256,
        length: a.bytes.length,
        signedByServer: false,
      };
    });
    const targetFiles = result.targetFiles.map((f) => {
      const row = {
        path: f.path,
        sha256: sha256(f.bytes),
        bytes: Buffer.from(f.bytes),
        createdAt: new Date(),
      };
      this.#repo(repo, true).files.push(row);
      return { path: row.path, sha256: row.sha256, length: row.bytes.length };
    });
    this.events.uploadAccepted?.(repo);
    return { repo, stored, targetFiles };
  }

  async publicKey(repo, role) {
    this.#enter('publicKey', repo, role);
    const keys = this.#repo(repo, true).keys;
    if (!keys.has(role)) keys.set(role, [{ ...newKey(), state: 'pending' }]);
    return keys.get(role).at(-1);
  }

  async rotateKey(repo, role) {
    this.#enter('rotateKey', repo, role);
    const keys = this.#repo(repo, true).keys;
    const key = { ...newKey(), state: 'pending' };
    keys.set(role, [...(keys.get(role) ?? []), key]);
    return key;
  }

  async deleteRepo(repo) {
    this.#enter('deleteRepo', repo);
    return this.repos.delete(repo);
  }

  async refresh(repo) {
    this.#enter('refresh', repo);
    return { repo, signed: [] };
  }

  async refreshDue() {
    this.#enter('refreshDue');
    return [];
  }

  async ping() {
    this.#enter('ping');
  }
}

export const storeBusy = () => new ServerError('STORE_BUSY', 'repository "x" is busy');
