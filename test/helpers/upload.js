// Uploads for the server's validation (test/server/validate*.test.js): the published state of an
// in-memory repository (./sim.js) as the server stores it (bytes per role), the roles a publish
// changed as the parts of an upload, and forged roles re-signed with the simulator's keys.
import assert from 'node:assert/strict';
import { canonicalize } from '@tufjs/canonical-json';
import { metadataFileName } from '../../dist/tuf/index.js';
import { validateUpload } from '../../dist/server/validate.js';
import { NAME, Sim } from './sim.js';

/** The published metadata of `sim`, bytes per role, as a server stores it. */
export function stateOf(sim) {
  const out = {};
  for (const [role, md] of sim.repo.published)
    out[role] = Buffer.from(sim.file(metadataFileName(role, md.signed.version)));
  return out;
}

/** A copy whose bytes are separate buffers (to prove a state was not changed). */
export function copyState(state) {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, Buffer.from(v)]));
}

/** The roles of `after` that differ from `before`, as upload parts. */
export function changedRoles(before, after) {
  return Object.entries(after)
    .filter(([role, bytes]) => before[role] === undefined || !Buffer.from(before[role]).equals(bytes))
    .map(([role, bytes]) => ({ role, bytes }));
}

export function parse(bytes) {
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}

/** Edit a role's `signed` and sign it again with `signers` (all of the sim's keys by default). */
export async function forge(bytes, mutate, signers) {
  const json = parse(bytes);
  mutate(json.signed);
  const data = Buffer.from(canonicalize(json.signed));
  json.signatures = [];
  for (const s of signers)
    json.signatures.push({ keyid: s.keyid, sig: Buffer.from(await s.sign(data)).toString('hex') });
  return Buffer.from(JSON.stringify(json));
}

/** The signers of `role`'s keys in the sim's current root. */
export function roleSigners(sim, role) {
  const ids = sim.repo.root.signed.roles[role].keyIDs;
  return ids.map((id) => sim.signers.get(id)).filter((s) => s !== undefined);
}

export const NOW = () => new Date();
export const LAYOUT = `${NAME}/in-toto-metadata/root.layout`;

/** A published repository (state S1), then `change(sim)` staged and published (state S2). */
export async function twoStates(t, change, create = {}) {
  const sim = await Sim.create(t, create);
  const before = stateOf(sim);
  await change(sim);
  await sim.publish();
  const after = stateOf(sim);
  return { sim, before, after, upload: changedRoles(before, after) };
}

export const addBundle = (sim) => sim.addBundle('v1');

/** Refused with `code` for `role`, and `state` exactly as it was. */
export function assertRefused(state, files, options, code, role, rule) {
  const copy = copyState(state);
  const r = validateUpload(state, files, { now: NOW(), ...options });
  assert.equal(r.ok, false, 'the upload should be refused');
  assert.equal(r.refusal.code, code, r.refusal.message);
  assert.equal(r.refusal.role, role, r.refusal.message);
  if (rule !== undefined) assert.equal(r.refusal.rule, rule, r.refusal.message);
  assert.doesNotMatch(r.refusal.message, /\n/);
  assert.match(r.refusal.message, new RegExp(`\\(${r.refusal.rule}\\)`));
  assert.deepEqual(state, copy, 'validateUpload changed the state');
  return r.refusal;
}

export function part(upload, role) {
  return upload.find((p) => p.role === role);
}
