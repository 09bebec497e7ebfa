// Expiry lifecycle (issue 4, item 4): re-signing after expiry (root included), warnings, and
// client errors for expired metadata that name role, version, expiry and source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTarget, repositoryStatus } from '../../dist/tuf/index.js';
import { CLIENTS, Sim, makeClient, matchesFailure, target } from '../helpers/rotation-sim.js';

const T1 = target('v1');
const DAY = 86_400_000;
const ago = (days) => new Date(Date.now() - days * DAY);

async function publishedAt(days) {
  const sim = await Sim.create({ now: ago(days) });
  addTarget(sim.repo, T1.name, T1.info, undefined, ago(days));
  await sim.publish({ now: ago(days) });
  return sim;
}

test('expiry: expired timestamp; error names role, version, expiry and source; refresh fixes it', async (t) => {
  const sim = await publishedAt(2);
  for (const kind of CLIENTS) {
    const c = await makeClient(t, kind, sim, 1);
    await assert.rejects(c.update(T1.name), (e) => {
      assert.ok(matchesFailure(kind, 'expired', e), `${kind}: ${e.message}`);
      if (kind === 'ours') {
        assert.equal(e.details.role, 'timestamp');
        assert.equal(e.details.version, 1);
        assert.equal(e.details.expires, sim.repo.published.get('timestamp').signed.expires);
        assert.equal(e.details.source, 'remote');
        assert.match(e.message, /timestamp v1 from remote .*timestamp\.json, expires /);
      }
      return true;
    });
  }
  const { refresh } = await import('../../dist/tuf/index.js');
  await refresh(sim.repo, { signers: sim.provider });
  for (const kind of CLIENTS) assert.ok(await (await makeClient(t, kind, sim, 1)).update(T1.name));
});

test('expiry: expired targets is refused at publish, resign renews it, clients update', async (t) => {
  const sim = await publishedAt(40);
  const status = repositoryStatus(sim.repo);
  assert.ok(status.warnings.some((w) => /^targets v1 expired/.test(w)));
  await assert.rejects(sim.publish(), (e) => {
    assert.equal(e.code, 'ROLE_EXPIRED');
    assert.equal(e.details.role, 'targets');
    assert.match(e.hint, /resign <repo> targets/);
    return true;
  });
  sim.repo.edit('targets', () => undefined); // what `cnabsec resign <repo> targets` does
  await sim.publish();
  for (const kind of CLIENTS) assert.ok(await (await makeClient(t, kind, sim, 1)).update(T1.name), kind);
});

test('expiry: an expired root, from the cache, is named; resign root gives clients a way out', async (t) => {
  const sim = await publishedAt(400);
  const clients = [];
  for (const kind of CLIENTS) {
    const c = await makeClient(t, kind, sim, 1);
    await assert.rejects(c.update(T1.name), (e) => {
      assert.ok(matchesFailure(kind, 'expired', e), `${kind}: ${e.message}`);
      if (kind === 'ours') {
        assert.equal(e.details.role, 'root');
        assert.equal(e.details.version, 1);
        assert.equal(e.details.source, 'cache');
        assert.equal(e.details.expires, sim.repo.root.signed.expires);
      }
      return true;
    });
    clients.push(c);
  }
  sim.repo.edit('root', () => undefined);
  sim.repo.edit('targets', () => undefined);
  await sim.publish();
  for (const c of clients) assert.ok(await c.update(T1.name), c.kind);
});

test('expiry: near-expiry warnings', async () => {
  const sim = await publishedAt(0.9); // timestamp and snapshot: 1 day, less than a quarter left
  const w = repositoryStatus(sim.repo).warnings;
  assert.ok(
    w.some((x) => /^timestamp v1 expires in/.test(x)),
    w.join('\n'),
  );
  assert.ok(!w.some((x) => /^root/.test(x)));
});
