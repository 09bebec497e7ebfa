/**
 * The `OnlineKeys` port (ADR 0021; server-architecture-anchors §6 rule 7): the keys the server
 * signs snapshot and timestamp with, sealed at rest under the master key (./seal.ts).
 *
 * A key's life: `getOrCreatePending` makes one pending key per repository and role (at most
 * one; two concurrent calls get the same key), which the owner puts in the next root; the
 * publish that accepts that root calls `activate(repo, role, root.roles[role].keyids)`: listed
 * keys become active, formerly active keys not listed become retired (notary #347's pending
 * and current keys, instead of notary's GET that creates and signs). `signer` opens a pending
 * or active key (decrypted keys cached per process, bounded); a retired key signs nothing.
 * GET handlers may call `getOrCreatePending` (`GET …/timestamp.key`), never `signer`.
 *
 * `SealedOnlineKeys` is the logic over an `OnlineKeyRows` storage; `memoryOnlineKeys` keeps the
 * rows in a Map (tests), `./sqlite-online-keys.ts` in the TrustStore's database.
 * `./pg-online-keys.ts` on PostgreSQL (the port answers synchronously or with promises).
 */
import { createPrivateKey } from 'node:crypto';
import {
  generateKeyPair,
  keyIdOf,
  KeyObjectSigner,
  toPublicKeyJson,
  type KeyType,
  type PublicKeyJson,
  type Signer,
} from '../crypto/index.js';
import { ServerError } from './errors.js';
import type { MasterKeyRing } from './master-key.js';
import { sealPrivateKey, unsealPrivateKey, type SealedKey } from './seal.js';

export type OnlineKeyState = 'pending' | 'active' | 'retired';

export interface OnlineKeyInfo {
  keyid: string;
  public: PublicKeyJson;
  state: OnlineKeyState;
  createdAt: Date;
}

export interface OnlineKeys {
  /** Every key of the repository's role, oldest first. */
  list(repo: string, role: string): Promise<OnlineKeyInfo[]>;
  /** The role's pending key, created when there is none (idempotent; concurrent calls get one key). */
  getOrCreatePending(repo: string, role: string, type?: KeyType): Promise<OnlineKeyInfo>;
  /** After a root is accepted: its keys for `role` become active, other active ones retired. */
  activate(repo: string, role: string, keyidsInRoot: readonly string[]): Promise<OnlineKeyInfo[]>;
  /** A signer for a pending or active key; ONLINE_KEY_UNKNOWN / ONLINE_KEY_RETIRED otherwise. */
  signer(repo: string, role: string, keyid: string): Promise<Signer>;
  /** Forget every key of a deleted repository (the server's DELETE, with TrustStore.deleteRepo); returns how many. */
  deleteRepo(repo: string): Promise<number>;
}

/** A stored key: its public part, state and sealed private part. */
export interface OnlineKeyRow extends OnlineKeyInfo {
  sealed: SealedKey;
}

/** What a backend stores; each method is atomic (one transaction). */
/** A storage answer: synchronous (SQLite, memory) or asynchronous (PostgreSQL, ./pg-online-keys.ts). */
export type Awaitable<T> = T | Promise<T>;

/** An `online_keys` row as both SQL adapters read it (created_at epoch ms in SQLite, a Date in PostgreSQL). */
export interface OnlineKeyDbRow {
  keyid: string;
  public: string;
  state: OnlineKeyState;
  kek_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: number | Date;
}

/** The columns of an OnlineKeyDbRow, in that order. */
export const ONLINE_KEY_COLUMNS = 'keyid, public, state, kek_id, nonce, ciphertext, tag, created_at';

export function onlineKeyRowOf(r: OnlineKeyDbRow): OnlineKeyRow {
  return {
    keyid: r.keyid,
    public: JSON.parse(r.public) as PublicKeyJson,
    state: r.state,
    createdAt: new Date(r.created_at),
    sealed: { kekId: r.kek_id, nonce: r.nonce, ciphertext: r.ciphertext, tag: r.tag },
  };
}

export interface OnlineKeyRows {
  all(repo: string, role: string): Awaitable<OnlineKeyRow[]>;
  get(repo: string, role: string, keyid: string): Awaitable<OnlineKeyRow | undefined>;
  /** Insert `row` (state pending) unless the role already has a pending key; returns the pending row. */
  insertPending(repo: string, role: string, row: OnlineKeyRow): Awaitable<OnlineKeyRow>;
  /** Apply `decide` to the role's rows and store the states it returns, in one transaction. */
  transition(
    repo: string,
    role: string,
    decide: (rows: OnlineKeyRow[]) => Map<string, OnlineKeyState>,
  ): Awaitable<void>;
  /** Up to `limit` rows sealed under another kek id than `kekId` (for reseal). */
  sealedElsewhere(kekId: string, limit: number): Awaitable<SealedRowRef[]>;
  /** Replace a row's sealed key if it is still sealed as `ref.sealed` says; false when it changed. */
  replaceSealed(ref: SealedRowRef, sealed: SealedKey): Awaitable<boolean>;
  /** Delete every row of `repo`; returns how many. */
  deleteRepo(repo: string): Awaitable<number>;
}

