/**
 * The server's master key (ADR 0021; server-architecture-anchors §6 rule 7): a raw 256-bit
 * key-encryption key that seals the online (snapshot, timestamp) private keys at rest
 * (./seal.ts). Raw, not a passphrase: scrypt (src/crypto/keyfile.ts) would cost ~0.1 s per
 * unseal. It comes from `CNABSEC_SERVER_MASTER_KEY` (64 hex digits or base64 of 32 bytes) or
 * from a key file (the same text, or the 32 raw bytes) that only its owner can read (0600).
 *
 * The `kekId` (first 8 hex digits of SHA-256 of the key) is stored next to every sealed key,
 * so a new master key can be loaded while keys sealed under the previous one still open
 * (notary's `PassphraseAlias`). The key bytes are held in a secret KeyObject in a private
 * field: `JSON.stringify`, `util.inspect` and `String()` show only the kek id.
 */
import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { inspect } from 'node:util';
import { readUserFile } from '../util/fs.js';
import { ServerError } from './errors.js';

export const MASTER_KEY_ENV = 'CNABSEC_SERVER_MASTER_KEY';
const KEY_BYTES = 32;
/** A key file holds 64 hex digits or 44 base64 characters and a newline: 1 KiB is plenty. */
const MAX_FILE_BYTES = 1024;

export class MasterKey {
  /** First 8 hex digits of SHA-256 of the key: names the key without revealing it. */
  readonly kekId: string;
  readonly #secret: KeyObject;

  private constructor(bytes: Buffer) {
    this.kekId = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
    this.#secret = createSecretKey(bytes);
  }

  /** A master key from exactly 32 raw bytes (tests, a KMS-unwrapped key). The input is zeroed. */
  static fromBytes(bytes: Uint8Array): MasterKey {
    if (bytes.length !== KEY_BYTES)
      throw invalid(`the master key is ${bytes.length} bytes, not ${KEY_BYTES}`);
    const copy = Buffer.from(bytes);
    bytes.fill(0);
    const key = new MasterKey(copy);
    copy.fill(0);
    return key;
  }

  /** The AES-256 key for ./seal.ts; never serialized. */
  secretKey(): KeyObject {
    return this.#secret;
  }

  toJSON(): { kekId: string } {
    return { kekId: this.kekId };
  }

  toString(): string {
    return `MasterKey(${this.kekId})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** The loaded master keys: `current` seals, every one (current first) may unseal by kek id. */
export interface MasterKeyRing {
  current: MasterKey;
  previous?: readonly MasterKey[];
}

function invalid(message: string, cause?: unknown): ServerError {
  return new ServerError('MASTER_KEY_INVALID', message, {
    cause,
    hint: `give exactly 32 bytes: 64 hex digits or base64 (e.g. \`openssl rand -hex 32\`) in ${MASTER_KEY_ENV} or the key file`,
  });
}

/** 64 hex digits, or base64/base64url of 32 bytes; surrounding whitespace ignored. */
export function parseMasterKeyText(text: string, where: string): MasterKey {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return MasterKey.fromBytes(Buffer.from(t, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return MasterKey.fromBytes(bytes);
  }
  throw invalid(
    `${where}: the master key is not 32 bytes as 64 hex digits or base64 (${t.length} characters)`,
  );
}

function unsafe(file: string, mode: number): ServerError {
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return new ServerError(
    'MASTER_KEY_UNSAFE',
    `${file}: the master key file has mode ${octal}, readable by group or others`,
    {
      details: { file, mode: octal },
      hint: `run \`chmod 600 ${file}\` (and check who could have read it)`,
    },
  );
}

function readError(file: string, e: unknown): ServerError {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT')
    return new ServerError('MASTER_KEY_MISSING', `${file}: the master key file does not exist`, {
      cause: e,
      hint: `create it with \`(umask 077; openssl rand -hex 32 > ${file})\` or set ${MASTER_KEY_ENV}`,
    });
  const why = e instanceof Error ? e.message : String(e);
  return invalid(`${file}: cannot read the master key file: ${why}`, e);
}

/** Load a key file: refused when group/other may read or write it (POSIX), read bounded. */
export async function loadMasterKeyFile(file: string): Promise<MasterKey> {
  let bytes: Buffer;
  try {
    const st = await fsp.stat(file);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw unsafe(file, st.mode);
    bytes = await readUserFile(file, MAX_FILE_BYTES);
  } catch (e) {
    throw e instanceof ServerError ? e : readError(file, e);
  }
  try {
    if (bytes.length === KEY_BYTES) return MasterKey.fromBytes(bytes);
    return parseMasterKeyText(bytes.toString('utf8'), file);
  } finally {
    bytes.fill(0);
  }
}

export interface LoadMasterKeyOptions {
  /** A key file; exclusive with the environment variable. */
  file?: string;
  /** The environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** The master key from the key file or `CNABSEC_SERVER_MASTER_KEY`; exactly one must be given. */
export async function loadMasterKey(options: LoadMasterKeyOptions = {}): Promise<MasterKey> {
  const value = (options.env ?? process.env)[MASTER_KEY_ENV];
  const fromEnv = value !== undefined && value !== '';
  if (options.file !== undefined && fromEnv)
    throw invalid(`both ${MASTER_KEY_ENV} and a master key file are given; use one`);
  if (options.file !== undefined) return loadMasterKeyFile(options.file);
  if (fromEnv) return parseMasterKeyText(value, MASTER_KEY_ENV);
  throw new ServerError(
    'MASTER_KEY_MISSING',
    `no master key: ${MASTER_KEY_ENV} is not set and no key file is given`,
    {
      hint: `set ${MASTER_KEY_ENV} to 32 random bytes in hex (\`openssl rand -hex 32\`) or give a key file of mode 0600`,
    },
  );
}
