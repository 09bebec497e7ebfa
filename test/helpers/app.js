// The metadata repository's HTTP app under test (test/server/app*.test.js): built on the
// in-memory ServiceDouble with its own metrics, closed by the test; multipart bodies as Notary
// sends them (FormData, fields `files` and `target`); the error envelope checked in one place.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildApp } from '../../dist/server/app.js';
import { createMetrics } from '../../dist/server/metrics.js';
import { ServiceDouble } from './service-double.js';

/** An app on a fresh ServiceDouble (or `service`), its metrics and the log lines it wrote. */
export async function startApp(t, { service, limits, ...options } = {}) {
  const metrics = createMetrics();
  const svc = service ?? new ServiceDouble({ events: metrics.events, limits });
  const lines = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const app = await buildApp({ service: svc, metrics, logger, ...options });
  t.after(() => app.close());
  return { app, service: svc, metrics, lines };
}

/**
 * A multipart/form-data body: `files` parts `{role, bytes}` (file name the role), `target`
 * parts `{path, bytes}`, or `{field, name, bytes}` / `{field, value}` for other parts.
 */
export async function form(parts) {
  const fd = new FormData();
  for (const p of parts) {
    if (p.value !== undefined) fd.append(p.field, p.value);
    else if (p.role !== undefined) fd.append('files', new Blob([p.bytes]), p.role);
    else if (p.path !== undefined) fd.append('target', new Blob([p.bytes]), p.path);
    else fd.append(p.field, new Blob([p.bytes]), p.name);
  }
  const req = new Request('http://x/', { method: 'POST', body: fd });
  return {
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type') },
  };
}

export const TRUST = (repo) => `/v2/${repo}/_trust/tuf/`;

/** POST an upload of `parts` to `repo` through inject. */
export async function postUpload(app, repo, parts, headers = {}) {
  const body = await form(parts);
  return app.inject({
    method: 'POST',
    url: TRUST(repo),
    payload: body.payload,
    headers: { ...body.headers, ...headers },
  });
}

/** The response is the error envelope with `status` and `code`, never cached, no stack trace. */
export function assertEnvelope(res, status, code) {
  const body = res.body ?? '';
  assert.equal(res.statusCode, status, body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.equal(res.headers['cache-control'], 'no-store');
  const json = JSON.parse(body);
  assert.deepEqual(Object.keys(json), ['errors']);
  assert.equal(json.errors.length, 1);
  const [e] = json.errors;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'detail', 'message']);
  assert.equal(e.code, code, e.message);
  assert.equal(typeof e.message, 'string');
  assert.doesNotMatch(e.message, /\n/);
  assert.doesNotMatch(body, /\s+at\s+\S+\s+\(|node:internal|\.js:\d+/);
  return e;
}