/** A stored key's place and sealed private part. */
export interface SealedRowRef {
  repo: string;
  role: string;
  keyid: string;
  sealed: SealedKey;
}

export interface OnlineKeysOptions {
  /** The master key(s): `current` seals, all may unseal. */
  master: MasterKeyRing;
  /** Decrypted keys kept per process (least recently used dropped). Default 256. */
  cacheSize?: number;
  now?: () => Date;
}

/** The new states after a root listing `keyidsInRoot` was accepted (pure). */
export function activationStates(
  rows: readonly OnlineKeyRow[],
  keyidsInRoot: readonly string[],
): Map<string, OnlineKeyState> {
  const listed = new Set(keyidsInRoot);
  const changes = new Map<string, OnlineKeyState>();
  for (const row of rows) {
    if (listed.has(row.keyid) && row.state !== 'active') changes.set(row.keyid, 'active');
    else if (!listed.has(row.keyid) && row.state === 'active') changes.set(row.keyid, 'retired');
  }
  return changes;
}

const info = (r: OnlineKeyRow): OnlineKeyInfo => ({
  keyid: r.keyid,
  public: r.public,
  state: r.state,
  createdAt: r.createdAt,
});

export class SealedOnlineKeys implements OnlineKeys {
  private readonly cache = new Map<string, Signer>();
  private readonly cacheSize: number;
  private readonly now: () => Date;

  constructor(
    private readonly rows: OnlineKeyRows,
    private readonly options: OnlineKeysOptions,
  ) {
    this.cacheSize = Math.max(0, Math.floor(options.cacheSize ?? 256));
    this.now = options.now ?? (() => new Date());
  }

  async list(repo: string, role: string): Promise<OnlineKeyInfo[]> {
    return (await this.rows.all(repo, role)).map(info);
  }

  async getOrCreatePending(repo: string, role: string, type: KeyType = 'ed25519'): Promise<OnlineKeyInfo> {
    const existing = (await this.rows.all(repo, role)).find((r) => r.state === 'pending');
    return info(existing ?? (await this.rows.insertPending(repo, role, this.newRow(repo, role, type))));
  }

  /** Generate and seal a key (outside any transaction: RSA takes a while). */
  private newRow(repo: string, role: string, type: KeyType): OnlineKeyRow {
    const { privateKey } = generateKeyPair(type);
    const pub = toPublicKeyJson(privateKey);
    const keyid = keyIdOf(pub);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    try {
      const sealed = sealPrivateKey(this.options.master.current, der, { repo, role, keyid });
      return { keyid, public: pub, state: 'pending', createdAt: this.now(), sealed };
    } finally {
      der.fill(0);
    }
  }

  async activate(repo: string, role: string, keyidsInRoot: readonly string[]): Promise<OnlineKeyInfo[]> {
    await this.rows.transition(repo, role, (rows) => activationStates(rows, keyidsInRoot));
    const after = await this.rows.all(repo, role);
    for (const r of after) if (r.state === 'retired') this.cache.delete(cacheKey(repo, role, r.keyid));
    return after.map(info);
  }

  async signer(repo: string, role: string, keyid: string): Promise<Signer> {
    const row = await this.rows.get(repo, role, keyid);
    if (row === undefined) throw unknownKey(repo, role, keyid);
    const key = cacheKey(repo, role, keyid);
    if (row.state === 'retired') {
      this.cache.delete(key);
      throw retiredKey(repo, role, keyid);
    }
    return this.cached(key) ?? this.remember(key, this.open(repo, role, row));
  }

  private open(repo: string, role: string, row: OnlineKeyRow): Signer {
    const der = unsealPrivateKey(this.options.master, row.sealed, { repo, role, keyid: row.keyid });
    try {
      // the public key and key id come from the opened private key, not from the row
      const signer = new KeyObjectSigner(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
      if (signer.keyid !== row.keyid || keyIdOf(row.public) !== row.keyid)
        throw new ServerError(
          'UNSEAL_FAILED',
          `online key ${row.keyid.slice(0, 8)} of ${repo} ${role} does not match its stored public key`,
          {
            details: { repo, role, keyid: row.keyid },
            hint: 'the database row was altered: restore it from a backup or create a new key',
          },
        );
      return signer;
    } finally {
      der.fill(0);
    }
  }

  private cached(key: string): Signer | undefined {
    const s = this.cache.get(key);
    if (s !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, s);
    }
    return s;
  }

