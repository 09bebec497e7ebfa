// `cnabsec status`: exit 3 when a role has expired, one warning line per role near expiry
// (issue 12 item 5); the same in --json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { KeyStore } from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository, publish } from '../../dist/tuf/index.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const DAY = 86_400;

/** A repository published two days ago with the given expiry periods (seconds). */
async function publishedAgo(t, expiry) {
  const dir = await tempDir(t);
  const home = path.join(dir, 'home');
  const repo = path.join(dir, 'repo');
  const store = new KeyStore(home);
  const pp = fixedPassphrases('pw');
  const key = await store.generate('ed25519', 'all', pp);
  const roles = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    roles[role] = { keys: [key.publicKey], threshold: 1 };
  const past = new Date(Date.now() - 2 * DAY * 1000);
  const r = await LocalRepository.create(new FsMetadataStore(repo), {
    name: 'example.com/org/status',
    roles,
    expiry,
    now: past,
  });
  await publish(r, { now: past, signers: async () => store.signer(key.keyid, pp) });
  return { repo, env: { CNABSEC_HOME: home, CI: 'true' } };
}

// timestamp expired one day ago; targets (2.5 d) has half a day left, within its warning
// window (a quarter of its period); root and snapshot are far from expiry.
const MIXED = { root: 365 * DAY, targets: 2.5 * DAY, snapshot: 10 * DAY, timestamp: DAY };

test('status exits 3 when a role has expired and warns once per expired or expiring role', async (t) => {
  const { repo, env } = await publishedAgo(t, MIXED);
  const r = runCli(['status', repo], { env });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /^ {2}timestamp +v1 /m);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.ok(
    lines.every((l) => l.startsWith('cnabsec: warning: ')),
    r.stderr,
  );
  assert.match(
    lines[0],
    /^cnabsec: warning: targets v1 expires in 1\dh \(.*\); renew: cnabsec resign .* targets, then cnabsec publish/,
  );
  assert.match(
    lines[1],
    /^cnabsec: warning: timestamp v1 expired 1d ago \(.*\); renew: cnabsec refresh .* --force$/,
  );
});

test('status --json carries the expired and expiring roles and still exits 3', async (t) => {
  const { repo, env } = await publishedAgo(t, MIXED);
  const r = runCli(['status', repo, '--json'], { env });
  assert.equal(r.status, 3, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.expiredRoles, ['timestamp']);
  assert.deepEqual(s.expiringRoles, ['targets']);
  assert.equal(s.roles.find((x) => x.role === 'timestamp').expired, true);
  assert.equal(s.roles.find((x) => x.role === 'targets').expiring, true);
  assert.equal(s.roles.find((x) => x.role === 'root').expiring, false);
  assert.equal(s.warnings.length, 2);
  // rule 3 of docs/cli-json.md: each warning also on stderr, for people; nothing else there
  assert.equal(r.stderr, s.warnings.map((w) => `cnabsec: warning: ${w}\n`).join(''));
});

test('status of a repository expiring soon but not expired exits 0 with its warning', async (t) => {
  const { repo, env } = await publishedAgo(t, { ...MIXED, timestamp: 10 * DAY });
  const r = runCli(['status', repo], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  assert.match(r.stderr, /^cnabsec: warning: targets v1 expires in /);
});

test('status of a freshly published repository exits 0 without warnings', async (t) => {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', repo, '--name', 'example.com/org/fresh'], { env });
  cliOk(['publish', repo], { env });
  const r = runCli(['status', repo], { env });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  const s = JSON.parse(cliOk(['status', repo, '--json'], { env }));
  assert.deepEqual([s.expiredRoles, s.expiringRoles], [[], []]);
});
