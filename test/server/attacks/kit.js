// The attack suite's harness (test/server/attacks/*.test.js): a published repository on the
// real stack (test/helpers/server-app.js), raw HTTP requests that no client library normalises
// (node:http sends the path as given: `..`, `%2e%2e`, NUL stay as they are), and the proof that
// a refused attack stored nothing: the store state and every file a client could fetch, before
// and after (as test/server/api-refused.test.js).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { NAME } from '../../helpers/sim.js';
import { LAYOUT } from '../../helpers/upload.js';
import { addBundleUpload, fullUpload, parseJson, serverManagedRepo } from '../../helpers/service.js';
import { httpUpload, startServerApp, trustBase } from '../../helpers/server-app.js';

export const sha = (b) => createHash('sha256').update(b).digest('hex');
export const LAYOUT_BYTES = Buffer.from('{"_type":"layout","steps":[]}');
const asServer = (srv) => ({ service: srv.service, keys: srv.keys, now: srv.now });

/**
 * A server-managed-timestamp repository NAME with one accepted upload (a layout), the next
 * release staged (`next`, not uploaded), and the simulator (`sim`) to forge more.
 */
export async function published(t, options = {}) {
  const srv = await startServerApp(t, options);
  const sim = await serverManagedRepo(t, asServer(srv), { now: srv.now() });
  sim.addFile(LAYOUT, LAYOUT_BYTES);
  await sim.publish({ now: srv.now() });
  const first = fullUpload(sim);
  const up = await httpUpload(srv.url, NAME, [...first, { path: LAYOUT, bytes: LAYOUT_BYTES }]);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  const next = await addBundleUpload(sim, 'v1', ['timestamp'], srv.now());
  return { srv, sim, first, next };
}

/** The repositories a test looks at: NAME and any others it names. */
async function storeState(srv, repos) {
  const out = {};
  for (const r of repos) out[r] = await srv.store.currentState(r);
  return out;
}

/** Status and sha256 of every file a client could ask for (current, each version and one more, targets). */
export async function servedFiles(srv, repos = [NAME]) {
  const state = await storeState(srv, repos);
  const out = {};
  for (const repo of repos) {
    const names = ['root.json', '1.root.json', 'timestamp.key', 'snapshot.json', `targets/${LAYOUT}`];
    for (const [role, bytes] of Object.entries(state[repo])) {
      const enc = encodeURIComponent(role);
      const v = parseJson(bytes).signed.version;
      names.push(`${enc}.json`, `${enc}.${sha(bytes)}.json`);
      for (let n = 1; n <= v + 1; n++) names.push(`${n}.${enc}.json`);
    }
    for (const name of names) {
      const res = await fetch(`${trustBase(srv.url, repo)}/${name}`);
      const body = Buffer.from(await res.arrayBuffer());
      out[`${repo} ${name}`] = `${res.status} ${sha(body)}`;
    }
  }
  return { state, out };
}

/** `run()` leaves the stored state and every served file as they were. */
export async function assertNothingStored(srv, run, repos = [NAME]) {
  const before = await servedFiles(srv, repos);
  const result = await run();
  const after = await servedFiles(srv, repos);
  assert.deepEqual(after.state, before.state, 'the stored state changed');
  assert.deepEqual(after.out, before.out, 'a served file changed');
  return result;
}

/**
 * One request with the path exactly as given; resolves {status, headers, text, json}
 * (json undefined when the body is not JSON). `body` a Buffer or string.
 */
export function rawRequest(srv, { method = 'GET', path, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, method, path, headers, insecureHTTPParser: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** The answer is the error envelope with `status` and `code`, one line; returns the error. */
export function assertEnvelope(res, status, code, what = '') {
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  assert.ok(res.json !== undefined, `${what}: not JSON: ${res.text.slice(0, 200)}`);
  assert.deepEqual(Object.keys(res.json), ['errors'], what);
  const [e] = res.json.errors;
  assert.equal(e.code, code, `${what}: ${e.message}`);
  assert.equal(typeof e.message, 'string');
  assert.doesNotMatch(e.message, /\n/);
  return e;
}

/** A multipart/form-data body (boundary `b`) of raw parts: {field, filename, bytes, headers}. */
export function multipart(parts, { end = true, boundary = 'b' } = {}) {
  const chunks = [];
  for (const p of parts) {
    const fn = p.filename === undefined ? '' : `; filename="${p.filename}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.field ?? 'files'}"${fn}\r\n` +
          `${p.headers ?? 'Content-Type: application/octet-stream\r\n'}\r\n`,
        'latin1',
      ),
      Buffer.from(p.bytes),
      Buffer.from('\r\n'),
    );
  }
  if (end) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** POST a raw multipart body to NAME (or `repo`). */
export function postMultipart(srv, body, { repo = NAME, boundary = 'b', headers = {} } = {}) {
  return rawRequest(srv, {
    method: 'POST',
    path: `/v2/${repo}/_trust/tuf/`,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...headers },
    body,
  });
}

/** An upload's parts ({role|path, bytes}) as raw multipart parts, Notary's field names. */
export const asParts = (files) =>
  files.map((f) =>
    f.role !== undefined
      ? { field: 'files', filename: f.role, bytes: f.bytes }
      : { field: 'target', filename: f.path, bytes: f.bytes },
  );
