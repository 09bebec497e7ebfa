// The crash suites of the metadata repository server (issue 15 item 4), on any backend:
// `runCrashSuite(t, {db})` kills `cnabsec server` with SIGKILL at least `kills` times during a
// stream of concurrent uploads (two clients on each of two repositories, one client on two
// others; timestamp-only and snapshot+timestamp held by the server) and checks every
// repository after each restart (./crash-kit.js `checkRepository`); `runRefreshCrashSuite(t,
// {db})` kills it while the scheduler re-signs timestamps and snapshots. `db()` resolves to the
// `--db` argument: a SQLite path, or a postgres:// URL. The seed (CRASH_SEED=<n> to replay the
// kill modes and delays) is printed as a diagnostic and in every failure.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { Metadata } from '@tufjs/models';
import '../../dist/tuf/models-patch.js';
import { masterKeyHex } from './server-process.js';
import {
  CrashServer,
  Gate,
  Ledger,
  checkRepository,
  clientRepo,
  getMeta,
  nextUpload,
  postUpload,
  prng,
  sleep,
  tufjsAt,
} from './crash-kit.js';
import { tempDir } from './tmp.js';

const TS = ['timestamp'];
const SNAP_TS = ['snapshot', 'timestamp'];
const SPECS = [
  { name: 'example.com/crash/shared', managed: TS, clients: 2 },
  { name: 'example.com/crash/shared-snap', managed: SNAP_TS, clients: 2 },
  { name: 'example.com/crash/solo', managed: TS, clients: 1 },
  { name: 'example.com/crash/solo-snap', managed: SNAP_TS, clients: 1 },
];
const MODES = ['idle', 'mid-body', 'body-sent', 'after-200', 'any-time'];
const EVENT = { 'mid-body': 'mid-body', 'body-sent': 'sent', 'after-200': 'accepted' };

export function seedOf() {
  const env = process.env.CRASH_SEED;
  return env !== undefined && env !== '' ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}

/** One client's upload loop until `run.stop`: see the module comment of ./crash-kit.js. */
async function clientLoop(run, client, id) {
  let seq = 0;
  while (!run.stop) {
    await run.gate.wait();
    if (run.stop) return;
    run.gate.enter();
    try {
      const url = run.server.url;
      const up = await nextUpload(url, client, `${client.name}:c${id}-${++seq}`).catch(() => undefined);
      if (up === undefined) continue; // the server died under the GET
      run.ledger.sent(up);
      const pauseMs = run.rand() < 0.4 ? 15 + Math.floor(run.rand() * 30) : 0;
      const res = await postUpload(url, client.name, up.files, {
        pauseMs,
        onMidBody: () => run.events.emit('mid-body'),
        onSent: () => run.events.emit('sent'),
      });
      run.ledger.record(up, res);
      if (res.status === 200) run.events.emit('accepted');
    } finally {
      run.gate.leave();
    }
  }
}

/** Kill the server the way `mode` says; resolves once it is gone. */
async function killBy(run, mode) {
  const { server, events, rand } = run;
  await sleep(Math.floor(rand() * 150)); // uploads run for a while first
  if (mode === 'idle') {
    run.gate.close();
    await run.gate.settled();
  } else if (EVENT[mode] !== undefined) {
    const event = EVENT[mode];
    // killed inside the emit (the body is half sent / its 200 was just read), or up to 20ms
    // after the whole body was sent (while the server validates, signs and commits it)
    const delay = mode === 'body-sent' ? Math.floor(rand() * 20) : -1;
    const killed = new Promise((resolve) => {
      const kill = () => {
        server.proc.child.kill('SIGKILL');
        resolve(true);
      };
      const onEvent = () => (delay < 0 ? kill() : setTimeout(kill, delay));
      events.once(event, onEvent);
      sleep(2000).then(() => {
        events.off(event, onEvent);
        resolve(false);
      });
    });
    if (!(await killed)) run.modeMisses++;
  } else await sleep(Math.floor(rand() * 200));
  run.gate.close();
  await server.kill();
  await run.gate.settled();
}