  private remember(key: string, signer: Signer): Signer {
    if (this.cacheSize === 0) return signer;
    this.cache.set(key, signer);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
    }
    return signer;
  }

  /**
   * After a master-key rotation: reseal every key sealed under a previous master key of the
   * ring under the current one (ADR 0021). Returns how many were resealed; KEK_UNKNOWN when a
   * row's master key is not loaded (the rows before it are resealed, none is lost).
   */
  async reseal(batch = 100): Promise<number> {
    const current = this.options.master.current;
    let count = 0;
    for (;;) {
      const refs = await this.rows.sealedElsewhere(current.kekId, batch);
      const before = count;
      for (const ref of refs) {
        const der = unsealPrivateKey(this.options.master, ref.sealed, ref);
        try {
          if (await this.rows.replaceSealed(ref, sealPrivateKey(current, der, ref))) count++;
        } finally {
          der.fill(0);
        }
      }
      // nothing left, or only rows another writer changed meanwhile: stop
      if (count === before) break;
    }
    return count;
  }

  async deleteRepo(repo: string): Promise<number> {
    const n = await this.rows.deleteRepo(repo);
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${repo}|`)) this.cache.delete(k);
    return n;
  }

  /** How many decrypted keys this process holds (for tests and metrics). */
  get cachedKeys(): number {
    return this.cache.size;
  }
}

const cacheKey = (repo: string, role: string, keyid: string): string => `${repo}|${role}|${keyid}`;

function unknownKey(repo: string, role: string, keyid: string): ServerError {
  return new ServerError(
    'ONLINE_KEY_UNKNOWN',
    `the server holds no ${role} key ${keyid.slice(0, 8)} for ${repo}`,
    {
      details: { repo, role, keyid },
      hint: `list the server's keys for ${repo} ${role}, or create one (GET the role's key)`,
    },
  );
}

function retiredKey(repo: string, role: string, keyid: string): ServerError {
  return new ServerError(
    'ONLINE_KEY_RETIRED',
    `${role} key ${keyid.slice(0, 8)} of ${repo} is retired: the current root no longer lists it`,
    {
      details: { repo, role, keyid },
      hint: 'sign with an active key of the current root',
    },
  );
}

/** Rows in a Map: each method runs synchronously, so it is atomic within the process. */
class MemoryRows implements OnlineKeyRows {
  private readonly byRole = new Map<string, OnlineKeyRow[]>();

  private of(repo: string, role: string): OnlineKeyRow[] {
    const k = `${repo}|${role}`;
    let rows = this.byRole.get(k);
    if (rows === undefined) this.byRole.set(k, (rows = []));
    return rows;
  }

  all(repo: string, role: string): OnlineKeyRow[] {
    return this.of(repo, role).map((r) => ({ ...r }));
  }

  get(repo: string, role: string, keyid: string): OnlineKeyRow | undefined {
    const r = this.of(repo, role).find((x) => x.keyid === keyid);
    return r === undefined ? undefined : { ...r };
  }

  insertPending(repo: string, role: string, row: OnlineKeyRow): OnlineKeyRow {
    const rows = this.of(repo, role);
    const pending = rows.find((r) => r.state === 'pending');
    if (pending !== undefined) return { ...pending };
    if (!rows.some((r) => r.keyid === row.keyid)) rows.push({ ...row, state: 'pending' });
    return { ...row, state: 'pending' };
  }

  transition(
    repo: string,
    role: string,
    decide: (rows: OnlineKeyRow[]) => Map<string, OnlineKeyState>,
  ): void {
    const rows = this.of(repo, role);
    const changes = decide(rows.map((r) => ({ ...r })));
    for (const r of rows) r.state = changes.get(r.keyid) ?? r.state;
  }

  sealedElsewhere(kekId: string, limit: number): SealedRowRef[] {
    const refs: SealedRowRef[] = [];
    for (const [k, rows] of this.byRole) {
      const [repo = '', role = ''] = k.split('|');
      for (const r of rows)
        if (r.sealed.kekId !== kekId && refs.length < limit)
          refs.push({ repo, role, keyid: r.keyid, sealed: r.sealed });
    }
    return refs;
  }

  deleteRepo(repo: string): number {
    let n = 0;
    for (const [k, rows] of this.byRole)
      if (k.startsWith(`${repo}|`)) {
        n += rows.length;
        this.byRole.delete(k);
      }
    return n;
  }

  replaceSealed(ref: SealedRowRef, sealed: SealedKey): boolean {
    const row = this.of(ref.repo, ref.role).find((r) => r.keyid === ref.keyid);
    if (row === undefined || !row.sealed.nonce.equals(ref.sealed.nonce)) return false;
    row.sealed = sealed;
    return true;
  }
}

/** OnlineKeys in memory (tests, `memory` scheme): sealed like the SQLite ones, lost on exit. */
export function memoryOnlineKeys(options: OnlineKeysOptions, rows = memoryOnlineKeyRows()): SealedOnlineKeys {
  return new SealedOnlineKeys(rows, options);
}

/** Row storage in memory, to share between several `memoryOnlineKeys` (e.g. master key rings). */
export function memoryOnlineKeyRows(): OnlineKeyRows {
  return new MemoryRows();
}
