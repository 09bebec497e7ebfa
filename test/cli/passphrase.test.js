// Passphrases on the command line (issue 12 item 6): CNABSEC_PASSPHRASE_<KEYID8> for one key
// of a role whose keys have different passphrases, before CNABSEC_PASSPHRASE_<ROLE> and
// CNABSEC_PASSPHRASE; a key that may not sign a role is refused before its passphrase is
// asked; without a terminal a wrong passphrase is not asked again. (The prompts and the
// retries at a terminal are tested through the library: test/crypto/passphrase.test.js.)
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliOk, rolesOf, runCli, snapshotTree } from '../helpers/cli.js';

const NAME = 'example.com/org/passphrases';
const ctx = {};

function env(extra = {}) {
  return { CNABSEC_HOME: ctx.home, CI: 'true', ...extra };
}

before(async () => {
  ctx.dir = await mkdtemp(path.join(tmpdir(), 'cnabsec-passphrase-'));
  ctx.home = path.join(ctx.dir, 'home');
  ctx.repo = path.join(ctx.dir, 'repo');
  // two targets keys with different passphrases, 2-of-2
  ctx.a = cliOk(['key', 'generate', '--label', 'targets'], {
    env: env({ CNABSEC_PASSPHRASE: 'alice' }),
  }).trim();
  ctx.b = cliOk(['key', 'generate', '--label', 'targets'], {
    env: env({ CNABSEC_PASSPHRASE: 'bob' }),
  }).trim();
  const init = JSON.parse(
    cliOk(
      [
        'init',
        ctx.repo,
        '--name',
        NAME,
        '--targets-key',
        ctx.a,
        '--targets-key',
        ctx.b,
        '--targets-threshold',
        '2',
        '--json',
      ],
      { env: env({ CNABSEC_PASSPHRASE: 'other' }) },
    ),
  );
  ctx.root = rolesOf(init).root.keyids[0];
  ctx.bundle = path.join(ctx.dir, 'bundle.json');
  await writeFile(
    ctx.bundle,
    JSON.stringify({
      invocationImages: [{ image: 'cnab/helloworld:0.1.0', imageType: 'docker' }],
      name: 'helloworld',
      schemaVersion: 'v1.0.0',
      version: '0.1.0',
    }),
  );
  cliOk(['bundle', 'add', ctx.repo, 'v1', '--thin', ctx.bundle], {
    env: env({ CNABSEC_PASSPHRASE: 'other' }),
  });
  ctx.copy = path.join(ctx.dir, 'publish-copy');
  await cp(ctx.repo, ctx.copy, { recursive: true });
});

after(() => rm(ctx.dir, { recursive: true, force: true }));

const k8 = (id, upper = true) => (upper ? id.slice(0, 8).toUpperCase() : id.slice(0, 8));

test('sign: CNABSEC_PASSPHRASE_<KEYID8> wins over CNABSEC_PASSPHRASE_<ROLE> and CNABSEC_PASSPHRASE', async () => {
  const repoBefore = await snapshotTree(ctx.repo);
  // the role variable is alice's; bob's key has its own variable (upper- and lower-case hex)
  for (const upper of [true, false]) {
    const r = runCli(['sign', ctx.repo, 'targets', '--key', ctx.b, '--json'], {
      env: env({
        CNABSEC_PASSPHRASE: 'nobody',
        CNABSEC_PASSPHRASE_TARGETS: 'alice',
        [`CNABSEC_PASSPHRASE_${k8(ctx.b, upper)}`]: 'bob',
      }),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).keyid, ctx.b);
  }
  // without bob's variable the role variable is used for his key too: wrong, named, not retried
  const r = runCli(['sign', ctx.repo, 'targets', '--key', ctx.b], {
    env: env({ CNABSEC_PASSPHRASE_TARGETS: 'alice' }),
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(`^cnabsec: error \\[WRONG_PASSPHRASE\\]: wrong passphrase for targets key 2/2 ${ctx.b}`),
  );
  assert.doesNotMatch(r.stderr, /tries/);
  assert.match(
    r.stderr,
    new RegExp(
      `hint: check CNABSEC_PASSPHRASE_${k8(ctx.b)}, CNABSEC_PASSPHRASE_TARGETS or CNABSEC_PASSPHRASE`,
    ),
  );
  assert.notDeepEqual(await snapshotTree(ctx.repo), repoBefore, 'the two signings above were staged');
});

test('publish: one role, two passphrases, from the per-key and the role variables', () => {
  const copy = ctx.copy;
  const base = { CNABSEC_PASSPHRASE: 'other', CNABSEC_PASSPHRASE_TARGETS: 'alice' };
  const missing = runCli(['publish', copy], { env: env(base) });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, new RegExp(`WRONG_PASSPHRASE.*${ctx.b}`));
  const ok = runCli(['publish', copy, '--json'], {
    env: env({ ...base, [`CNABSEC_PASSPHRASE_${k8(ctx.b)}`]: 'bob' }),
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(JSON.parse(ok.stdout).published.some((p) => p.role === 'targets'));
});

test('sign with a key that is not the role’s: KEY_NOT_AUTHORIZED before any passphrase, also with --no-prompt and no passphrase', async () => {
  const before = await snapshotTree(ctx.repo);
  for (const extra of [['--no-prompt'], []]) {
    const r = runCli(['sign', ctx.repo, 'targets', '--key', ctx.root.slice(0, 8), ...extra], { env: env() });
    assert.equal(r.status, 1, r.stderr);
    const [first, hint] = r.stderr.split('\n');
    assert.equal(first, `cnabsec: error [KEY_NOT_AUTHORIZED]: key ${ctx.root} may not sign targets`);
    assert.equal(hint, `  hint: targets is signed by: ${ctx.a}, ${ctx.b}`);
    assert.doesNotMatch(r.stderr, /PASSPHRASE/);
  }
  assert.deepEqual(await snapshotTree(ctx.repo), before, 'nothing staged');
  // an authorized key without its passphrase is the passphrase error, naming the key i/n
  const r = runCli(['sign', ctx.repo, 'targets', '--key', ctx.a, '--no-prompt'], { env: env() });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^cnabsec: error \\[PASSPHRASE_REQUIRED\\]: no passphrase for the targets key 1/2 \\(${ctx.a.slice(0, 8)}\\)`,
    ),
  );
  assert.match(
    r.stderr,
    new RegExp(`hint: set CNABSEC_PASSPHRASE_${k8(ctx.a)}, CNABSEC_PASSPHRASE_TARGETS or CNABSEC_PASSPHRASE`),
  );
});

test('publish without passphrases: a skipped key is named with its role and place among the role’s keys', async () => {
  const copy = path.join(ctx.dir, 'no-passphrase-copy');
  await cp(ctx.copy, copy, { recursive: true });
  const before = await snapshotTree(copy);
  const r = runCli(['publish', copy, '--no-prompt'], { env: env({ CI: undefined }) });
  assert.equal(r.status, 1, r.stderr);
  // publish stops at the first role below its threshold (the library test of the prompts
  // covers root keys 1/3, 2/3, 3/3 in one publish)
  assert.match(
    r.stderr,
    /^cnabsec: warning: no passphrase for the snapshot key 1\/1 \(([0-9a-f]{8})\) and prompting is off; skipping key \1$/m,
  );
  assert.match(r.stderr, /error \[THRESHOLD_NOT_MET\]/);
  assert.deepEqual(await snapshotTree(copy), before, 'nothing published');
});
