// `cnabsec policy set|show <repo>`: the expiry policy in cnabsec.json (issue 12 item 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400;

async function published(t) {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', repo, '--name', 'example.com/org/policy'], { env });
  cliOk(['publish', repo], { env });
  return { repo, env };
}

const config = async (repo) => JSON.parse(await readFile(path.join(repo, 'cnabsec.json'), 'utf8'));

test('policy set writes the periods to cnabsec.json; new versions take them', async (t) => {
  const { repo, env } = await published(t);
  const out = cliOk(
    [
      'policy',
      'set',
      repo,
      '--expires-timestamp',
      '2d',
      '--expires-snapshot',
      '7d',
      '--expires-targets',
      '90d',
      '--expires-root',
      '365d',
      '--expires-delegated',
      '36h',
    ],
    { env },
  );
  assert.match(out, /^timestamp 1d -> 2d$/m);
  assert.match(out, /^delegated 30d -> 36h$/m);
  const c = await config(repo);
  assert.deepEqual(c.expiry, {
    root: 365 * DAY,
    targets: 90 * DAY,
    snapshot: 7 * DAY,
    timestamp: 2 * DAY,
    delegated: 36 * 3600,
  });
  assert.equal(c.name, 'example.com/org/policy');
  const shown = cliOk(['policy', 'show', repo], { env });
  assert.equal(shown, 'root      365d\ntargets   90d\nsnapshot  7d\ntimestamp 2d\ndelegated 36h\n');
  // resign takes the new targets period
  const staged = JSON.parse(cliOk(['resign', repo, 'targets', '--json'], { env }));
  const days = (Date.parse(staged.expires) - Date.now()) / (DAY * 1000);
  assert.ok(days > 89.9 && days <= 90, `targets expires in ${days} days`);
  // refresh --force takes the new timestamp period
  cliOk(['refresh', repo, '--force'], { env });
  const ts = JSON.parse(await readFile(path.join(repo, 'metadata', 'timestamp.json'), 'utf8'));
  const tsDays = (Date.parse(ts.signed.expires) - Date.now()) / (DAY * 1000);
  assert.ok(tsDays > 1.9 && tsDays <= 2, `timestamp expires in ${tsDays} days`);
});

test('policy set --json: the policy and each change; a timestamp outliving the snapshot is warned about', async (t) => {
  const { repo, env } = await published(t);
  const r = runCli(['policy', 'set', repo, '--expires-timestamp', '3d', '--json'], { env });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.changes, [{ role: 'timestamp', before: DAY, after: 3 * DAY }]);
  assert.equal(j.seconds.timestamp, 3 * DAY);
  assert.equal(j.periods.timestamp, '3d');
  assert.equal(j.warnings.length, 1);
  assert.match(r.stderr, /^cnabsec: warning: timestamp \(3d\) outlives snapshot \(1d\)/);
  const show = JSON.parse(cliOk(['policy', 'show', repo, '--json'], { env }));
  assert.equal(show.periods.timestamp, '3d');
});

test('policy set refuses a bad or too short duration, and nothing at all, writing nothing', async (t) => {
  const { repo, env } = await published(t);
  const before = await snapshotTree(repo);
  for (const [args, status, re] of [
    [
      ['--expires-timestamp', 'abc'],
      2,
      /--expires-timestamp <duration>' argument 'abc' is invalid\. expected a duration such as 30d/,
    ],
    [['--expires-snapshot', '1h'], 2, /snapshot expiry 1h is shorter than 2h/],
    [['--expires-root', '1.5d'], 2, /--expires-root <duration>' argument '1\.5d' is invalid/],
    [[], 1, /^cnabsec: error \[NOTHING_TO_CHANGE\]: no expiry period given\n {2}hint: /],
  ]) {
    const r = runCli(['policy', 'set', repo, ...args], { env });
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(await snapshotTree(repo), before);
});