/** Check every repository; the message names the kill and the seed. */
async function checkAll(run, where) {
  await Promise.all(
    run.clients.map((c, i) =>
      checkRepository(run.server.url, c, run.ledger, path.join(run.dir, `tuf-${i}`), where),
    ),
  );
}

export async function runCrashSuite(t, { db, kills = 50, seed = seedOf() }) {
  t.diagnostic(`crash seed ${seed} (CRASH_SEED=${seed} replays its kill modes and delays)`);
  const dir = await tempDir(t, 'cnabsec-crash-');
  const server = await new CrashServer(t, await db(dir), {
    CNABSEC_SERVER_MASTER_KEY: masterKeyHex(),
  }).start();
  const clients = await Promise.all(SPECS.map((s) => clientRepo(server.url, s.name, s.managed)));
  const run = {
    server,
    clients,
    dir,
    rand: prng(seed),
    gate: new Gate(),
    ledger: new Ledger(),
    events: new EventEmitter(),
    stop: false,
    modeMisses: 0,
  };
  run.events.setMaxListeners(0);
  const loops = SPECS.flatMap((s, i) =>
    Array.from({ length: s.clients }, (_, k) => clientLoop(run, clients[i], `${i}${k}`)),
  );
  const modes = new Map();
  try {
    for (let k = 1; k <= kills; k++) {
      const mode = MODES[Math.floor(run.rand() * MODES.length)];
      modes.set(mode, (modes.get(mode) ?? 0) + 1);
      await killBy(run, mode);
      await server.start();
      await checkAll(run, `seed ${seed}, after kill ${k} (${mode})`);
      run.gate.open();
    }
  } finally {
    run.stop = true;
    run.gate.open();
    await Promise.all(loops);
  }
  await checkAll(run, `seed ${seed}, at the end`);
  const { counts } = run.ledger;
  t.diagnostic(
    `kills by mode ${JSON.stringify(Object.fromEntries(modes))} (mode waits that timed out: ${run.modeMisses}); uploads ${JSON.stringify(counts)}; refusals ${JSON.stringify(Object.fromEntries(run.ledger.refusedCodes))}`,
  );
  assert.equal(server.starts, kills + 1);
  assert.ok(counts.accepted >= kills / 2, `seed ${seed}: only ${counts.accepted} uploads accepted`);
  assert.ok(counts.cut > 0, `seed ${seed}: no upload was cut by a kill`);
  assert.equal(counts.refused, 0, `seed ${seed}: refused other than 409: ${[...run.ledger.refusedCodes]}`);
  return run;
}

const json = (b) => JSON.parse(b.toString('utf8'));

/** Current timestamp: its version and the snapshot version it lists (undefined when none). */
async function timestampOf(url, repo) {
  const b = await getMeta(url, repo, 'timestamp.json');
  if (b === undefined) return undefined;
  const s = json(b).signed;
  return { version: s.version, snapshot: s.meta['snapshot.json'].version, bytes: b };
}

/** Whether, within `ms`, a GET /healthz went 15ms without an answer (the server is busy). */
async function blocked(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const answered = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(15) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (!answered) return true;
    await sleep(1);
  }
  return false;
}

async function versionsOf(url, names) {
  const out = new Map();
  for (const n of names) out.set(n, (await timestampOf(url, n)).version);
  return out;
}

/** TUF §5.4/§5.5: the served `bytes` of `role` meet its threshold under the served root (expired or not). */
async function assertSigned(url, repo, role, bytes, where) {
  const root = Metadata.fromJSON('root', json(await getMeta(url, repo, 'root.json')));
  assert.doesNotThrow(
    () => root.verifyDelegate(role, Metadata.fromJSON(role, json(bytes))),
    `${where}: ${repo} ${role}`,
  );
}

