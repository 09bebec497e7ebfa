// Three `cnabsec server` processes on one SQLite file (issue 13 items 1 and 6, ADR 0020/0024):
// concurrent first uploads of one repository (one wins; every other one is 409 VERSION_CONFLICT,
// whether it lost the commit race or was validated after the winner's commit) and of different
// repositories (all stored). Afterwards every accepted
// upload is in the file byte for byte, and nothing of a refused one. And the first request for
// a repository's timestamp key, in all three at once, creates one key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { openSqliteStore } from '../../dist/server/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import {
  developerRepo,
  fullUpload,
  masterKeyHex,
  startServerProcess,
  upload,
} from '../helpers/server-process.js';

const SAME = 'example.com/org/same';
const stale = (r) => r.status === 409 && r.json.errors[0].code === 'VERSION_CONFLICT';

test('run: three processes on one file, concurrent publishes to the same and to different repositories', async (t) => {
  const dir = await tempDir(t);
  const db = path.join(dir, 'shared.db');
  const env = { CNABSEC_SERVER_MASTER_KEY: masterKeyHex() };
  // started together: the three open and migrate the new file at once
  const servers = await Promise.all([0, 1, 2].map(() => startServerProcess(t, ['--db', db], { env })));
  const same = await Promise.all(Array.from({ length: 6 }, () => developerRepo(t, SAME)));
  const others = await Promise.all(
    Array.from({ length: 6 }, (_, i) => developerRepo(t, `example.com/org/app-${i}`)),
  );
  const jobs = [
    ...same.map((sim, i) => ({ repo: SAME, files: fullUpload(sim), server: servers[i % 3] })),
    ...others.map((sim, i) => ({
      repo: `example.com/org/app-${i}`,
      files: fullUpload(sim),
      server: servers[(i + 1) % 3],
    })),
  ];
  const results = await Promise.all(jobs.map((j) => upload(j.server.url, j.repo, j.files)));
  const sameResults = results.slice(0, 6);
  t.diagnostic(
    `same repository: ${sameResults.map((r) => r.json.errors?.[0].detail?.code ?? r.status).join(' ')}`,
  );
  const won = sameResults.filter((r) => r.status === 200);
  assert.equal(won.length, 1, JSON.stringify(sameResults.map((r) => r.status)));
  for (const r of sameResults) if (r.status !== 200) assert.ok(stale(r), JSON.stringify(r.json));
  for (const r of results.slice(6)) assert.equal(r.status, 200, JSON.stringify(r.json));
  const winner = jobs[sameResults.findIndex((r) => r.status === 200)];
  // each process serves what another one stored
  for (const s of servers) {
    const root = await fetch(`${s.url}/v2/${SAME}/_trust/tuf/root.json`);
    assert.equal(root.status, 200);
    assert.ok(
      Buffer.from(await root.arrayBuffer()).equals(winner.files.find((f) => f.role === 'root').bytes),
    );
  }
  // the first GET …/timestamp.key of a repository, in every process at once: one key
  const keyids = await Promise.all(
    [...servers, ...servers].map(async (s) => {
      const r = await fetch(`${s.url}/v2/example.com/org/keyed/_trust/tuf/timestamp.key`);
      assert.equal(r.status, 200);
      return r.headers.get('x-cnabsec-keyid');
    }),
  );
  assert.match(keyids[0], /^[0-9a-f]{64}$/);
  assert.deepEqual(new Set(keyids), new Set([keyids[0]]), keyids.join(' '));
  for (const s of servers) s.child.kill('SIGTERM');
  for (const s of servers) assert.deepEqual(await s.exited, { code: 0, signal: null }, s.stderr());
  const store = await openSqliteStore({ path: db });
  t.after(() => store.close());
  for (const j of [winner, ...jobs.slice(6)]) {
    for (const f of j.files) {
      const stored = await store.getCurrent(j.repo, f.role);
      assert.ok(stored !== undefined && Buffer.from(stored.bytes).equals(f.bytes), `${j.repo} ${f.role}`);
      assert.equal(stored.version, 1, `${j.repo} ${f.role}: stored once`);
    }
  }
});
