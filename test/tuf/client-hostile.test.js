// A hostile metadata server (ADR 0009): an unauthenticated server or a man in the middle
// serves a new root of ~100 KB with a huge `_type`, deep nesting, a root whose role map makes
// @tufjs/models quadratic, an endless body, a slow drip, no answer at all, and targets metadata
// of the right length full of delegations. Every lookup must end with a typed error code and a
// bounded message; "ends" is asserted only through the test timeout (generous), not as speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FileFetcher,
  HttpFetcher,
  TrustClient,
  wrapClientError,
  tufjsHooksApplicable,
  HOOKED_TUFJS_VERSION,
} from '../../dist/tuf/index.js';
import { ExpiredMetadataError, RuntimeError } from 'tuf-js/dist/error.js';
import { ValueError } from '@tufjs/models';
import { createRequire } from 'node:module';
import { Sim, NAME } from '../helpers/sim.js';
import { tempDir } from '../helpers/tmp.js';

const require = createRequire(import.meta.url);
const TIMEOUT = { timeout: 120_000 };
const MAX_MESSAGE = 2000;

/** Serves the sim's metadata under /metadata, except `attacks` (file name → handler). */
async function hostileServer(t, sim, attacks) {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/metadata\//, ''));
    const attack = attacks[name];
    if (attack !== undefined) return attack(req, res);
    const bytes = sim.file(name);
    if (bytes === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from(bytes));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return `http://127.0.0.1:${server.address().port}/metadata`;
}

const json = (text) => (_req, res) => res.writeHead(200).end(text);

/** Writes `chunk` every `ms` until the client goes away. */
const drip = (chunk, ms) => (req, res) => {
  res.writeHead(200);
  const timer = setInterval(() => res.write(chunk), ms);
  res.on('close', () => clearInterval(timer));
  req.on('close', () => clearInterval(timer));
};

async function lookupFails(t, attacks, { code, role, problem, setup } = {}) {
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  if (setup) await setup(sim);
  await sim.publish();
  const url = await hostileServer(t, sim, typeof attacks === 'function' ? attacks(sim) : attacks);
  const client = new TrustClient({
    name: NAME,
    metadataUrl: url,
    cacheDir: await sim.cacheDir(),
    fetcher: new HttpFetcher({ timeoutMs: 1500, minBytesPerSecond: 1 << 20 }),
  });
  const e = await client.getTarget(`${NAME}:v1`).then(
    () => assert.fail('the lookup succeeded'),
    (err) => err,
  );
  assert.equal(e.code, code, e.message.slice(0, 500));
  if (role !== undefined) assert.equal(e.details.role, role);
  if (problem !== undefined) assert.match(e.details.problem ?? e.message, problem);
  assert.ok(e.hint, 'has a hint');
  assert.ok(e.message.length < MAX_MESSAGE, `message of ${e.message.length} characters`);
}

const AAAA = 'a'.repeat(100_000);

test('hostile root: a huge _type is refused with TUF_METADATA_INVALID and a bounded message', TIMEOUT, (t) =>
  lookupFails(
    t,
    { '2.root.json': json(`{"signatures":[],"signed":{"_type":"${AAAA}"}}`) },
    {
      code: 'TUF_METADATA_INVALID',
      role: 'root',
      problem: /_type/,
    },
  ),
);

test('hostile root: nesting 100 000 deep is refused before anything walks it', TIMEOUT, (t) =>
  lookupFails(
    t,
    { '2.root.json': json(`{"signatures":[],"signed":${'['.repeat(100_000)}`) },
    {
      code: 'TUF_METADATA_INVALID',
      role: 'root',
      problem: /JSON_TOO_DEEP/,
    },
  ),
);

test(
  'hostile root: thousands of roles (quadratic in @tufjs/models) are refused before parsing',
  TIMEOUT,
  (t) => {
    const roles = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`r${i}`, { keyids: [], threshold: 1 }]),
    );
    const signed = { _type: 'root', spec_version: '1.0.31', version: 2, expires: '2100-01-01T00:00:00Z' };
    const body = JSON.stringify({ signatures: [], signed: { ...signed, keys: {}, roles } });
    assert.ok(body.length < 128 * 1024);
    return lookupFails(
      t,
      { '2.root.json': json(body) },
      {
        code: 'TUF_METADATA_INVALID',
        role: 'root',
        problem: /3000 roles/,
      },
    );
  },
);

test('hostile root: a root over 128 KiB is not downloaded past the limit', TIMEOUT, (t) =>
  lookupFails(
    t,
    { '2.root.json': json(`{"signatures":[],"signed":{"x":"${'b'.repeat(200_000)}"}}`) },
    {
      code: 'TUF_DOWNLOAD_TOO_LONG',
    },
  ),
);

