// Table-driven TUF scenarios on the in-memory repository simulator. Every scenario is run
// with three independent clients: ours (TrustClient), and the unmodified tuf-js 5 and 6
// Updaters. Positive scenarios must find the target with the right hash; attacks must be
// rejected by all three, ours with the expected error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, NAME, newSigners } from '../helpers/sim.js';
import { listTargets } from '../../dist/tuf/index.js';

const DAY = 86_400_000;
const CLIENTS = ['ours', 'tufjs5', 'tufjs6'];

async function lookup(sim, kind, target, rootVersion = 1) {
  if (kind === 'ours') return (await sim.client(rootVersion)).getTarget(target);
  const u = await sim.tufjs(kind === 'tufjs6' ? 6 : 5, rootVersion);
  await u.refresh();
  const info = await u.getTargetInfo(target);
  if (info === undefined) throw new Error(`tuf-js: ${target} not found`);
  return info;
}

const positive = [
  {
    name: 'fresh repository',
    setup: async (t) => {
      const sim = await Sim.create(t);
      const target = sim.addBundle('v1');
      await sim.publish();
      return { sim, target };
    },
  },
  {
    name: 'after 50 refreshes',
    setup: async (t) => {
      const sim = await Sim.create(t);
      const target = sim.addBundle('v1');
      await sim.publish();
      for (let i = 0; i < 50; i++) await sim.refresh();
      assert.equal(sim.repo.published.get('timestamp').signed.version, 52);
      return { sim, target };
    },
  },
  {
    name: '2-of-3 root and targets thresholds',
    setup: async (t) => {
      const sim = await Sim.create(t, { keys: { root: 3, targets: 3 }, thresholds: { root: 2, targets: 2 } });
      const target = sim.addBundle('v1');
      await sim.publish();
      const targets = JSON.parse(Buffer.from(sim.file('2.targets.json')).toString());
      assert.equal(targets.signatures.length, 2, 'signs up to the threshold, not more');
      return { sim, target };
    },
  },
  {
    name: 'delegated role targets/releases (name with /, URL-encoded file name)',
    setup: async (t) => {
      const sim = await Sim.create(t);
      sim.delegateReleases(2);
      const target = sim.addBundle('v1');
      assert.ok(sim.repo.staged.has('targets/releases'), 'bundle staged in the delegated role');
      await sim.publish();
      assert.ok(sim.file('1.targets%2Freleases.json'), 'delegated metadata served URL-encoded');
      return { sim, target };
    },
  },
  ...['ecdsa', 'rsa'].map((type) => ({
    name: `${type} keys for every role`,
    setup: async (t) => {
      const sim = await Sim.create(t);
      // rotate all top-level roles to keys of `type` through a new root
      const fresh = Object.fromEntries(
        ['root', 'targets', 'snapshot', 'timestamp'].map((r) => [r, newSigners(1, type)[0]]),
      );
      sim.addSigners(Object.values(fresh));
      sim.repo.edit('root', (signed) => {
        for (const [role, s] of Object.entries(fresh)) {
          signed.keys[s.keyid] = s.publicKey;
          signed.roles[role] = { keyids: [s.keyid], threshold: 1 };
        }
      });
      const target = sim.addBundle('v1');
      await sim.publish();
      return { sim, target };
    },
  })),
];

for (const sc of positive) {
  for (const kind of CLIENTS) {
    test(`accept: ${sc.name} [${kind}]`, async (t) => {
      const { sim, target } = await sc.setup(t);
      const info = await lookup(sim, kind, target);
      const listed = listTargets(sim.repo).find((x) => x.name === target);
      assert.equal(info.path, target);
      assert.equal(info.hashes.sha256, listed.hashes.sha256);
      assert.equal(info.length, listed.length);
    });
  }
}

// ---- attacks -----------------------------------------------------------------------------

