// Uploads through the HTTP app (src/server/routes-upload.ts, ADR 0023): real repositories made
// with the library (../helpers/sim.js) uploaded as Notary sends them (multipart, `files` parts
// named by role, `target` parts by path) to the ServiceDouble, whose publish runs the real
// validateUpload; then served back byte for byte. Refusals, size limits, malformed bodies,
// wrong fields and content types in the envelope; /metrics after accepted and refused uploads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createMetrics } from '../../dist/server/metrics.js';
import { ServerError } from '../../dist/server/errors.js';
import { assertEnvelope, form, postUpload, startApp, TRUST } from '../helpers/app.js';
import { NAME, Sim } from '../helpers/sim.js';
import { LAYOUT, changedRoles, stateOf } from '../helpers/upload.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const parts = (state) => Object.entries(state).map(([role, bytes]) => ({ role, bytes }));

/** A new repository uploaded (all four roles): the app, the sim and what was uploaded. */
async function published(t, options) {
  const s = await startApp(t, options);
  const sim = await Sim.create(t);
  const state = stateOf(sim);
  const res = await postUpload(s.app, NAME, parts(state));
  assert.equal(res.statusCode, 200, res.body);
  return { ...s, sim, state, res };
}

test('accepted: a new repository, stored and served back byte for byte', async (t) => {
  const { app, state, res } = await published(t);
  assert.equal(res.headers['cache-control'], 'no-store');
  const result = res.json();
  assert.equal(result.repo, NAME);
  assert.deepEqual(
    result.stored.map((s) => [s.role, s.version, s.sha256, s.length]),
    ['root', 'targets', 'snapshot', 'timestamp'].map((r) => [r, 1, sha(state[r]), state[r].length]),
  );
  assert.deepEqual(result.targetFiles, []);
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    const r = await app.inject(`${TRUST(NAME)}${role}.json`);
    assert.ok(r.rawPayload.equals(state[role]), role);
    const v = await app.inject(`${TRUST(NAME)}1.${role}.json`);
    assert.ok(v.rawPayload.equals(state[role]), role);
  }
});

test('accepted: a delegated role (file name with /, .json tolerated) and an in-toto target file', async (t) => {
  const { app, sim, state } = await published(t);
  sim.delegateReleases(1);
  const content = '{"_type":"layout","steps":[]}';
  sim.addFile(LAYOUT, content);
  await sim.publish();
  const after = stateOf(sim);
  const upload = changedRoles(state, after).map((p) =>
    p.role === 'targets/releases' ? { role: 'targets/releases.json', bytes: p.bytes } : p,
  );
  const res = await postUpload(app, NAME, [...upload, { path: LAYOUT, bytes: Buffer.from(content) }]);
  assert.equal(res.statusCode, 200, res.body);
  const result = res.json();
  assert.ok(result.stored.some((s) => s.role === 'targets/releases' && s.version === 1));
  assert.deepEqual(result.targetFiles, [{ path: LAYOUT, sha256: sha(content), length: content.length }]);
  const rel = after['targets/releases'];
  for (const name of ['1.targets%2Freleases.json', '1.targets/releases.json', 'targets%2Freleases.json']) {
    const r = await app.inject(`${TRUST(NAME)}${name}`);
    assert.equal(r.statusCode, 200, name);
    assert.ok(r.rawPayload.equals(rel), name);
  }
  const file = await app.inject(`${TRUST(NAME)}targets/${LAYOUT}`);
  assert.equal(file.body, content);
  const dir = LAYOUT.slice(0, LAYOUT.lastIndexOf('/'));
  const byHash = await app.inject(`${TRUST(NAME)}targets/${dir}/${sha(content)}.root.layout`);
  assert.equal(byHash.body, content);
  assert.equal(byHash.headers['cache-control'], 'public, max-age=2592000, immutable');
});

