/**
 * The cost an encrypted PEM private key asks for, checked before the key is decrypted. A
 * PKCS#8 `ENCRYPTED PRIVATE KEY` names its own key derivation (RFC 8018 PBES2 with PBKDF2 or
 * RFC 7914 scrypt, or PBES1 / PKCS#12 PBE with an iteration count), and OpenSSL runs whatever
 * it names: 2^31 PBKDF2 rounds or scrypt N=2^20 (1 GiB) would stall or exhaust the process.
 * Accepted: PBKDF2 and PBES1 iteration counts up to SSLIB_MAX_PBKDF2_ITERATIONS; scrypt up to
 * N=2^16, r=8, p=1 (64 MiB; OpenSSL writes N=2^14). Traditional encrypted PEM (`Proc-Type:
 * 4,ENCRYPTED`, what in-toto-keygen writes for rsa) derives its key with one MD5 round and has
 * no parameter to check. Anything else is KEY_FILE_INVALID (ADR 0010).
 */
import { CryptoError } from './errors.js';
import { SSLIB_MAX_PBKDF2_ITERATIONS } from './sslib-encrypted.js';

export const PEM_MAX_SCRYPT = { N: 1 << 16, r: 8, p: 1 } as const;

const OID = {
  pbes2: '2a864886f70d01050d',
  pbkdf2: '2a864886f70d01050c',
  scrypt: '2b06010401da47040b',
  pbes1: '2a864886f70d0105', // 1.2.840.113549.1.5.{1,3,4,6,10,11}
  pkcs12pbe: '2a864886f70d010c01', // 1.2.840.113549.1.12.1.{1..6}
};

function invalid(source: string, what: string): CryptoError {
  return new CryptoError('KEY_FILE_INVALID', `encrypted PEM key ${source}: ${what}`, {
    details: { path: source },
    hint: `re-encrypt the key with at most ${SSLIB_MAX_PBKDF2_ITERATIONS} PBKDF2 iterations (e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc), or give it unencrypted`,
  });
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

class Der {
  constructor(
    readonly buf: Buffer,
    readonly source: string,
  ) {}

  /** The TLV at `off` (inside `limit`), which must have tag `tag`. */
  at(off: number, limit: number, tag: number): Tlv {
    const b = this.buf;
    if (off + 2 > limit || b[off] !== tag) throw this.bad(off);
    let len = b[off + 1] as number;
    let start = off + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || start + n > limit) throw this.bad(off);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (b[start + i] as number);
      start += n;
    }
    if (start + len > limit) throw this.bad(off);
    return { tag, start, end: start + len };
  }

  hex(t: Tlv): string {
    return this.buf.subarray(t.start, t.end).toString('hex');
  }

  /** A non-negative INTEGER of at most 6 bytes (else: `Infinity`, which every bound refuses). */
  int(t: Tlv): number {
    const bytes = this.buf.subarray(t.start, t.end);
    if (bytes.length === 0 || ((bytes[0] as number) & 0x80) !== 0) throw this.bad(t.start);
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const v = bytes.subarray(i);
    return v.length > 6 ? Infinity : v.readUIntBE(0, v.length);
  }

  bad(off: number): CryptoError {
    return invalid(this.source, `not an encrypted PKCS#8 key (malformed DER at byte ${off})`);
  }
}

function pemBody(text: string, label: string): Buffer | undefined {
  const begin = `-----BEGIN ${label}-----`;
  const i = text.indexOf(begin);
  if (i < 0) return undefined;
  const j = text.indexOf(`-----END ${label}-----`, i);
  if (j < 0) return Buffer.alloc(0);
  return Buffer.from(text.slice(i + begin.length, j).replace(/\s+/g, ''), 'base64');
}

function checkIterations(source: string, field: string, n: number): void {
  if (n < 1 || n > SSLIB_MAX_PBKDF2_ITERATIONS) {
    throw invalid(source, `field ${field} is ${n}, expected 1 to ${SSLIB_MAX_PBKDF2_ITERATIONS}`);
  }
}

function checkPbes2(d: Der, params: Tlv, source: string): void {
  const kdf = d.at(params.start, params.end, 0x30);
  const oid = d.at(kdf.start, kdf.end, 0x06);
  const kp = d.at(oid.end, kdf.end, 0x30);
  const salt = d.at(kp.start, kp.end, 0x04);
  if (d.hex(oid) === OID.pbkdf2) {
    checkIterations(source, 'pbkdf2.iterationCount', d.int(d.at(salt.end, kp.end, 0x02)));
    return;
  }
  if (d.hex(oid) !== OID.scrypt)
    throw invalid(source, 'unsupported PBES2 key derivation (only PBKDF2 and scrypt)');
  const n = d.at(salt.end, kp.end, 0x02);
  const r = d.at(n.end, kp.end, 0x02);
  const p = d.at(r.end, kp.end, 0x02);
  for (const [field, tlv, max] of [
    ['N', n, PEM_MAX_SCRYPT.N],
    ['r', r, PEM_MAX_SCRYPT.r],
    ['p', p, PEM_MAX_SCRYPT.p],
  ] as const) {
    const v = d.int(tlv);
    if (v < 1 || v > max) throw invalid(source, `field scrypt.${field} is ${v}, expected 1 to ${max}`);
  }
}

/**
 * Refuse an encrypted PEM private key whose key derivation would cost more than the bounds
 * above, or that cannot be checked; called before the passphrase is asked.
 */
export function checkPemEncryption(text: string, source: string): void {
  const der = pemBody(text, 'ENCRYPTED PRIVATE KEY');
  if (der === undefined) return; // traditional PEM encryption: fixed cost
  const d = new Der(der, source);
  const top = d.at(0, der.length, 0x30);
  const alg = d.at(top.start, top.end, 0x30);
  const oid = d.at(alg.start, alg.end, 0x06);
  const params = d.at(oid.end, alg.end, 0x30);
  const id = d.hex(oid);
  if (id === OID.pbes2) {
    checkPbes2(d, params, source);
    return;
  }
  if ((id.startsWith(OID.pbes1) && id.length === OID.pbes1.length + 2) || id.startsWith(OID.pkcs12pbe)) {
    const salt = d.at(params.start, params.end, 0x04);
    checkIterations(source, 'iterations', d.int(d.at(salt.end, params.end, 0x02)));
    return;
  }
  throw invalid(source, 'unsupported encryption scheme (only PBES2, PBES1 and PKCS#12 PBE)');
}