const attacks = [
  {
    name: 'targets metadata tampered (hash changed, not re-signed)',
    code: 'TUF_UNSIGNED_METADATA',
    tufjs: /signed|signature/i,
    setup: async (t) => {
      const sim = await Sim.create(t);
      const target = sim.addBundle('v1');
      await sim.publish();
      sim.editJson('2.targets.json', (j) => {
        j.signed.targets[target].hashes.sha256 = 'ab'.repeat(32);
      });
      return { sim, target };
    },
  },
  {
    name: 'expired timestamp (freeze attack)',
    code: 'TUF_EXPIRED_METADATA',
    role: 'timestamp',
    tufjs: /expired/i,
    setup: async (t) => {
      const sim = await Sim.create(t, { now: new Date(Date.now() - 3 * DAY) });
      const target = sim.addBundle('v1');
      await sim.publish({ now: new Date(Date.now() - 2 * DAY) });
      return { sim, target };
    },
  },
  {
    name: 'root v2 signed below its threshold (2-of-3, one signature)',
    code: 'TUF_UNSIGNED_METADATA',
    role: 'root',
    tufjs: /signed|signature|threshold/i,
    setup: async (t) => {
      const sim = await Sim.create(t, { keys: { root: 3 }, thresholds: { root: 2 } });
      sim.repo.edit('root', () => {});
      const target = sim.addBundle('v1');
      await sim.publish();
      sim.editJson('2.root.json', (j) => {
        j.signatures = j.signatures.slice(0, 1);
      });
      return { sim, target };
    },
  },
  {
    name: 'mix-and-match: an older snapshot served under the current version',
    code: 'TUF_HASH_MISMATCH',
    tufjs: /hash|length|version/i,
    setup: async (t) => {
      const sim = await Sim.create(t);
      const target = sim.addBundle('v1');
      await sim.publish();
      sim.setFile('2.snapshot.json', sim.file('1.snapshot.json'));
      return { sim, target };
    },
  },
  {
    name: 'unknown target',
    code: 'TARGET_NOT_FOUND',
    tufjs: /not found/,
    setup: async (t) => {
      const sim = await Sim.create(t);
      sim.addBundle('v1');
      await sim.publish();
      return { sim, target: `${NAME}:v9` };
    },
  },
];

for (const sc of attacks) {
  for (const kind of CLIENTS) {
    test(`reject: ${sc.name} [${kind}]`, async (t) => {
      const { sim, target } = await sc.setup(t);
      await assert.rejects(lookup(sim, kind, target), (e) => {
        if (kind === 'ours') {
          assert.equal(e.code, sc.code, e.message);
          if (sc.role) assert.equal(e.details.role, sc.role);
          assert.ok(e.hint, 'has a hint');
        } else assert.match(String(e.message), sc.tufjs);
        return true;
      });
    });
  }
}

test('rollback: a client that saw timestamp v2 refuses v1 [all clients]', async (t) => {
  const sim = await Sim.create(t);
  const target = sim.addBundle('v1');
  await sim.publish();
  const old = sim.file('timestamp.json');
  await sim.refresh();
  // Each client updates once (new Updater objects over persistent caches), then the server rolls back.
  const dirs = { ours: await sim.cacheDir(), 5: await sim.cacheDir(), 6: await sim.cacheDir() };
  await (await sim.client(1, dirs.ours)).getTarget(target);
  await (await sim.tufjs(5, 1, dirs[5])).refresh();
  await (await sim.tufjs(6, 1, dirs[6])).refresh();
  sim.setFile('timestamp.json', old);
  await assert.rejects((await sim.tufjs(5, 1, dirs[5])).refresh(), /version .* less than/i);
  await assert.rejects((await sim.tufjs(6, 1, dirs[6])).refresh(), /version .* less than/i);
  await assert.rejects((await sim.client(1, dirs.ours)).refresh(), (e) => {
    assert.equal(e.code, 'TUF_ROLLBACK');
    assert.equal(e.name, 'BadVersionError');
    assert.equal(e.details.role, 'timestamp');
    assert.equal(e.details.source, 'remote');
    return true;
  });
});

test('target file content tampered: download refused (hash mismatch) [ours, tufjs5]', async (t) => {
  const sim = await Sim.create(t);
  const name = sim.addFile(`${NAME}/in-toto-metadata/root.layout`, 'layout bytes');
  await sim.publish();
  for (const [key, value] of sim.targets)
    sim.targets.set(key, Buffer.from(String(value).replace('layout', 'LAYOUT')));
  const ours = await sim.client();
  const info = await ours.getTarget(name);
  await assert.rejects(ours.downloadTarget(info, `${await sim.cacheDir()}/x`), (e) => {
    assert.equal(e.code, 'TUF_HASH_MISMATCH', e.message);
    return true;
  });
  const u5 = await sim.tufjs(5);
  await u5.refresh();
  await assert.rejects(
    u5.downloadTarget(await u5.getTargetInfo(name), `${await sim.cacheDir()}/y`),
    /hash|length/i,
  );
});