test('refused: 400 UPLOAD_REFUSED, detail the refusal; nothing stored', async (t) => {
  const { app, state, service } = await published(t);
  const res = await postUpload(app, NAME, parts(state));
  const e = assertEnvelope(res, 400, 'UPLOAD_REFUSED');
  assert.equal(e.detail.code, 'OLD_VERSION');
  assert.equal(typeof e.detail.role, 'string');
  assert.equal(typeof e.detail.rule, 'string');
  assert.equal(e.detail.message, e.message);
  assert.equal(service.repos.get(NAME).meta.get('root').length, 1);
  // an empty multipart body is an empty upload, refused by validation
  const empty = await app.inject({
    method: 'POST',
    url: TRUST(NAME),
    payload: '--b--\r\n',
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  });
  assert.equal(assertEnvelope(empty, 400, 'UPLOAD_REFUSED').detail.rule, 'empty-upload');
  // a conflict and a busy store from the service
  service.failWith('publish', new ServerError('VERSION_CONFLICT', 'root v2 was taken by another upload'));
  assertEnvelope(await postUpload(app, NAME, parts(state)), 409, 'VERSION_CONFLICT');
  service.failWith('publish', new ServerError('STORE_BUSY', 'busy'));
  const busy = await postUpload(app, NAME, parts(state));
  assertEnvelope(busy, 503, 'STORE_BUSY');
  assert.equal(busy.headers['retry-after'], '1');
});

test('too large: a part above its limit, a body above the body limit (announced or streamed) → 413', async (t) => {
  const limits = { role: 1000, targets: 2000, targetFile: 500 };
  const { app, service } = await startApp(t, { limits, bodyLimit: 4000 });
  const big = (n) => Buffer.alloc(n, 0x61);
  for (const [p, part] of [
    [{ role: 'root', bytes: big(1001) }, 'root'],
    [{ role: 'targets', bytes: big(2001) }, 'targets'],
    [{ path: `${NAME}/in-toto-metadata/a.link`, bytes: big(501) }, `${NAME}/in-toto-metadata/a.link`],
  ]) {
    const res = await postUpload(app, NAME, [p]);
    assert.equal(assertEnvelope(res, 413, 'TOO_LARGE').detail.part, part);
    assert.equal(res.headers.connection, 'close');
  }
  // targets may be larger than other roles: 1500 bytes pass the HTTP layer (validation refuses the bytes)
  assertEnvelope(await postUpload(app, NAME, [{ role: 'targets', bytes: big(1500) }]), 400, 'UPLOAD_REFUSED');
  const many = Array.from({ length: 5 }, (_, i) => ({ role: `targets/r${i}`, bytes: big(900) }));
  const announced = assertEnvelope(await postUpload(app, NAME, many), 413, 'TOO_LARGE');
  assert.match(announced.message, /^the upload of \d+ bytes is above the body limit of 4000$/);
  // the same body streamed without a Content-Length is cut at the body limit while reading
  const body = await form(many);
  const streamed = await app.inject({
    method: 'POST',
    url: TRUST(NAME),
    payload: Readable.from([body.payload.subarray(0, 1000), body.payload.subarray(1000)]),
    headers: body.headers,
  });
  const cut = assertEnvelope(streamed, 413, 'TOO_LARGE');
  assert.match(cut.message, /above the body limit while reading "targets\/r4"/);
  // more than 10 000 parts
  const parts10k = Array.from({ length: 10_001 }, (_, i) => ({
    path: `${NAME}/in-toto-metadata/${i}.link`,
    bytes: 'x',
  }));
  const { app: roomy } = await startApp(t);
  const overCount = assertEnvelope(await postUpload(roomy, NAME, parts10k), 413, 'TOO_LARGE');
  assert.match(overCount.detail.reason, /^FST_(FILES|PARTS)_LIMIT$/);
  assert.equal(service.calls.filter(([m]) => m === 'publish').length, 1);
});

