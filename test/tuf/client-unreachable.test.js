// A metadata server that cannot be reached (issue 12, item 4): lookup, list and verify print
// one line naming the URL and the network error in words ("connection refused", "timed out
// after 1 s", "host not found"), code TUF_SERVER_UNREACHABLE, and a hint to check the URL and
// the server — never one to `trust reset`. The answer timeout is CNABSEC_HTTP_TIMEOUT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { Sim, NAME } from '../helpers/sim.js';
import { serveDir, writeMetadata } from '../helpers/client-repo.js';
import { tempDir } from '../helpers/tmp.js';
import { HttpFetcher, TrustClient, httpTimeoutMs, networkProblem } from '../../dist/tuf/index.js';

const HINT = '  hint: check the URL (`cnabsec trust list`) and that the server is running';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A home trusting NAME (root v1 of a published sim) at `url`; and a thin bundle file. */
async function trusting(t, url) {
  const sim = await Sim.create(t);
  sim.addBundle('v1');
  await sim.publish();
  const dir = await tempDir(t);
  const metadata = await writeMetadata(sim, dir);
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CI: 'true' };
  cliOk(['trust', 'add', NAME, '--root', path.join(metadata, '1.root.json'), '--url', url], { env });
  const bundle = path.join(dir, 'bundle.json');
  await writeFile(bundle, '{"name":"x"}');
  return { env, dir, metadata, bundle };
}

function assertUnreachable(r, url, words, label) {
  assert.equal(r.status, 1, `${label}: ${r.stderr}`);
  assert.equal(r.stdout, '', label);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `${label}: ${r.stderr}`);
  assert.match(lines[0], /^cnabsec: error \[TUF_SERVER_UNREACHABLE\]: /, label);
  assert.ok(lines[0].includes(url), `${label}: names the URL: ${lines[0]}`);
  assert.ok(lines[0].endsWith(words), `${label}: says ${words}: ${lines[0]}`);
  assert.equal(lines[1], HINT, label);
  assert.doesNotMatch(r.stderr, /trust reset|\n\s+at /, label);
}

test('connection refused: lookup, list and verify say so, with the URL, exit 1', async (t) => {
  const url = `http://127.0.0.1:${await closedPort()}/metadata`;
  const { env, bundle } = await trusting(t, url);
  for (const args of [
    ['lookup', `${NAME}:v1`],
    ['list', NAME],
    ['verify', `${NAME}:v1`, '--thin', bundle],
  ]) {
    assertUnreachable(runCli(args, { env }), url, 'connection refused', args[0]);
  }
  const j = runCli(['lookup', `${NAME}:v1`, '--json'], { env });
  const { error } = JSON.parse(j.stdout);
  assert.equal(error.code, 'TUF_SERVER_UNREACHABLE');
  assert.equal(error.details.problem, 'connection refused');
  assert.equal(error.details.errno, 'ECONNREFUSED');
});

test('a server that accepts and never answers: timed out after CNABSEC_HTTP_TIMEOUT', async (t) => {
  const dir = await tempDir(t);
  const base = await serveDir(t, dir, 'silent');
  const url = `${base}/metadata`;
  const { env } = await trusting(t, url);
  const started = Date.now();
  const r = runCli(['lookup', `${NAME}:v1`], { env: { ...env, CNABSEC_HTTP_TIMEOUT: '1s' } });
  assertUnreachable(r, url, 'timed out after 1 s', 'silent');
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  const bad = runCli(['lookup', `${NAME}:v1`], { env: { ...env, CNABSEC_HTTP_TIMEOUT: 'soon' } });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(
    bad.stderr,
    /^cnabsec: error \[INVALID_ARGUMENT\]: CNABSEC_HTTP_TIMEOUT="soon" is not a duration\n {2}hint: /,
  );
});

test('TLS failure: https:// to a server speaking plain HTTP', async (t) => {
  const dir = await tempDir(t);
  const base = await serveDir(t, dir);
  const url = `${base.replace(/^http:/, 'https:')}/metadata`;
  const { env } = await trusting(t, url);
  assertUnreachable(runCli(['list', NAME], { env }), url, 'TLS error (ERR_SSL_WRONG_VERSION_NUMBER)', 'tls');
});

test('host not found (DNS), through the library client', async (t) => {
  const sim = await Sim.create(t);
  const client = new TrustClient({
    name: NAME,
    metadataUrl: 'http://cnabsec-test.invalid/metadata',
    cacheDir: await sim.cacheDir(),
    fetcher: new HttpFetcher({ timeoutMs: 10_000 }),
  });
  await assert.rejects(client.refresh(), (e) => {
    assert.equal(e.code, 'TUF_SERVER_UNREACHABLE', e.message);
    assert.match(
      e.message,
      /^cannot reach "http:\/\/cnabsec-test\.invalid\/metadata\/2\.root\.json": host not found/,
    );
    assert.doesNotMatch(e.hint, /trust reset/);
    return true;
  });
});

test('networkProblem: classified by the codes of the cause chain, never by the message', () => {
  const fetchFailed = (cause) => Object.assign(new TypeError('fetch failed'), { cause });
  const cases = [
    [fetchFailed({ code: 'ECONNREFUSED' }), 'connection refused'],
    [fetchFailed({ code: 'ENOTFOUND' }), 'host not found'],
    [fetchFailed({ code: 'EAI_AGAIN' }), 'host not found (temporary DNS failure)'],
    [fetchFailed({ code: 'UND_ERR_CONNECT_TIMEOUT' }), 'connection timed out'],
    [fetchFailed({ code: 'ECONNRESET' }), 'connection reset by the server'],
    [fetchFailed({ code: 'CERT_HAS_EXPIRED' }), 'TLS error (CERT_HAS_EXPIRED)'],
    [fetchFailed({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'TLS error (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    [fetchFailed({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'TLS error (ERR_TLS_CERT_ALTNAME_INVALID)'],
    [fetchFailed({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'TLS error (ERR_SSL_WRONG_VERSION_NUMBER)'],
    [fetchFailed(Object.assign(new AggregateError([{ code: 'ECONNREFUSED' }]), {})), 'connection refused'],
  ];
  for (const [e, words] of cases) assert.equal(networkProblem(e)?.words, words, words);
  assert.equal(networkProblem(fetchFailed(new Error('ECONNREFUSED in the text only'))), undefined);
  assert.equal(networkProblem(new Error('bad port')), undefined);
  assert.equal(httpTimeoutMs({}), 30_000);
  assert.equal(httpTimeoutMs({ CNABSEC_HTTP_TIMEOUT: '90s' }), 90_000);
  assert.equal(httpTimeoutMs({ CNABSEC_HTTP_TIMEOUT: '2m' }), 120_000);
  assert.throws(() => httpTimeoutMs({ CNABSEC_HTTP_TIMEOUT: '10' }), { code: 'INVALID_ARGUMENT' });
});