/** Until every repository passes tuf-js (timestamp not expired, signed): bounded by `ms`. */
async function allFresh(run, where, ms) {
  const deadline = Date.now() + ms;
  const fresh = async (c, i) => {
    for (;;) {
      const updater = await tufjsAt(path.join(run.dir, `tuf-${i}`), run.server.url, c.name, c.rootBytes);
      const err = await updater.refresh().then(
        () => undefined,
        (e) => e,
      );
      if (err === undefined) return;
      if (Date.now() > deadline) assert.fail(`${where}: ${c.name} not fresh again: ${err.message}`);
      await sleep(100);
    }
  };
  await Promise.all(run.clients.map(fresh));
}

/**
 * Kill during the scheduled refresh: short expiries and a 1s tick, so every tick re-signs
 * every repository; half the kills right when one repository's timestamp changed (the tick in
 * progress), half at random. After each restart every timestamp lists a stored snapshot, no
 * version went back, and within a few ticks tuf-js accepts every repository again.
 */
export async function runRefreshCrashSuite(t, { db, kills = 8, repos = 40, seed = seedOf() }) {
  t.diagnostic(`refresh crash seed ${seed}`);
  const rand = prng(seed);
  const dir = await tempDir(t, 'cnabsec-crash-refresh-');
  const server = await new CrashServer(t, await db(dir), {
    CNABSEC_SERVER_MASTER_KEY: masterKeyHex(),
    CNABSEC_SERVER_REFRESH_INTERVAL: '1s',
    CNABSEC_SERVER_TIMESTAMP_EXPIRY: '4s',
    CNABSEC_SERVER_SNAPSHOT_EXPIRY: '6s',
  }).start();
  const names = Array.from({ length: repos }, (_, i) => `example.com/refresh/r${i}`);
  const clients = await Promise.all(
    names.map((n, i) => clientRepo(server.url, n, i % 2 === 0 ? TS : SNAP_TS)),
  );
  await Promise.all(
    clients.map(async (c) => {
      const up = await nextUpload(server.url, c, `${c.name}:v1`);
      const res = await postUpload(server.url, c.name, up.files);
      assert.equal(res.status, 200, JSON.stringify(res.json));
    }),
  );
  const run = { server, clients, dir, misses: 0 };
  const last = new Map();
  let midTick = 0;
  for (let k = 1; k <= kills; k++) {
    const where = `seed ${seed}, refresh kill ${k}`;
    // half the kills while a tick runs: the server re-signs without yielding to its event
    // loop, so a health check left unanswered for 15ms means a tick is under way; the other
    // half at random
    let before;
    if (rand() < 0.5) {
      before = await versionsOf(server.url, names);
      if (!(await blocked(server.url, 5000))) run.misses++;
    } else await sleep(Math.floor(rand() * 2500));
    await server.kill();
    await server.start();
    for (const n of names) {
      const ts = await timestampOf(server.url, n);
      assert.ok(ts !== undefined, `${where}: ${n} has no timestamp`);
      assert.ok(ts.version >= (last.get(n) ?? 0), `${where}: ${n} timestamp went back`);
      await assertSigned(server.url, n, 'timestamp', ts.bytes, where);
      const snap = await getMeta(server.url, n, `${ts.snapshot}.snapshot.json`);
      assert.ok(snap !== undefined, `${where}: ${n} timestamp lists snapshot v${ts.snapshot}, not stored`);
      await assertSigned(server.url, n, 'snapshot', snap, where);
      last.set(n, ts.version);
    }
    // some re-signed by the cut tick, some not yet
    const moved = before && names.filter((n) => last.get(n) > before.get(n)).length;
    if (moved > 0 && moved < names.length) midTick++;
    await allFresh(run, where, 10_000);
  }
  t.diagnostic(
    `kills seen to cut a tick between repositories: ${midTick} of ${kills} (busy server not seen: ${run.misses})`,
  );
}