test('malformed multipart, wrong fields and non-multipart uploads → 400 or 415 in the envelope', async (t) => {
  const { app, service } = await startApp(t);
  const post = (payload, type) =>
    app.inject({ method: 'POST', url: TRUST(NAME), payload, headers: type ? { 'content-type': type } : {} });
  const truncated = (await form([{ role: 'root', bytes: Buffer.from('{}') }])).payload.subarray(0, 60);
  const boundary = (await form([{ role: 'root', bytes: Buffer.from('{}') }])).headers['content-type'];
  assert.equal(assertEnvelope(await post(truncated, boundary), 400, 'BAD_REQUEST').detail.part, 'body');
  assertEnvelope(await post('garbage', 'multipart/form-data'), 400, 'BAD_REQUEST');
  assertEnvelope(await post('x', 'multipart/form-data; boundary=zz'), 400, 'BAD_REQUEST');
  const wrong = await postUpload(app, NAME, [{ field: 'file', name: 'root', bytes: Buffer.from('{}') }]);
  const e = assertEnvelope(wrong, 400, 'BAD_REQUEST');
  assert.equal(e.detail.part, 'field');
  assert.equal(e.detail.field, 'file');
  assertEnvelope(await postUpload(app, NAME, [{ field: 'files', value: 'root' }]), 400, 'BAD_REQUEST');
  const noName = '--b\r\nContent-Disposition: form-data; name="files"; filename=""\r\n\r\n{}\r\n--b--\r\n';
  const unnamed = assertEnvelope(await post(noName, 'multipart/form-data; boundary=b'), 400, 'BAD_REQUEST');
  assert.equal(unnamed.detail.part, 'filename');
  assertEnvelope(await post('{"root":1}', 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertEnvelope(await post('root', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertEnvelope(await post('root', 'application/octet-stream'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertEnvelope(await post(undefined), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertEnvelope(await post('{"root":', 'application/json'), 400, 'BAD_REQUEST');
  assertEnvelope(await post('x'.repeat(70 << 10), 'application/json'), 413, 'TOO_LARGE');
  assert.equal(service.calls.filter(([m]) => m === 'publish').length, 0);
});

test('/metrics: route patterns (no repository names), upload counters, default metrics', async (t) => {
  const { app, state, metrics } = await published(t);
  assert.equal((await postUpload(app, NAME, parts(state))).statusCode, 400);
  await app.inject(`${TRUST(NAME)}root.json`);
  await app.inject(`${TRUST(NAME)}1.targets%2Fx.json`);
  await app.inject('/nope/at/all');
  const res = await app.inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'], /^text\/plain/);
  const text = res.body;
  assert.match(text, /cnabsec_uploads_total\{result="accepted",reason=""\} 1/);
  assert.match(text, /cnabsec_uploads_total\{result="refused",reason="OLD_VERSION"\} 1/);
  assert.match(
    text,
    /http_requests_total\{route="\/v2\/:repo\/_trust\/tuf\/",method="POST",status="200"\} 1/,
  );
  assert.match(
    text,
    /http_requests_total\{route="\/v2\/:repo\/_trust\/tuf\/",method="POST",status="400"\} 1/,
  );
  assert.match(
    text,
    /http_requests_total\{route="\/v2\/:repo\/_trust\/tuf\/:role.json",method="GET",status="200"\} 1/,
  );
  assert.match(text, /route="\/v2\/:repo\/_trust\/tuf\/:version.:role.json",method="GET",status="404"/);
  assert.match(text, /http_requests_total\{route="unmatched",method="GET",status="404"\} 1/);
  assert.match(text, /http_request_duration_seconds_bucket\{le="[0-9.]+",route="\/v2\/:repo\/_trust\/tuf\/"/);
  assert.match(text, /process_cpu_user_seconds_total/);
  assert.doesNotMatch(text, /example\.com|nope|targets%2F/);
  // refreshes and signatures are counted from the service's events; registries are separate
  metrics.events.refreshed(NAME, 'timestamp');
  metrics.events.signed(NAME, 'snapshot');
  const after = (await metrics.render()).body;
  assert.match(after, /cnabsec_refreshes_total\{role="timestamp"\} 1/);
  assert.match(after, /cnabsec_signatures_total\{role="snapshot"\} 1/);
  assert.doesNotMatch((await createMetrics().render()).body, /cnabsec_uploads_total\{/);
});