test('hostile server: an endless body ends at the length cap', TIMEOUT, (t) =>
  lookupFails(
    t,
    { '2.root.json': drip(Buffer.alloc(64 * 1024, 0x20), 1) },
    { code: 'TUF_DOWNLOAD_TOO_LONG' },
  ),
);

test('hostile server: a slow drip ends at the download budget', TIMEOUT, (t) =>
  lookupFails(t, { 'timestamp.json': drip(' ', 50) }, { code: 'TUF_DOWNLOAD_TIMEOUT' }),
);

test('hostile server: no answer at all ends at the answer timeout (server unreachable)', TIMEOUT, (t) =>
  lookupFails(t, { 'timestamp.json': () => undefined }, { code: 'TUF_SERVER_UNREACHABLE' }),
);

test('hostile server: timestamp of another _type', TIMEOUT, (t) =>
  lookupFails(t, (sim) => ({ 'timestamp.json': json(sim.file('1.root.json')) }), {
    code: 'TUF_METADATA_INVALID',
    role: 'timestamp',
    problem: /_type is "root"/,
  }),
);

test(
  'hostile server: targets of the listed length full of delegations (parsed before its signature)',
  TIMEOUT,
  (t) =>
    lookupFails(
      t,
      (sim) => {
        const real = sim.file('2.targets.json');
        const roles = Array.from({ length: 1500 }, (_, i) => ({
          name: `r${i}`,
          keyids: [],
          threshold: 1,
          terminating: false,
          paths: [],
        }));
        const signed = {
          _type: 'targets',
          spec_version: '1.0.31',
          version: 2,
          expires: '2100-01-01T00:00:00Z',
        };
        const text = JSON.stringify({
          signatures: [],
          signed: { ...signed, targets: {}, delegations: { keys: {}, roles } },
        });
        assert.ok(text.length <= real.length, `${text.length} > ${real.length}`);
        return { '2.targets.json': json(text.padEnd(real.length, ' ')) };
      },
      {
        code: 'TUF_METADATA_INVALID',
        role: 'targets',
        problem: /1500 delegated roles/,
        setup: (sim) => {
          for (let i = 0; i < 1500; i++) sim.addBundle(`v${i + 2}`);
        },
      },
    ),
);

test(
  'hostile file:// repository: a FIFO where timestamp.json should be is refused, not waited on',
  TIMEOUT,
  async (t) => {
    const sim = await Sim.create(t);
    const dir = await tempDir(t);
    await writeFile(path.join(dir, '1.root.json'), sim.file('1.root.json'));
    execFileSync('mkfifo', [path.join(dir, 'timestamp.json')]);
    const client = new TrustClient({
      name: NAME,
      metadataUrl: pathToFileURL(dir).href,
      cacheDir: await sim.cacheDir(),
      fetcher: new FileFetcher(),
    });
    await assert.rejects(client.refresh(), (e) => {
      assert.equal(e.code, 'TUF_DOWNLOAD_FAILED', e.message);
      assert.match(e.message, /not a regular file/);
      return true;
    });
  },
);

test(
  'wrapClientError: a tuf-js error repeating 100 KB of attacker text is classified by class, message bounded',
  TIMEOUT,
  () => {
    const fetched = [{ url: `https://x.example/${'%'.repeat(50_000)}${AAAA}.json` }];
    const expired = new ExpiredMetadataError(`${AAAA}.json is expired`);
    const cases = [
      [
        new ValueError(`expected 'root', got ${AAAA}.json is expired of ${AAAA}`),
        undefined,
        'TUF_METADATA_INVALID',
      ],
      [
        new RuntimeError(`Unable to load snapshot metadata error ${AAAA} version signed by ${AAAA}`),
        undefined,
        'TUF_UPDATE_FAILED',
      ],
      [
        new RuntimeError(`Unable to load snapshot metadata error ${AAAA}`),
        { kind: 'verify', role: 'snapshot', error: expired },
        'TUF_EXPIRED_METADATA',
      ],
    ];
    for (const [e, lastAttempt, code] of cases) {
      const wrapped = wrapClientError(e, NAME, { fetched, lastAttempt });
      assert.ok(wrapped.message.length < MAX_MESSAGE, `${wrapped.message.length}`);
      assert.equal(wrapped.code, code);
      if (lastAttempt) assert.equal(wrapped.details.role, 'snapshot');
    }
    // the former signature (a list of downloads) still works
    assert.equal(wrapClientError(new ValueError('bad'), NAME, fetched).code, 'TUF_METADATA_INVALID');
  },
);

test('tuf-js hooks: written for the installed tuf-js; a version bump fails here', async (t) => {
  assert.equal(require('tuf-js/package.json').version, HOOKED_TUFJS_VERSION);
  assert.equal(require('../../package.json').dependencies['tuf-js'], HOOKED_TUFJS_VERSION);
  const sim = await Sim.create(t);
  const client = await sim.client();
  assert.equal(tufjsHooksApplicable(client.updater), true);
});
