// Expiry warnings name what renews a role: the metadata repository server for the roles it
// holds (doc 302), `refresh` for locally held snapshot/timestamp, `resign` for the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalRepository,
  MemoryMetadataStore,
  expiryWarnings,
  publish,
  serverHeldRoles,
} from '../../dist/tuf/index.js';
import { NAME, newSigners } from '../helpers/sim.js';

async function repository(config) {
  const signers = new Map();
  const roles = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    const [s] = newSigners(1);
    signers.set(s.keyid, s);
    roles[role] = { keys: [s.publicKey], threshold: 1 };
  }
  const repo = await LocalRepository.create(new MemoryMetadataStore(), { name: NAME, roles, ...config });
  await publish(repo, { signers: async (_role, keyid) => signers.get(keyid) });
  return repo;
}

const DAY = 86_400_000;

test('expiryWarnings: a server-held timestamp is renewed by the server, a local one by refresh', async () => {
  const later = new Date(Date.now() + 0.9 * DAY); // the 1-day timestamp is in its last quarter
  const remote = await repository({ server: { url: 'https://tuf.example', managed: ['timestamp'] } });
  assert.deepEqual([...serverHeldRoles(remote)], ['timestamp']);
  const w = expiryWarnings(remote, later).find((x) => x.startsWith('timestamp'));
  assert.match(
    w,
    /^timestamp v1 expires in .*; renew: the metadata repository server holds the timestamp key/,
  );

  const local = await repository({});
  assert.deepEqual([...serverHeldRoles(local)], []);
  const l = expiryWarnings(local, later).find((x) => x.startsWith('timestamp'));
  assert.match(l, /^timestamp v1 expires in .*; renew: cnabsec refresh .* --force$/);
});

test('expiryWarnings: an expired targets role says resign then publish; nothing when nothing is due', async () => {
  const repo = await repository({});
  assert.deepEqual(expiryWarnings(repo, new Date()), []);
  const warnings = expiryWarnings(repo, new Date(Date.now() + 400 * DAY));
  const targets = warnings.find((w) => w.startsWith('targets'));
  assert.match(targets, /^targets v1 expired .*; renew: cnabsec resign .* targets, then cnabsec publish /);
});
