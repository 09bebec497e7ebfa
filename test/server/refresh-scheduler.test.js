// RefreshScheduler (src/server/refresh.ts): injected timers, one tick at a time, stop() awaits
// the tick in flight, errors go to onError and the schedule goes on. No real clock involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefreshScheduler } from '../../dist/server/refresh.js';
import { NAME } from '../helpers/sim.js';
import { fullUpload, openServer, serverManagedRepo } from '../helpers/service.js';

/** Timers that fire only when the test says so. */
function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    pending,
    setTimer: (fn, ms) => {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimer: (id) => pending.delete(id),
    /** Fire the only pending timer. */
    fire() {
      assert.equal(pending.size, 1, 'exactly one timer is pending');
      const [[id, { fn }]] = pending;
      pending.delete(id);
      fn();
    },
  };
}

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = () => new Promise((r) => setImmediate(r));

test('scheduler: ticks refresh a real service on the injected clock', async (t) => {
  const server = await openServer(t);
  const sim = await serverManagedRepo(t, server, { now: server.now() });
  await server.service.publish(NAME, fullUpload(sim));
  const timers = fakeTimers();
  const s = new RefreshScheduler({ service: server.service, intervalMs: 60_000, ...timers });
  s.start();
  s.start(); // idempotent
  assert.equal(timers.pending.size, 1);
  assert.equal([...timers.pending.values()][0].ms, 60_000);
  assert.deepEqual(await s.tick(), [], 'nothing due yet');
  server.now.advance(13 * 3600);
  const results = await s.tick();
  assert.deepEqual(
    results.map((r) => [r.repo, r.signed.map((x) => x.version)]),
    [[NAME, [2]]],
  );
  timers.fire();
  await settle();
  assert.equal(timers.pending.size, 1, 'rescheduled after the tick');
  await s.stop();
  assert.equal(timers.pending.size, 0);
  assert.equal(s.started, false);
});

test('scheduler: one tick at a time; stop() waits for it; errors go to onError and the schedule goes on', async () => {
  const calls = [];
  let gate = deferred();
  const service = {
    refreshDue: (limit) => {
      calls.push(limit);
      return gate.promise;
    },
  };
  const errors = [];
  const timers = fakeTimers();
  const s = new RefreshScheduler({
    service,
    intervalMs: 10,
    limit: 7,
    onError: (e) => errors.push(e.message),
    ...timers,
  });
  s.start();
  timers.fire();
  const again = s.tick();
  assert.deepEqual(calls, [7], 'a tick while one runs joins it');
  assert.equal(timers.pending.size, 0, 'not rescheduled while the tick runs');
  gate.reject(new Error('store down'));
  await assert.rejects(again, /store down/);
  await settle();
  assert.deepEqual(errors, ['store down']);
  assert.equal(timers.pending.size, 1, 'rescheduled after a failed tick');

  gate = deferred();
  timers.fire();
  let stopped = false;
  const stopping = s.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false, 'stop() waits for the tick in flight');
  gate.resolve([]);
  await stopping;
  await settle();
  assert.equal(timers.pending.size, 0, 'no tick after stop()');
  assert.deepEqual(calls, [7, 7]);
});

test('scheduler: default timers started and cleared; intervalMs must be positive', async () => {
  const s = new RefreshScheduler({ service: { refreshDue: async () => [] }, intervalMs: 3_600_000 });
  s.start();
  assert.equal(s.started, true);
  await s.stop();
  assert.equal(s.started, false);
  assert.throws(
    () => new RefreshScheduler({ service: { refreshDue: async () => [] }, intervalMs: 0 }),
    RangeError,
  );
});

test('scheduler: a refreshDue that throws synchronously is an onError, not a crash in the timer', async () => {
  const timers = fakeTimers();
  const errors = [];
  const service = {
    refreshDue: () => {
      throw new Error('not a promise');
    },
  };
  const s = new RefreshScheduler({
    service,
    intervalMs: 5,
    onError: (e) => errors.push(e.message),
    ...timers,
  });
  s.start();
  timers.fire();
  await settle();
  assert.deepEqual(errors, ['not a promise']);
  assert.equal(timers.pending.size, 1);
  await s.stop();
});
