/**
 * The shape of TUF metadata (spec §4.2-4.6) checked field by field before @tufjs/models reads it,
 * so that a file with, say, `"meta": null` or `"keyids": 5` is refused as TUF_METADATA_INVALID
 * naming the field, instead of ending in a `TypeError` inside @tufjs/models. Only the fields the
 * models dereference are checked; unknown fields are allowed (TUF §4: "custom" and extensions).
 * Iterative over the entries, linear in the size of the document.
 */

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A field that has the wrong type: its path and what it should be. */
export class ShapeProblem extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path.slice(0, 200)} must be ${expected}`);
    this.name = 'ShapeProblem';
  }
}

function need(ok: boolean, path: string, expected: string): void {
  if (!ok) throw new ShapeProblem(path, expected);
}

function str(o: Obj, k: string, p: string, optional = false): void {
  if (optional && o[k] === undefined) return;
  need(typeof o[k] === 'string', `${p}.${k}`, 'a string');
}

function int(o: Obj, k: string, p: string, optional = false): void {
  if (optional && o[k] === undefined) return;
  need(Number.isSafeInteger(o[k]), `${p}.${k}`, 'an integer');
}

function obj(o: Obj, k: string, p: string, optional = false): Obj | undefined {
  if (optional && o[k] === undefined) return undefined;
  const v = o[k];
  need(isObject(v), `${p}.${k}`, 'an object');
  return v as Obj;
}

function strings(o: Obj, k: string, p: string, optional = false): void {
  if (optional && o[k] === undefined) return;
  const v = o[k];
  need(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${p}.${k}`, 'a list of strings');
}

function hashes(o: Obj, k: string, p: string, optional: boolean): void {
  const h = obj(o, k, p, optional);
  if (h === undefined) return;
  for (const [alg, v] of Object.entries(h)) need(typeof v === 'string', `${p}.${k}.${alg}`, 'a string');
}

function keys(o: Obj, k: string, p: string): void {
  const ks = obj(o, k, p) as Obj;
  for (const [id, key] of Object.entries(ks)) {
    const kp = `${p}.${k}[${JSON.stringify(id.slice(0, 80))}]`;
    need(isObject(key), kp, 'an object');
    str(key as Obj, 'keytype', kp);
    str(key as Obj, 'scheme', kp);
    const val = obj(key as Obj, 'keyval', kp) as Obj;
    str(val, 'public', `${kp}.keyval`);
  }
}

function metaFiles(o: Obj, p: string): void {
  const meta = obj(o, 'meta', p) as Obj;
  for (const [file, m] of Object.entries(meta)) {
    const mp = `${p}.meta[${JSON.stringify(file.slice(0, 80))}]`;
    need(isObject(m), mp, 'an object');
    int(m as Obj, 'version', mp);
    int(m as Obj, 'length', mp, true);
    hashes(m as Obj, 'hashes', mp, true);
  }
}

function root(s: Obj): void {
  keys(s, 'keys', 'signed');
  const roles = obj(s, 'roles', 'signed') as Obj;
  for (const [name, r] of Object.entries(roles)) {
    const rp = `signed.roles[${JSON.stringify(name.slice(0, 80))}]`;
    need(isObject(r), rp, 'an object');
    strings(r as Obj, 'keyids', rp);
    int(r as Obj, 'threshold', rp);
  }
  if (s.consistent_snapshot !== undefined)
    need(typeof s.consistent_snapshot === 'boolean', 'signed.consistent_snapshot', 'true or false');
}

function delegations(s: Obj): void {
  const d = obj(s, 'delegations', 'signed', true);
  if (d === undefined) return;
  keys(d, 'keys', 'signed.delegations');
  need(Array.isArray(d.roles), 'signed.delegations.roles', 'a list');
  (d.roles as unknown[]).forEach((r, i) => {
    const rp = `signed.delegations.roles[${i}]`;
    need(isObject(r), rp, 'an object');
    const role = r as Obj;
    str(role, 'name', rp);
    strings(role, 'keyids', rp);
    int(role, 'threshold', rp);
    if (role.terminating !== undefined)
      need(typeof role.terminating === 'boolean', `${rp}.terminating`, 'true or false');
    strings(role, 'paths', rp, true);
    strings(role, 'path_hash_prefixes', rp, true);
  });
}

function targets(s: Obj): void {
  const ts = obj(s, 'targets', 'signed') as Obj;
  for (const [name, t] of Object.entries(ts)) {
    const tp = `signed.targets[${JSON.stringify(name.slice(0, 80))}]`;
    need(isObject(t), tp, 'an object');
    int(t as Obj, 'length', tp);
    hashes(t as Obj, 'hashes', tp, false);
    obj(t as Obj, 'custom', tp, true);
  }
  delegations(s);
}

/**
 * The first field of `doc` (a parsed metadata file whose `signed._type` is `type`) that has a
 * type @tufjs/models cannot read, or undefined when the shape is sound.
 */
export function metadataShapeProblem(doc: Obj, type: string): ShapeProblem | undefined {
  try {
    need(Array.isArray(doc.signatures), 'signatures', 'a list');
    (doc.signatures as unknown[]).forEach((sig, i) => {
      need(isObject(sig), `signatures[${i}]`, 'an object');
      str(sig as Obj, 'keyid', `signatures[${i}]`);
      str(sig as Obj, 'sig', `signatures[${i}]`);
    });
    const s = doc.signed as Obj;
    str(s, 'spec_version', 'signed');
    int(s, 'version', 'signed');
    str(s, 'expires', 'signed');
    if (type === 'root') root(s);
    else if (type === 'timestamp' || type === 'snapshot') metaFiles(s, 'signed');
    else targets(s);
    return undefined;
  } catch (e) {
    if (e instanceof ShapeProblem) return e;
    throw e;
  }
}
